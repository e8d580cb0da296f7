# Robotrace: `make run` for the demo, `make test` for the suite. Only Python 3.11 is needed.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test install lint typecheck e2e clean bench-all

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is required (set PYTHON=...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)

# Runtime and development pins together: `make test` on a fresh machine needs both.
$(STAMP): $(BIN)/python requirements.txt requirements-dev.txt pyproject.toml
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt -r requirements-dev.txt
	$(BIN)/pip install --quiet --no-deps -e .
	@touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/robotrace run

test: install
	$(BIN)/pytest -n $${PYTEST_WORKERS:-2} -q $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check robotrace
	$(BIN)/lint-imports

# mypy over the whole package with the django-stubs plugin (configuration in pyproject.toml).
typecheck: install
	$(BIN)/mypy

e2e: install
	$(BIN)/pytest -q -m e2e robotrace/tests/e2e

clean:
	rm -rf var $(VENV)
