# seismake: `make demo` runs the whole enabled workflow on the embedded demo,
# `make test` runs the test suite. Both create .venv first if it is missing.

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
CORES ?= all

.PHONY: demo test lint report clean

$(BIN)/snakemake: pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	# torch first, pinned, so that no CUDA build is pulled by a later resolution
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -c constraints.txt -e ".[test,ml]"
	touch $@

demo: $(BIN)/snakemake
	$(BIN)/snakemake --cores $(CORES)

test: $(BIN)/snakemake
	$(BIN)/python -m pytest -q

lint: $(BIN)/snakemake
	$(BIN)/ruff check src scripts tests benchmarks
	$(BIN)/snakefmt --check Snakefile rules
	$(BIN)/snakemake --lint

report: $(BIN)/snakemake
	$(BIN)/snakemake --report report.html

clean:
	rm -rf results logs resources report.html .snakemake
