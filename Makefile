# sealbook: `make run` opens the app, `make test` runs the suite.
# Both create the virtualenv themselves on a fresh machine.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: bytecode run test test-long check bench lint clean messages

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# An editable install leaves sealbook's own modules uncompiled; where PYTHONDONTWRITEBYTECODE
# is set, every start would compile them again (about 0.1 s).  Only stale files are written.
bytecode: $(STAMP)
	$(BIN)/python -m compileall -q vault tui migrations

run: bytecode
	$(BIN)/sealbook $(ARGS)

# Two workers (pytest-xdist), one per core; a file's tests stay on one worker (its module
# fixtures, its servers).  TEST_WORKERS=0 runs them in this process, one after another.
TEST_WORKERS ?= 2

test: $(STAMP)
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

test-long: $(STAMP)
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile -m long $(PYTEST_ARGS)

# The issue-15 harness: every row of the speed table on a synthetic vault, with khard
# side by side.  `make bench BENCH_CONTACTS=100000` for the full size (under 10 minutes);
# BENCH_ARGS="--json bench.json" writes the figures; BENCH_PYTEST=1 also runs the
# older per-part benchmarks (pytest -m bench, 100,000 records each).
BENCH_CONTACTS ?= 10000
bench: $(STAMP)
	$(BIN)/python -m tests.bench --contacts $(BENCH_CONTACTS) $(BENCH_ARGS)
	$(if $(BENCH_PYTEST),$(BIN)/python -m pytest -m bench -s tests/bench $(PYTEST_ARGS))

# Issue 14: extract every marked text (vault.i18n) into the template, merge it into each
# language's catalogue (new texts arrive untranslated; tests/test_i18n.py fails until they
# are translated), and compile the .mo files the app reads.  Commit .po and .mo together.
LOCALES := vault/locale
messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg --no-location --sort-output --project=sealbook \
		--msgid-bugs-address=- --copyright-holder=sealbook -k NC_:1c,2 -o $(LOCALES)/sealbook.pot vault tui
	$(BIN)/pybabel update -i $(LOCALES)/sealbook.pot -d $(LOCALES) -D sealbook --no-fuzzy-matching --ignore-obsolete
	$(BIN)/pybabel compile -d $(LOCALES) -D sealbook --statistics

lint: $(STAMP)
	$(BIN)/ruff check vault tui tests migrations
	$(BIN)/ruff format --check vault tui tests migrations
	$(BIN)/mypy
	$(BIN)/lint-imports

check: lint test

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
