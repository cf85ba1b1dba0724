# mmdial: `make demo` and `make test` are the whole set-up (see README.md).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Label Studio has its own virtualenv: its pins fight Beam's (annotation/server.py finds it, or $$MMDIAL_LABEL_STUDIO)
VENV_LS := .venv-ls
LABEL_STUDIO_SPEC ?= label-studio>=1.23,<2
DEMO := demo-out

.PHONY: venv demo test lint bench clean fonts chromium

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[dev]"
	touch $@

$(VENV_LS)/.installed:
	test -x $(VENV_LS)/bin/python || $(PYTHON) -m venv $(VENV_LS)
	$(VENV_LS)/bin/pip install -q --upgrade pip
	$(VENV_LS)/bin/pip install -q "$(LABEL_STUDIO_SPEC)"
	touch $@

demo: venv fonts
	rm -rf $(DEMO)
	$(BIN)/mmdial generate mmd --out $(DEMO)/raw/mmd --dialogs 300 --bad 5 --seed 1
	$(BIN)/mmdial build mmd --raw $(DEMO)/raw/mmd --states $(DEMO)/raw/mmd/states.jsonl --out $(DEMO)/mmd-v2
	$(BIN)/mmdial build mmd --v3 --raw $(DEMO)/raw/mmd --states $(DEMO)/raw/mmd/states.jsonl --out $(DEMO)/mmd-v3
	$(BIN)/mmdial select mmd --from $(DEMO)/mmd-v2 --out $(DEMO)/mmd-v3-proposal.jsonl
	$(BIN)/mmdial inspect $(DEMO)/mmd-v3 --rows 1
	$(BIN)/mmdial generate redial --out $(DEMO)/raw/redial --dialogs 300 --bad 6 --seed 1
	$(BIN)/mmdial build redial --raw $(DEMO)/raw/redial --out $(DEMO)/redial
	$(BIN)/mmdial train mese --config mese_smoke data=$(DEMO)/redial output_dir=$(DEMO)/runs/mese && $(BIN)/mmdial evaluate mese --run $(DEMO)/runs/mese
	$(BIN)/python benchmarks/privacy_gen.py --out $(DEMO)/raw/privacy --n 12 --seed 1 && $(BIN)/mmdial mask --in $(DEMO)/raw/privacy/images --categories $(DEMO)/raw/privacy/image_categories.jsonl --out $(DEMO)/privacy-masked
	$(BIN)/mmdial generate simmc --out $(DEMO)/raw/simmc --dialogs 200 --bad 5 --seed 1 && $(BIN)/mmdial build simmc --raw $(DEMO)/raw/simmc --out $(DEMO)/simmc
	$(BIN)/mmdial generate jddc --out $(DEMO)/raw/jddc --sessions 300 --bad 11 --seed 1 && $(BIN)/mmdial build jddc --raw $(DEMO)/raw/jddc --out $(DEMO)/jddc --mask-images
	$(BIN)/python tools/check_integrity.py $(DEMO)
	$(BIN)/mmdial train semantic --config smoke data=$(DEMO)/mmd-v2 output_dir=$(DEMO)/runs/semantic && $(BIN)/mmdial evaluate semantic --run $(DEMO)/runs/semantic

# CJK fonts for the JDDC and privacy generators and their tests (Debian fonts-noto-cjk); skipped where not installable
CJK_FONT := /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc
fonts:
	@test -f $(CJK_FONT) || { command -v apt-get >/dev/null && SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ) && \
	  ( $$SUDO apt-get install -y -q fonts-noto-cjk || ( $$SUDO apt-get update -q && $$SUDO apt-get install -y -q fonts-noto-cjk ) ); } \
	  || echo "warning: fonts-noto-cjk not installed; the privacy generator tests will be skipped"

# headless Chromium for the annotation pages' browser tests (Debian's chromium; Playwright drives it and never downloads its own)
CHROMIUM := /usr/bin/chromium
chromium:
	@test -x $(CHROMIUM) || { command -v apt-get >/dev/null && SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ) && \
	  ( $$SUDO apt-get install -y -q chromium || ( $$SUDO apt-get update -q && $$SUDO apt-get install -y -q chromium ) ); } \
	  || echo "warning: chromium not installed; the annotation browser tests will fail"

test: venv fonts chromium $(VENV_LS)/.installed
	$(BIN)/python -m pytest

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: venv
	$(BIN)/python -m benchmarks.run_all

clean:
	rm -rf $(DEMO) .pytest_cache
