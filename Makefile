# mmdial: `make demo` and `make test` are the whole set-up (see README.md).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO := demo-out

.PHONY: venv fonts demo test lint bench clean

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[dev]"
	touch $@

# Noto Sans CJK for the JDDC generator's rendered image text (it falls back to ASCII without it).
CJK_FONT := /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc
fonts:
	@test -f $(CJK_FONT) || apt-get install -y fonts-noto-cjk || echo "fonts-noto-cjk not installed: JDDC images will carry ASCII text"

demo: venv fonts
	rm -rf $(DEMO)
	$(BIN)/mmdial generate mmd --out $(DEMO)/raw/mmd --dialogs 300 --bad 5 --seed 1
	$(BIN)/mmdial build mmd --raw $(DEMO)/raw/mmd --states $(DEMO)/raw/mmd/states.jsonl --out $(DEMO)/mmd-v2
	$(BIN)/mmdial build mmd --v3 --raw $(DEMO)/raw/mmd --states $(DEMO)/raw/mmd/states.jsonl --out $(DEMO)/mmd-v3
	$(BIN)/mmdial select mmd --from $(DEMO)/mmd-v2 --out $(DEMO)/mmd-v3-proposal.jsonl
	$(BIN)/mmdial inspect $(DEMO)/mmd-v3 --rows 1
	$(BIN)/mmdial generate jddc --out $(DEMO)/raw/jddc --sessions 300 --bad 11 --seed 1 && $(BIN)/mmdial build jddc --raw $(DEMO)/raw/jddc --out $(DEMO)/jddc

test: venv fonts
	$(BIN)/python -m pytest

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: venv
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(DEMO) .pytest_cache
