# The two commands of the README: `make run` and `make test`. Everything else is a helper.
# The Python the venvs are made with: python3, or another CPython of its version on this machine
# that has libpython linked in when python3's is a shared library (the same code runs faster on
# it: scripts/pick_python.py says which and why). make PYTHON=python3 ... to choose yourself.
PYTHON ?= $(shell python3 scripts/pick_python.py || echo python3)
VENV ?= .venv
PY := $(VENV)/bin/python
RUN_STAMP := $(VENV)/.installed-run
CORE_BUILD := $(VENV)/.built-core
TEST_STAMP := $(VENV)/.installed-test
CLUSTER_STAMP := $(VENV)/.installed-cluster
ARGS ?=
SANDEX_PGO ?= 1

.PHONY: test run lint pgo bench bench-books bench-recovery bench-journal bench-ui crash-test soak clean browser ui-assets \
    ui-screenshot cluster-test cluster-up bench-cluster

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip setuptools

# The package alone: what `make run` needs.
$(RUN_STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e .
	touch $(RUN_STAMP)

# With the cluster extra (NATS client and server): what `make cluster-up` needs.
$(CLUSTER_STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[cluster]'
	touch $(RUN_STAMP) $(CLUSTER_STAMP)

# The compiled core (setup.py): rebuilt when a compiled module or its .pxd changes. Without a
# C compiler it says so and the pure-Python modules run (sandex/native.py decides at import).
$(CORE_BUILD): $(wildcard sandex/core/*.py sandex/core/*.pxd) sandex/node/applying.py $(wildcard sandex/node/*.pxd) \
		sandex/views/fills.py sandex/views/ledger.py sandex/views/market.py sandex/views/orders.py \
		$(wildcard sandex/views/*.pxd) \
		sandex/api/fix/codec.py sandex/api/fix/reports.py sandex/api/fix/reporter.py \
		sandex/api/fix/framing.py sandex/api/fix/framing.pxd \
		sandex/views/history.py sandex/views/history.pxd \
		sandex/journal/rows.pyx sandex/native.py setup.py \
		| $(RUN_STAMP)
	SANDEX_PGO=$(SANDEX_PGO) $(PY) setup.py --quiet build_ext --inplace
	touch $(CORE_BUILD)

# The compiled core is built profile-guided by default (setup.py, SANDEX_PGO=1): an instrumented
# build, the committed training run bench/pgo_train.py, the build again with its profile: ~5 %
# more engine commands/s and ~9 % faster recovery, for ~75 s more build (docs/performance.md).
# `make test SANDEX_PGO=0` builds plain (every module recompiles twice in a PGO build).
# `make pgo` rebuilds it profile-guided now.
pgo: | $(RUN_STAMP)
	SANDEX_PGO=1 $(PY) setup.py --quiet build_ext --inplace
	touch $(CORE_BUILD)

# With its test extras (which include the cluster extra). cbpro 1.1.4 pins dependencies that no longer build, so it is
# installed without them (its real needs are in the test extras).
$(TEST_STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[test]'
	$(PY) -m pip install --quiet --no-deps 'cbpro==1.1.4'
	touch $(RUN_STAMP) $(CLUSTER_STAMP) $(TEST_STAMP)

# The browser tests drive Debian's chromium (tests/ui): installed with apt when run as root
# (CI); anywhere else without it they are skipped, and pytest's summary says why.
browser:
	@if ! command -v chromium >/dev/null 2>&1 && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing chromium for the browser tests (apt-get install -y chromium)"; \
		(apt-get install -y -qq chromium >/dev/null 2>&1 || \
		 (apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq chromium >/dev/null 2>&1)) || \
		echo "could not install chromium: the browser tests will be skipped"; \
	fi

test: $(TEST_STAMP) $(CORE_BUILD) browser
	$(PY) -m ruff check sandex tests bench scripts
	$(PY) -m mypy --strict sandex tests/support
	$(PY) -m pytest -n 2 -p no:cacheprovider
	@echo "the core's tests again on its pure-Python modules (SANDEX_PURE_PYTHON=1):"
	SANDEX_PURE_PYTHON=1 $(PY) -m pytest -n 2 -p no:cacheprovider tests/core tests/replay/test_engine_rules.py

# The venue on http://127.0.0.1:8000 with data in ./sandex-data; extra flags: make run ARGS="..."
run: $(RUN_STAMP) $(CORE_BUILD)
	$(VENV)/bin/sandex serve $(ARGS)

lint: $(TEST_STAMP)
	$(PY) -m ruff check sandex tests bench scripts
	$(PY) -m mypy --strict sandex tests/support

bench: $(TEST_STAMP) $(CORE_BUILD)
	$(PY) bench/engine.py

# sandex's full core beside the PyPI order books (bench/books/requirements.txt), which are
# installed in their own environment, bench/books/.venv, never in sandex's.
BOOKS_PY := bench/books/.venv/bin/python
$(BOOKS_PY): bench/books/requirements.txt
	$(PYTHON) -m venv bench/books/.venv
	$(BOOKS_PY) -m pip install --quiet -r bench/books/requirements.txt
	touch $(BOOKS_PY)

bench-books: $(TEST_STAMP) $(CORE_BUILD) $(BOOKS_PY)
	$(PY) bench/books/run.py $(ARGS)

# Start-up on a data dir with no usable snapshot: replaying a journal of 1 M commands.
bench-recovery: $(TEST_STAMP) $(CORE_BUILD)
	$(PY) bench/recovery.py $(ARGS)

bench-journal: $(TEST_STAMP)
	$(PY) bench/journal.py

# The page under a 500 messages/s feed in headless Chromium: make bench-ui ARGS="--seconds 600"
bench-ui: $(TEST_STAMP) browser
	$(PY) bench/ui_feed.py $(ARGS)

# Re-fetch the page's chart library (pinned version and sha256 in the script).
ui-assets:
	$(PYTHON) scripts/fetch_ui_assets.py

# docs/ui.png: the page against a demo venue, in headless Chromium.
ui-screenshot: $(TEST_STAMP) browser
	$(PY) scripts/ui_screenshot.py

# kill -9 a busy server 100 times and check what survived (a few rounds run in `make test`).
crash-test: $(TEST_STAMP)
	$(PY) -m tests.support.crash_kit --kills 100

# The failover test (docs/cluster.md): a 3-server JetStream cluster, a leader and a standby,
# 100 rounds of kill -9 / SIGSTOP of the leader and kill -9 of a JetStream server (a few rounds
# run in `make test`).
cluster-test: $(TEST_STAMP)
	$(PY) -m tests.support.cluster_kit --rounds 100

# A local cluster to try: 3 JetStream servers and two sandex nodes (leader on :8000, standby on
# :8001) with data under ./sandex-cluster; Ctrl-C stops them all.
cluster-up: $(CLUSTER_STAMP)
	$(PY) -m sandex.cluster.up ./sandex-cluster $(ARGS)

# Durable signed order entry on the JetStream journal, and failover times (README figures).
bench-cluster: $(TEST_STAMP)
	$(PY) bench/cluster.py $(ARGS)

# 500 abusive connections for 60 s while a client trades: p99 < 10 ms, memory flat
# (a 10-second version runs in `make test`).
soak: $(TEST_STAMP)
	$(PY) -m tests.support.soak_kit --seconds 60 --connections 500

clean:
	rm -rf $(VENV) build *.egg-info sandex/core/*.c sandex/core/*.so sandex/core/*.html
