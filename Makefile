# The two commands: `make dev` runs the product, `make test` runs the whole suite.
# Everything they need is installed from here, so a fresh machine works.

SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
PYTHON ?= $(shell command -v python3.12 2>/dev/null || command -v python3)
PORT   ?= 3000

.PHONY: help dev test test-unit lint format bench system-deps venv plot vercel-build clean vendor

help:
	@echo "make dev     serve the API and public/ on http://localhost:$(PORT) (embedded defaults)"
	@echo "make test    install what the tests need and run the whole suite"
	@echo "make bench   run the benchmarks (tests/bench)"
	@echo "make lint    ruff check + format check + mypy (strict on lib/sim, detect, analysis, tune)"
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

# Installs only the Debian packages whose binaries are missing (binary -> package); on an apt
# failure it stops with one line naming the package, apt's reason and what to do.
system-deps:
	@$(PYTHON) scripts/system_deps.py

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
	$(VENV)/bin/mypy
	$(VENV)/bin/pytest

test-unit: venv
	$(VENV)/bin/pytest tests/unit

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

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
	$(PY) -m tests.bench.bench_push
	$(PY) -m tests.bench.bench_push --rtt-ms 50

plot: venv
	$(PY) scripts/plot_fleet_day.py

clean:
	rm -rf $(VENV) .data .pytest_cache .ruff_cache .hypothesis
