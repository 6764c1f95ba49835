# Two commands, each from nothing: `make demo` runs the main job, `make test` runs the test suite.
PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python
PIP     = $(PY) -m pip
STAMP   = $(VENV)/.installed

.PHONY: demo test bench clean catalog browser postgres

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet -c constraints.txt -e '.[dev,torch,nvidia,plot,compress,demo,ray,hf,integrations,postgres,prometheus]'
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/wattwise demo

test: $(STAMP) browser postgres
	$(PY) -m pytest -q -n 2

# Debian's chromium for the report's headless-browser test; best effort (the test skips, saying why, without it).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	      || echo "could not install chromium: the HTML browser test will skip"; \
	  else echo "chromium not installed (needs root and apt-get): the HTML browser test will skip"; fi; }

# Debian's PostgreSQL server binaries for the team-ledger tests (each test session starts a throwaway server on
# 127.0.0.1 itself, tests/ledger/conftest.py); best effort, like the browser.
postgres:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null) \
	      || echo "could not install postgresql: the PostgreSQL ledger tests will skip"; \
	  else echo "postgresql not installed (needs root and apt-get): the PostgreSQL ledger tests will skip"; fi; }

bench: $(STAMP)
	$(PIP) install --quiet -c constraints.txt -r benchmarks/requirements.txt
	for b in benchmarks/*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

catalog: $(STAMP)
	$(PY) scripts/derive_catalog.py

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info
