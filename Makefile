# Two commands from a fresh clone: `make demo` and `make test`. Both build .venv/ themselves.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint venv clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/parkland demo --out out/demo
	$(BIN)/parkland map out/demo --per-park --out maps/demo

test: $(STAMP)
	$(BIN)/ruff check parkland tests benchmarks notebooks
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check parkland tests benchmarks notebooks

clean:
	rm -rf $(VENV) out build dist *.egg-info
