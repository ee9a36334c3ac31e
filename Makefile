# One entry point. Every target sets up .venv itself.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
AISLE := $(VENV)/bin/aisle
API_PORT ?= 8000
UI_PORT ?= 7860
export GRADIO_ANALYTICS_ENABLED := False
export ANONYMIZED_TELEMETRY := False
export HF_HUB_OFFLINE := 1

.PHONY: run test lint bench eval clean install install-dev browser

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	# The CPU build of torch first: a bare dependency resolution would fetch a CUDA build.
	$(PIP) install --quiet torch==2.13.0
	$(PIP) install --quiet -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(PIP) install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# Debian's chromium for the browser tests (Playwright never downloads a browser here).
browser:
	@command -v chromium >/dev/null || { \
	  echo "installing chromium with apt"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

run: install
	$(AISLE) ingest data/catalog/products.json
	$(PY) -m aisle.run --api-port $(API_PORT) --ui-port $(UI_PORT)

test: install-dev browser
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy .
	$(PY) -m pytest

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .

bench: install-dev
	$(PY) bench/ingest.py
	$(PY) bench/serve.py

eval: install
	$(AISLE) eval --dataset field
	$(AISLE) eval --dataset epqa

clean:
	rm -rf $(VENV) .aisle .pytest_cache .mypy_cache .ruff_cache test-artifacts
