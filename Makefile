# Two commands a new user needs: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEVSTAMP := $(VENV)/.installed-dev

.PHONY: demo test typecheck lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e .
	touch $(STAMP)

$(DEVSTAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP) $(DEVSTAMP)

demo: $(STAMP)
	$(BIN)/ciyuan demo

typecheck: $(DEVSTAMP)
	$(BIN)/python -m mypy

lint: $(DEVSTAMP)
	$(BIN)/python -m ruff check src tests benchmarks

test: $(DEVSTAMP)
	$(BIN)/python -m ruff check src tests benchmarks
	$(BIN)/python -m mypy
	$(BIN)/python -m pytest -n 2 -q; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo 'pytest collected no tests: that is a failure' >&2; exit 1; fi; exit $$rc

bench: $(DEVSTAMP)
	$(BIN)/python benchmarks/bench_measure.py

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .hypothesis
