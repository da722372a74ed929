# Two commands on a fresh machine:  `make run`  and  `make test`.
PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
PYTEST := $(VENV)/bin/pytest
MANAGE := $(PY) manage.py

# Services for the integration tier (override on the command line or in the environment).
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/rcsportal
# The integration tier starts its own redis-server on this port (and restarts it in the chaos test).
TEST_REDIS_URL ?= redis://127.0.0.1:6390/0

.PHONY: run venv test test-unit test-integration test-browser lint format bench clean screenshots

$(VENV)/.installed: requirements.txt requirements-dev.txt
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "$(PYTHON) not found (set PYTHON=...)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

venv: $(VENV)/.installed

## run: web + worker/beat + provider sandbox with demo data (SQLite, filesystem broker)
run: venv
	@mkdir -p var
	DJANGO_DEBUG=1 $(MANAGE) migrate --noinput
	DJANGO_DEBUG=1 $(MANAGE) demo_data
	DJANGO_DEBUG=1 $(MANAGE) rundev

## test: the whole suite (unit on SQLite, integration on PostgreSQL+Redis+worker, browser)
test: test-unit test-integration test-browser

test-unit: venv
	$(VENV)/bin/ruff check .
	$(PYTEST) -m "not integration and not browser" -n 2 -p no:cacheprovider

test-integration: venv
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) CELERY_BROKER_URL=$(TEST_REDIS_URL) \
		$(PYTEST) -m integration -p no:cacheprovider

test-browser: venv
	$(PYTEST) -m browser -p no:cacheprovider

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: venv
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: venv
	$(PY) bench/sandbox_throughput.py

clean:
	rm -rf var/broker var/*.sqlite3* var/celerybeat-schedule*
