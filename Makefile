# The two commands at the top of the README, plus the usual helpers.
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: run test lint bench install

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

run: install
	$(VENV)/bin/firstmark serve

# With a PostgreSQL on 127.0.0.1:5432 (and FIRSTMARK_TEST_POSTGRES_URL unset), its tests run on
# a scratch database made for the run and dropped after it; tests/pgscratch.py says which.
test: install
	$(PY) tests/pgscratch.py $(VENV)/bin/pytest -q

lint: install
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench
	$(VENV)/bin/mypy  # strict, on src and tests (files in pyproject.toml)

bench: install
	$(PY) bench/redirect.py
