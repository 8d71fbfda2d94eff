# `make run` and `make test` work on a fresh clone with nothing installed but Python 3.11+.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
export PORT

.PHONY: setup run demo test lint format bench soak lock clean

# What `run` and `demo` both need: a local .env, the database, static files, an admin.
# DJANGO_SUPERUSER_PASSWORD (for ensureadmin) is emptied for the long-running commands below:
# see SETUP_ONLY_VARIABLES in ds24site/management/commands/serve.py.
setup: $(VENV)/.run-installed
	@install -d -m 700 var  # the database, its sessions and secrets: this user's alone
	$(BIN)/python -m ds24site.envfile --port $(PORT)
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	$(BIN)/python manage.py ensureadmin

# The web server and one task worker (forwarding, ipn_received receivers), both logging here.
run: setup
	@echo "Serving on http://127.0.0.1:$(PORT)/admin/ with a task worker  (Ctrl+C stops both)"
	DJANGO_SUPERUSER_PASSWORD= $(BIN)/python manage.py serve

# The app with the Digistore24 stand-in, a demo connection, a webhook of each kind and a stream
# of signed sample IPNs, in the same local database as `make run`.
demo: setup
	DJANGO_SUPERUSER_PASSWORD= $(BIN)/python manage.py demo

test: $(VENV)/.dev-installed
	@install -d -m 700 var
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest $(PYTEST_ARGS)

# IPN ingestion side by side with a bare baseline (SQLite, then PostgreSQL on a scratch database
# it creates and drops), the admin and the API over 1,000,000 events, forwarding and memory:
# bench/run.py, about 10 minutes; prints the tables and writes them to docs/benchmarks.md. The
# event log is kept in var/bench/ for the next run; DATABASE_URL (a scratch database) moves the
# admin, API and forwarding runs there. wrk (the load) comes from Debian, like Chromium in CI.
BENCH_POSTGRES ?= postgres://postgres@127.0.0.1:5432/ds24bench
bench: $(VENV)/.run-installed
	@command -v wrk >/dev/null || { echo "=== apt-get install wrk ==="; \
		DEBIAN_FRONTEND=noninteractive apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
	$(BIN)/python -m bench.run --postgres $(BENCH_POSTGRES) $(if $(DATABASE_URL),--database-url $(DATABASE_URL))

# The app as `make run` serves it, fed 20,000 IPNs while attacked and while its processes and
# database fail, then checked (bench/soak/): on SOAK_DATABASE_URL, a scratch PostgreSQL database
# it creates and drops (the server is restarted once during the pass), then on SQLite.
SOAK_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/ds24soak
soak: $(VENV)/.dev-installed
	$(BIN)/python -m bench.soak --database $(SOAK_DATABASE_URL) --database sqlite

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.dev-installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.run-installed: requirements/base.txt | $(VENV)/bin/python
	$(BIN)/pip install --quiet -r requirements/base.txt
	@touch $@

$(VENV)/.dev-installed: requirements/base.txt requirements/dev.txt | $(VENV)/bin/python
	$(BIN)/pip install --quiet -r requirements/dev.txt
	@touch $@ $(VENV)/.run-installed

# Re-pin requirements/*.txt from the ranges in pyproject.toml.
lock: | $(VENV)/bin/python
	$(BIN)/pip install --quiet pip-tools
	$(BIN)/pip-compile --quiet --strip-extras --no-emit-index-url --no-emit-find-links --output-file requirements/base.txt pyproject.toml
	$(BIN)/pip-compile --quiet --strip-extras --no-emit-index-url --no-emit-find-links --extra dev --output-file requirements/dev.txt pyproject.toml

clean:
	rm -rf $(VENV) var/static .pytest_cache .ruff_cache
