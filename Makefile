# mmdial: `make demo` and `make test` are the whole set-up (see README.md).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO := demo-out

.PHONY: venv demo test lint bench clean fonts

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[dev]"
	touch $@

demo: venv fonts
	rm -rf $(DEMO)
	$(BIN)/mmdial generate mmd --out $(DEMO)/raw/mmd --dialogs 300 --bad 5 --seed 1
	$(BIN)/mmdial build mmd --raw $(DEMO)/raw/mmd --states $(DEMO)/raw/mmd/states.jsonl --out $(DEMO)/mmd-v2
	$(BIN)/mmdial build mmd --v3 --raw $(DEMO)/raw/mmd --states $(DEMO)/raw/mmd/states.jsonl --out $(DEMO)/mmd-v3
	$(BIN)/mmdial select mmd --from $(DEMO)/mmd-v2 --out $(DEMO)/mmd-v3-proposal.jsonl
	$(BIN)/mmdial inspect $(DEMO)/mmd-v3 --rows 1
	$(BIN)/python benchmarks/privacy_gen.py --out $(DEMO)/raw/privacy --n 12 --seed 1 && $(BIN)/mmdial mask --in $(DEMO)/raw/privacy/images --categories $(DEMO)/raw/privacy/image_categories.jsonl --out $(DEMO)/privacy-masked

# CJK fonts for the privacy generator and tests (Debian fonts-noto-cjk); skipped where not installable
CJK_FONT := /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc
fonts:
	@test -f $(CJK_FONT) || { command -v apt-get >/dev/null && SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ) && \
	  ( $$SUDO apt-get install -y -q fonts-noto-cjk || ( $$SUDO apt-get update -q && $$SUDO apt-get install -y -q fonts-noto-cjk ) ); } \
	  || echo "warning: fonts-noto-cjk not installed; the privacy generator tests will be skipped"

test: venv fonts
	$(BIN)/python -m pytest

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: venv
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(DEMO) .pytest_cache
