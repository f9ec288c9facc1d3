# The two commands of the README: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: test run lint bench bench-journal crash-test clean

# A virtualenv with the package and its test extras. cbpro 1.1.4 pins dependencies that no
# longer build, so it is installed without them (its real needs are in the test extras).
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	$(PY) -m pip install --quiet --no-deps 'cbpro==1.1.4'
	touch $(STAMP)

test: $(STAMP)
	$(PY) -m ruff check sandex tests bench
	$(PY) -m pytest -n 2 -p no:cacheprovider

lint: $(STAMP)
	$(PY) -m ruff check sandex tests bench

bench: $(STAMP)
	$(PY) bench/engine.py

bench-journal: $(STAMP)
	$(PY) bench/journal.py

# kill -9 a busy server 100 times and check what survived (a few rounds run in `make test`).
crash-test: $(STAMP)
	$(PY) tests/crash_kit.py --kills 100

run: $(STAMP)
	$(VENV)/bin/sandex serve

clean:
	rm -rf $(VENV) build *.egg-info
