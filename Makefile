# Two commands set everything up on a fresh machine (Python 3.11+ and make):
#   make run   - virtual environment, install, a sandbox network on SQLite (network-hub demo), run the hub
#   make test  - the same set-up with the dev tools, then the whole test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Two xdist workers: the suite (about 2,200 tests, real processes and two databases) takes ~11 min on
# 2 cores that way; PYTEST_ARGS="-p no:xdist" runs it in one process.
PYTEST_ARGS ?= -n 2

.PHONY: run serve test lint install clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/network-hub demo

serve: $(STAMP)
	$(BIN)/network-hub init
	$(BIN)/network-hub run

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# R1-R5 on SQLite and (with HUB_TEST_DATABASE_URL or RELIABILITY_ARGS="--pg URL") PostgreSQL;
# rewrites docs/RELIABILITY.md. RELIABILITY_ARGS="--quick" for smaller counts.
RELIABILITY_ARGS ?=
reliability: $(STAMP)
	$(BIN)/python -m reliability.run $(RELIABILITY_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) hub-data hub-demo .pytest_cache
