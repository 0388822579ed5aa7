# The README's two commands: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: run test test-moments reliability install lint fmt migrate check bench bench-growth smoke clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e ".[dev]"
	touch $@

install: $(VENV)/.installed

## make run: the app with demo data on the embedded default (SQLite + file broker under var/),
## web server, Celery worker and beat together; Ctrl-C stops all of it.
run: install
	bash scripts/run.sh

## make test: lint, migration check and the whole suite on PostgreSQL and Redis.
test: install
	bash scripts/test.sh

## make test-moments: the date-sensitive modules with the clock at each moment of tests/moments.txt.
test-moments: install
	bash scripts/test_moments.sh

## make reliability: the fault-injection suite (tests/reliability) at its full profile, figures printed.
reliability: install
	RELIABILITY_PROFILE=full bash scripts/test.sh tests/reliability -m reliability -p no:randomly -s -q

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports --no-cache --no-logo
	$(VENV)/bin/ruff format --check .

fmt: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

migrate: install
	$(PY) manage.py migrate

check: lint
	$(PY) manage.py makemigrations --check --dry-run
	bash scripts/test.sh

bench: install
	bash bench/run.sh $(if $(SCALE),--scale $(SCALE),) $(if $(PEER),--peer,)

## make bench-growth [SCALE=1m]: the 10k and 100k (or 100k and 1m) databases of two earlier runs measured side by side.
bench-growth: install
	bash bench/growth.sh $(if $(SCALE),--large $(SCALE),)

smoke: install
	bash scripts/smoke_run.sh

clean:
	rm -rf var/ tests/e2e/artifacts/
