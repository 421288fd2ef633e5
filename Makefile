# Two commands do everything on a fresh clone: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
PYTEST_ARGS ?= -n auto
export PORT

.PHONY: run serve test lint bench clean setup frontend migrate demo

run: setup migrate demo serve

setup: $(VENV)/.installed node_modules/.installed build/static/.built

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed")'
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

node_modules/.installed: package.json package-lock.json
	@node -e 'const [a,b]=process.versions.node.split(".").map(Number); if (a<20||(a===20&&b<19)) { console.error("Node.js 20.19 or newer is needed (found "+process.versions.node+"); see docs/operations.md"); process.exit(1) }'
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

build/static/.built: node_modules/.installed $(shell find frontend -type f 2>/dev/null)
	npm run --silent build
	touch $@

frontend: build/static/.built

migrate: setup
	$(BIN)/mash migrate --noinput

demo: migrate
	$(BIN)/mash demo --if-empty

serve: setup
	@echo "Serving Mash on http://127.0.0.1:$(PORT)  (Ctrl+C to stop)"
	$(BIN)/mash serve --port $(PORT)

lint: setup
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy src tests $(wildcard bench/*.py)

test: setup lint
	$(BIN)/mash makemigrations --check --dry-run > /dev/null
	$(BIN)/pytest $(PYTEST_ARGS)

bench: setup
	@set -e; for f in bench/[!_]*.py; do \
		[ -e "$$f" ] || { echo "no benchmarks yet"; break; }; \
		echo "# $$f"; $(BIN)/python "$$f"; \
	done

clean:
	rm -rf $(VENV) node_modules build var .mypy_cache .ruff_cache .pytest_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
