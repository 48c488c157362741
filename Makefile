# The two commands: `make dev` runs the product, `make test` runs the whole suite.
# Everything they need is installed from here, so a fresh machine works.

SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
PYTHON ?= $(shell command -v python3.12 2>/dev/null || command -v python3)
PORT   ?= 3000

# Debian packages the tests start for real (and node for the Vercel CLI).
TEST_DEBS := redis-server postgresql nodejs npm prometheus chromium fonts-noto-cjk
TEST_BINS := redis-server pg_ctl npx prometheus promtool chromium

.PHONY: help dev test test-unit lint format bench system-deps venv plot vercel-build clean vendor

help:
	@echo "make dev     serve the API and public/ on http://localhost:$(PORT) (embedded defaults)"
	@echo "make test    install what the tests need and run the whole suite"
	@echo "make bench   run the benchmarks (tests/bench)"
	@echo "make lint    ruff check + format check"
	@echo "make vercel-build  build the deployment offline with the real Vercel CLI and check it"

$(VENV)/.runtime: requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -c 'import sys; assert sys.version_info[:2] >= (3, 12), sys.version' \
	  || { echo "Python 3.12 is required (found $$($(PY) -V)); install it or set PYTHON=" >&2; exit 1; }
	$(PIP) install --quiet --disable-pip-version-check -r requirements.txt uvicorn[standard]==0.54.0
	@touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt $(VENV)/.runtime
	$(PIP) install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

venv: $(VENV)/.dev

dev: $(VENV)/.runtime vendor
	$(PY) -m lib.dev --port $(PORT)

# Installs the Debian packages the tests need when they are missing. As root it installs them;
# otherwise it names them and stops, rather than letting a fixture fail obscurely later.
system-deps:
	@missing=""; for b in $(TEST_BINS); do \
	  command -v $$b >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/$$b >/dev/null 2>&1 || missing=1; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing $(TEST_DEBS)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(TEST_DEBS) >/dev/null; \
	  else \
	    echo "The tests need these Debian packages: $(TEST_DEBS)" >&2; \
	    echo "Install them with: sudo apt-get install -y $(TEST_DEBS)" >&2; exit 1; \
	  fi; \
	fi

# The dashboard's browser libraries (uPlot, axe-core) from npm into public/vendor/, which is
# not committed; the Vercel build runs the same copy (`npm run build`).
vendor: node_modules/.vendored

node_modules/.vendored: package.json package-lock.json scripts/vendor.mjs
	npm ci --no-audit --no-fund --loglevel=error
	node scripts/vendor.mjs
	@touch $@

test: venv system-deps vendor
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/pytest

test-unit: venv
	$(VENV)/bin/pytest tests/unit

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: venv
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# Build the Vercel deployment offline with the real CLI (needs npx and uv) and check it.
vercel-build: venv
	$(PY) scripts/vercel_build.py

bench: venv system-deps vendor
	$(PY) -m tests.bench.bench_sim
	$(PY) -m tests.bench.bench_nab
	$(PY) -m tests.bench.bench_synthetic
	$(PY) -m tests.bench.bench_detect
	$(PY) -m tests.bench.bench_diagnose --in-sample
	$(PY) -m tests.bench.bench_history
	$(PY) -m tests.bench.bench_api
	$(PY) -m tests.bench.bench_ui
	$(PY) -m tests.bench.bench_ai

plot: venv
	$(PY) scripts/plot_fleet_day.py

clean:
	rm -rf $(VENV) .data .pytest_cache .ruff_cache .hypothesis
