# The two commands of the README: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
RUN_STAMP := $(VENV)/.installed-run
TEST_STAMP := $(VENV)/.installed-test
ARGS ?=

.PHONY: test run lint bench bench-journal crash-test soak clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# The package alone: what `make run` needs.
$(RUN_STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e .
	touch $(RUN_STAMP)

# With its test extras. cbpro 1.1.4 pins dependencies that no longer build, so it is
# installed without them (its real needs are in the test extras).
$(TEST_STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[test]'
	$(PY) -m pip install --quiet --no-deps 'cbpro==1.1.4'
	touch $(RUN_STAMP) $(TEST_STAMP)

test: $(TEST_STAMP)
	$(PY) -m ruff check sandex tests bench
	$(PY) -m mypy
	$(PY) -m mypy --strict sandex/core sandex/journal sandex/node
	$(PY) -m pytest -n 2 -p no:cacheprovider

# The venue on http://127.0.0.1:8000 with data in ./sandex-data; extra flags: make run ARGS="..."
run: $(RUN_STAMP)
	$(VENV)/bin/sandex serve $(ARGS)

lint: $(TEST_STAMP)
	$(PY) -m ruff check sandex tests bench
	$(PY) -m mypy
	$(PY) -m mypy --strict sandex/core sandex/journal sandex/node

bench: $(TEST_STAMP)
	$(PY) bench/engine.py

bench-journal: $(TEST_STAMP)
	$(PY) bench/journal.py

# kill -9 a busy server 100 times and check what survived (a few rounds run in `make test`).
crash-test: $(TEST_STAMP)
	$(PY) -m tests.support.crash_kit --kills 100

# 500 abusive connections for 60 s while a client trades: p99 < 10 ms, memory flat
# (a 10-second version runs in `make test`).
soak: $(TEST_STAMP)
	$(PY) -m tests.support.soak_kit --seconds 60 --connections 500

clean:
	rm -rf $(VENV) build *.egg-info
