# Two entry points for a fresh machine: `make build` (set up, then build the example
# organization) and `make test`. Everything else is a helper of those two.
VENV ?= .venv
PYTHON ?= python3
BIN = $(VENV)/bin

.PHONY: setup build test bench clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -e '.[dev,dask]'
	touch $@

build: setup
	$(BIN)/orchestrate build //...

test: setup
	$(BIN)/pytest

bench: setup
	$(BIN)/python benchmarks/run.py

clean:
	$(BIN)/orchestrate clean
