# Response Desk: `make run` starts the product, `make test` passes the suite.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PORT   ?= 8501
# Test processes (pytest-xdist). Much of the suite waits on subprocesses, servers, browsers and timers,
# so four processes keep a 2-core machine busy (measured on one, 839 tests: 2 -> 1158 s, 4 -> 701 s).
# The long tests start first and each browser module stays in one process (tests/conftest.py); two of
# the three CPU-bound pipeline tests run one after another (tests/faults/pipeline.py). The fault tests'
# printed figures are then measured beside other tests (run `pytest -s tests/faults` alone for quiet figures).
TEST_WORKERS ?= 4

APEX   := tools/apex

.PHONY: run test audit install install-dev apex-tools apex-policy migrate clean

$(PY):
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	  { echo "Python 3.11 or newer is needed (set PYTHON=...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# Reinstall only when a requirements file changed.
$(VENV)/.runtime: $(PY) requirements.txt constraints.txt
	$(PY) -m pip install --quiet -r requirements.txt -c constraints.txt
	@touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt -c constraints.txt
	@touch $@

# The Apex checks' npm packages (tools/apex: the Apex grammar and PMD), reinstalled only when the lock
# file changed. Without npm they are left out and the Apex tests skip; CI installs npm and runs them.
$(APEX)/node_modules/.installed: $(APEX)/package.json $(APEX)/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
	  cd $(APEX) && npm ci --no-audit --no-fund --loglevel=error && touch node_modules/.installed; \
	else echo "npm not found: the Apex checks will be skipped (apt-get install nodejs npm)"; fi

install: $(VENV)/.runtime
install-dev: $(VENV)/.dev
apex-tools: $(APEX)/node_modules/.installed

# The emulator's copy of ResponseDeskPolicy.cls's constants, read through the Apex grammar.
apex-policy: apex-tools
	node $(APEX)/constants.mjs salesforce/force-app/main/default/classes/ResponseDeskPolicy.cls > sf_emulator/apex_policy.json

migrate: install
	$(PY) -m core migrate

run: migrate
	$(PY) -m core run --port $(PORT) --demo auto

test: install-dev apex-tools
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadgroup

# Known vulnerabilities in the pinned dependencies (security/audit.py). Not part of `make test` or CI:
# it asks pip-audit and the package registry, so its answer changes with the day's advisories.
# Exit status 0 pass, 1 a vulnerability not accepted in security/accepted.toml, 2 could not run.
audit: install-dev
	$(PY) -m security.audit

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis $(APEX)/node_modules
