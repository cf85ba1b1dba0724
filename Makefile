# mmdial: `make demo` and `make test` are the whole set-up (see README.md).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO := demo-out

.PHONY: venv demo test lint bench clean

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[dev]"
	touch $@

demo: venv
	rm -rf $(DEMO)
	$(BIN)/mmdial generate mmd --out $(DEMO)/raw/mmd --dialogs 300 --bad 5 --seed 1
	$(BIN)/mmdial build mmd --raw $(DEMO)/raw/mmd --states $(DEMO)/raw/mmd/states.jsonl --out $(DEMO)/mmd-v2
	$(BIN)/mmdial build mmd --v3 --raw $(DEMO)/raw/mmd --states $(DEMO)/raw/mmd/states.jsonl --out $(DEMO)/mmd-v3
	$(BIN)/mmdial select mmd --from $(DEMO)/mmd-v2 --out $(DEMO)/mmd-v3-proposal.jsonl
	$(BIN)/mmdial inspect $(DEMO)/mmd-v3 --rows 1
	$(BIN)/mmdial train semantic --config smoke data=$(DEMO)/mmd-v2 output_dir=$(DEMO)/runs/semantic && $(BIN)/mmdial evaluate semantic --run $(DEMO)/runs/semantic

test: venv
	$(BIN)/python -m pytest

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: venv
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(DEMO) .pytest_cache
