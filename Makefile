# sealbook: `make run` opens the app, `make test` runs the suite.
# Both create the virtualenv themselves on a fresh machine.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test test-long check bench lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/sealbook $(ARGS)

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-long: $(STAMP)
	$(BIN)/python -m pytest -m long $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python -m pytest -m bench -s tests/bench $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check vault tui tests migrations
	$(BIN)/ruff format --check vault tui tests migrations
	$(BIN)/mypy
	$(BIN)/lint-imports

check: lint test

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
