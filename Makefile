# Two commands, each from nothing: `make demo` runs the main job, `make test` runs the test suite.
PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python
PIP     = $(PY) -m pip
STAMP   = $(VENV)/.installed

.PHONY: demo test bench clean catalog

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet -c constraints.txt -e '.[dev,torch,nvidia,plot]'
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/wattwise demo

test: $(STAMP)
	$(PY) -m pytest -q -n 2

bench: $(STAMP)
	$(PIP) install --quiet -c constraints.txt -r benchmarks/requirements.txt
	for b in benchmarks/*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

catalog: $(STAMP)
	$(PY) scripts/derive_catalog.py

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info
