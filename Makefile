# Two commands for a newcomer: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
SEED ?= 1
# The suite runs on every core (pytest-xdist); tests that must share one process are grouped.
PYTEST_ARGS ?= -n auto --dist loadgroup

.PHONY: run test install setup lint format worker beat messages check benchmark clean

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

install: $(VENV)/.installed

setup: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_reference_data
	$(PY) manage.py seed_demo --seed $(SEED)
	$(PY) manage.py create_demo_users

run: setup
	@echo "Serving on http://$(HOST):$(PORT)/ (stop with Ctrl-C)"
	DEBUG=$${DEBUG:-1} $(PY) manage.py runserver $(HOST):$(PORT)

test: install
	$(VENV)/bin/pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

worker: install
	$(VENV)/bin/celery -A config worker --loglevel=info

beat: install
	$(VENV)/bin/celery -A config beat --loglevel=info

# Needs GNU gettext (only for developers changing texts; the compiled catalogue is committed).
messages: install
	$(PY) manage.py makemessages -l nb --no-obsolete --ignore=.venv --ignore=tests
	$(PY) manage.py compilemessages -l nb --ignore=.venv

check: install
	$(PY) manage.py makemigrations --check --dry-run
	$(PY) manage.py spectacular --validate --fail-on-warn --file /dev/null

# Coverage benchmark at 10x the registry; PostgreSQL only (see README.md, Benchmark).
BENCHMARK_ARGS ?= --check
benchmark: install
	@test -n "$$DATABASE_URL" || { echo "Set DATABASE_URL to a PostgreSQL database (see README.md, Benchmark)." >&2; exit 1; }
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_reference_data
	$(PY) manage.py benchmark_coverage $(BENCHMARK_ARGS)

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles .pytest_cache

# Smoke test of the production stack (gunicorn, Celery worker and beat) on PostgreSQL and
# Redis, plus a backup restore check; see README.md, Smoke test. Needs DATABASE_URL and REDIS_URL.
.PHONY: smoke
smoke: install
	scripts/smoke.sh
