# Two commands do everything on a fresh machine with Python 3.11+:
#   make run    set up, migrate, load demo data, start web + Celery worker + beat
#   make test   set up and run the whole test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
export DJANGO_SETTINGS_MODULE ?= config.settings.local

.PHONY: setup run test lint bench messages clean db-roles

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: requirements.txt | $(BIN)/python
	@echo "==> Installing dependencies into $(VENV)"
	$(BIN)/pip install --disable-pip-version-check -q --upgrade pip
	$(BIN)/pip install --disable-pip-version-check --progress-bar on -r requirements.txt
	touch $@

setup: $(VENV)/.installed
	@echo "==> Compiling translations"
	$(BIN)/python manage.py compile_translations

run: setup
	@echo "==> Migrating the database"
	$(BIN)/python manage.py migrate
	@echo "==> Loading demo data"
	PUBLIC_BASE_URL=$${PUBLIC_BASE_URL:-http://127.0.0.1:$(PORT)/} $(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py collectstatic --noinput -v 0
	@echo ""
	@echo "==> Open http://127.0.0.1:$(PORT)/admin/  (mentor portal: http://127.0.0.1:$(PORT)/mentor/)"
	@echo "    Stop with Ctrl-C."
	@# Links in emails follow the served address (a PUBLIC_BASE_URL set in the environment wins).
	PUBLIC_BASE_URL=$${PUBLIC_BASE_URL:-http://127.0.0.1:$(PORT)/} WEB_PORT=$(PORT) $(BIN)/honcho -f Procfile.dev start

# PostgreSQL only: the application role (no superuser, no BYPASSRLS, owns nothing) and
# row-level security on every tenant table. Run as the owner; idempotent (docs/security.md).
db-roles: setup
	$(BIN)/python manage.py setup_database_roles

test: setup
	DJANGO_SETTINGS_MODULE=config.settings.test $(BIN)/pytest $(PYTEST_ARGS)

# Benchmarks against raw baselines on PostgreSQL (docs/performance.md). BENCH_SIZE=smoke runs in
# seconds; the database (BENCH_DATABASE_URL, default bench_cohort) is created and dropped by the run.
BENCH_SIZE ?= large
bench: setup
	$(BIN)/python -m bench.run --size $(BENCH_SIZE)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

messages: setup
	@for app in $$(ls */apps.py | xargs -n1 dirname); do \
	  mkdir -p $$app/locale && (cd $$app && ../$(BIN)/django-admin makemessages -l ko --no-obsolete) || true; \
	done

clean:
	rm -rf $(VENV) var db.sqlite3 staticfiles
