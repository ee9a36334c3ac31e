# One entry point. Every target sets up .venv itself, from the lock file (requirements.lock).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
UV := $(VENV)/bin/uv
AISLE := $(VENV)/bin/aisle
LOCK := requirements.lock
UV_VERSION := 0.13.9
LLAMA_VERSION := $(shell sed -n 's/^llama-cpp-python==//p' $(LOCK))
# The CPU build of torch: from this machine's wheel folder when it has one, else from PyTorch's
# CPU wheel page. (PyPI's torch for Linux is the CUDA build, several GB.)
TORCH_LINKS ?= $(if $(wildcard /opt/wheels/torch-2.13.0+cpu-*.whl),/opt/wheels,https://download.pytorch.org/whl/cpu/torch/)
# --compile-bytecode: machines that set PYTHONDONTWRITEBYTECODE would otherwise compile
# every imported module (torch, transformers, sklearn...) from source in every process.
UV_INSTALL := $(UV) pip install --quiet --compile-bytecode --python $(PY) --constraint $(LOCK) \
  --find-links $(TORCH_LINKS)
API_PORT ?= 8000
UI_PORT ?= 7860
export GRADIO_ANALYTICS_ENABLED := False
export ANONYMIZED_TELEMETRY := False
export HF_HUB_OFFLINE := 1
export UV_NO_PROGRESS := 1

.PHONY: run test lint bench eval clean install install-dev browser lock train-scorer

# uv itself is the one thing pip installs (pinned; the machine's pip config is ignored).
$(UV):
	@echo "==> virtualenv $(VENV) with uv $(UV_VERSION)"
	@$(PYTHON) -m venv $(VENV)
	@PIP_CONFIG_FILE=/dev/null $(PY) -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.installed: pyproject.toml $(LOCK) | $(UV)
	@echo "==> runtime dependencies (locked)"
	@$(UV_INSTALL) --editable .
	@touch $@

# llama-cpp-python is never built by pip or uv: scripts/llama-wheel.sh builds it once, without
# native CPU flags, into a folder keyed by version and flags; uv may only take it from there.
$(VENV)/.installed-dev: $(VENV)/.installed
	@echo "==> llama-cpp-python $(LLAMA_VERSION) (portable build, cached across clones)"
	@wheels=$$(scripts/llama-wheel.sh $(PY) $(LLAMA_VERSION)) && \
	  echo "==> development dependencies (locked)" && \
	  $(UV_INSTALL) --find-links "$$wheels" --only-binary llama-cpp-python --editable '.[dev]'
	@touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# Refresh the lock from pyproject.toml (Linux x86-64, CPython 3.11: the machines and image we run on).
lock: | $(UV)
	$(UV) pip compile pyproject.toml --extra dev --find-links $(TORCH_LINKS) --quiet \
	  --python-version 3.11 --python-platform x86_64-manylinux_2_28 \
	  --custom-compile-command "make lock" --output-file $(LOCK)

# Debian's chromium for the browser tests (Playwright never downloads a browser here).
# An install that was cut off (a machine stopped mid-apt) leaves dpkg half-configured and apt
# refuses everything until it is finished: finish it first, then repair, then install.
browser:
	@chromium --version >/dev/null 2>&1 || { \
	  echo "==> chromium (apt)"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  dpkg --configure -a >/dev/null 2>&1 || true; \
	  apt-get update -qq && \
	  { apt-get install -y -qq chromium >/dev/null || \
	    { apt-get install -y -qq --fix-broken >/dev/null && \
	      apt-get install -y -qq --reinstall chromium chromium-common >/dev/null; }; }; }

run: install
	$(AISLE) ingest data/catalog/products.json
	$(PY) -m aisle.run --api-port $(API_PORT) --ui-port $(UI_PORT)

test: install-dev browser
	@echo "==> ruff"
	@$(VENV)/bin/ruff check .
	@echo "==> mypy"
	@$(VENV)/bin/mypy .
	@echo "==> pytest"
	@$(PY) -m pytest

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

# The evidence scorer's artefact, retrained from data/pqa_train (about 10 minutes on 2 cores).
train-scorer: install
	$(AISLE) train-scorer

clean:
	rm -rf $(VENV) .aisle .pytest_cache .mypy_cache .ruff_cache test-artifacts
