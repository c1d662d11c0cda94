# CourseDesk: `make run` serves the demo, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app app
HOST ?= 127.0.0.1
PORT ?= 5000
# Links in mail, feeds and certificates come from BASE_URL only; `make run PORT=8080` keeps
# them pointing at the port the app really serves on.
BASE_URL ?= http://$(HOST):$(PORT)
export BASE_URL
POSTGRES_TEST_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
SYSTEM_PACKAGES := libharfbuzz-subset0 fonts-nanum chromium poppler-utils
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run serve test test-postgres bench lint system-deps install translations extract-messages migrate clean

# The BASE_URL it serves on is recorded in instance/settings.py for the commands run later
# from a shell or cron without it (`outbox send`, `announce-due`, `seed-demo`).
run: install translations
	@$(BIN)/python -c 'import os; from app.config import record_setting; record_setting("BASE_URL", os.environ["BASE_URL"])'
	@echo "Links in mail point to $(BASE_URL) (recorded in instance/settings.py)."
	$(FLASK) db upgrade
	@if [ ! -f instance/.demo-seeded ]; then \
		$(FLASK) seed-demo && touch instance/.demo-seeded; \
	else \
		echo "Demo already seeded. Logins (password: coursedesk-demo): staff@example.com, instructor@example.com, company@example.com, learner@example.com"; \
	fi
	$(FLASK) run --host $(HOST) --port $(PORT)

# Production serving with gunicorn (see "Deployment" in README.md): settings come from the
# environment (DATABASE_URL, SECRET_KEY, BASE_URL, BIND, WEB_CONCURRENCY, ...) and
# gunicorn.conf.py; no demo data, nothing written to instance/settings.py. Without BASE_URL
# in the environment, links point to the address gunicorn binds (not to the one `make run`
# recorded for its port).
serve: export BASE_URL := $(if $(filter file,$(origin BASE_URL)),http://$(or $(BIND),127.0.0.1:8000),$(BASE_URL))
serve: install translations
	$(FLASK) db upgrade
	$(BIN)/gunicorn -c gunicorn.conf.py wsgi:app

test: install translations
	$(BIN)/pytest

test-postgres: install translations
	TEST_DATABASE_URL=$(POSTGRES_TEST_URL) $(BIN)/pytest

# The scale suite (bench/bench_scale.py): ten years of data, one table, bench/results/latest.json.
# BENCH_SCALE=0.1 for a quick run; BENCH_ALL=1 also runs every other bench/bench_*.py after it.
BENCH_SCALE ?= 1.0
bench: install translations
	@command -v ab >/dev/null || echo "ab not found (apt-get install apache2-utils): the pages are loaded by a slower Python client"
	BENCH_SCALE=$(BENCH_SCALE) $(BIN)/python bench/bench_scale.py
	@if [ -n "$(BENCH_ALL)" ]; then for script in bench/bench_*.py; do \
		[ "$$script" = bench/bench_scale.py ] && continue; \
		echo "== $$script"; $(BIN)/python $$script || exit 1; \
	done; fi

lint: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports

install: system-deps $(VENV)/.stamp-install

# Fonts for Korean PDFs, HarfBuzz subsetting (WeasyPrint is ~10x slower without it),
# Chromium for the browser tests, poppler for looking at PDFs.
system-deps:
	@missing=""; for pkg in $(SYSTEM_PACKAGES); do \
		dpkg -s $$pkg >/dev/null 2>&1 || missing="$$missing $$pkg"; \
	done; \
	if [ -n "$$missing" ]; then \
		if command -v apt-get >/dev/null; then \
			echo "Installing system packages:$$missing"; \
			$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing >/dev/null; \
		else \
			echo "Please install:$$missing (no apt-get here)"; exit 1; \
		fi; \
	fi

$(VENV)/.stamp-install: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

translations: $(VENV)/.stamp-install
	$(BIN)/pybabel compile --use-fuzzy -d app/translations >/dev/null

# For developers: refresh the message catalogs after changing user-facing strings.
extract-messages: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --no-location --sort-output -o app/translations/messages.pot .
	$(BIN)/pybabel update -i app/translations/messages.pot -d app/translations --no-fuzzy-matching --ignore-obsolete

migrate: install
	$(FLASK) db upgrade

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
