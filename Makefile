# Two commands for a newcomer: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
SEED ?= 1
# The suite runs on every core (pytest-xdist); tests that must share one process are grouped.
PYTEST_ARGS ?= -n auto --dist loadgroup

.PHONY: run serve test install setup lint format worker beat messages check benchmark clean

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

# The production stack on HOST:PORT: production settings, static files collected, gunicorn
# (config/gunicorn.conf.py). Needs SECRET_KEY (and ALLOWED_HOSTS etc.); see README.md, Deploying.
PRODUCTION := DJANGO_SETTINGS_MODULE=config.settings_production
serve: install
	@test -n "$$SECRET_KEY" || { echo "make serve runs the production settings: set SECRET_KEY to a random string of at least 50 characters (and ALLOWED_HOSTS, DATABASE_URL, REDIS_URL; see README.md, Deploying)." >&2; exit 1; }
	$(PRODUCTION) $(PY) manage.py migrate --noinput
	$(PRODUCTION) $(PY) manage.py collectstatic --noinput --verbosity 0
	$(PRODUCTION) HOST=$(HOST) PORT=$(PORT) $(VENV)/bin/gunicorn --config config/gunicorn.conf.py

test: install
	$(VENV)/bin/pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# With DJANGO_SETTINGS_MODULE=config.settings_production in the environment, the worker and
# beat run with the production settings (JSON logs, Sentry when SENTRY_DSN is set).
# WORKER_ARGS and BEAT_ARGS pass more options to celery (the smoke test uses them).
worker: install
	$(VENV)/bin/celery -A config worker --loglevel=info $(WORKER_ARGS)

beat: install
	$(VENV)/bin/celery -A config beat --loglevel=info $(BEAT_ARGS)

# Needs GNU gettext (only for developers changing texts; the compiled catalogue is committed).
messages: install
	$(PY) manage.py makemessages -l nb --no-obsolete --ignore=.venv --ignore=tests
	$(PY) manage.py compilemessages -l nb --ignore=.venv

check: install
	$(PY) manage.py makemigrations --check --dry-run
	$(PY) manage.py spectacular --validate --fail-on-warn --file /dev/null

# Every performance goal at 10x the registry, three runs; PostgreSQL only (see README.md, Benchmark).
BENCHMARK_ARGS ?= --check
benchmark: install
	@test -n "$$DATABASE_URL" || { echo "Set DATABASE_URL to a PostgreSQL database (see README.md, Benchmark)." >&2; exit 1; }
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_reference_data
	$(PY) manage.py benchmark $(BENCHMARK_ARGS)

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles .pytest_cache

# Smoke test of the production stack (gunicorn, Celery worker and beat) on PostgreSQL and
# Redis, plus a backup restore check; see README.md, Smoke test. Needs DATABASE_URL and REDIS_URL.
.PHONY: smoke
smoke: install
	scripts/smoke.sh
