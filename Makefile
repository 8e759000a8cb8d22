# Every target does its own set-up: a virtualenv in .venv and a Redis that answers at REDIS_URL
# (started on loopback when nothing answers there). A missing tool stops a target with one line.
VENV ?= .venv
PY := $(VENV)/bin/python
PYTHON ?= python3
export PYTHON
export REDIS_URL ?= redis://127.0.0.1:6379/0

.PHONY: venv redis test lint demo bench reliability emulator clean

$(VENV)/.installed: pyproject.toml
	@bash scripts/preflight.sh python
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install -q --upgrade pip >/dev/null
	@$(PY) -m pip install -q -e '.[test]' || { echo "make: installing the dependencies failed (above); check the network or the package index and run make venv again" >&2; exit 1; }
	@touch $@

venv: $(VENV)/.installed

redis:
	@bash scripts/ensure-redis.sh

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

test: venv redis lint
	@bash scripts/preflight.sh git
	$(PY) -m pytest

demo: venv redis
	@bash scripts/preflight.sh git
	$(PY) -m demo

bench: venv redis
	@bash scripts/preflight.sh git
	$(PY) -m bench

reliability: venv redis
	@bash scripts/preflight.sh git
	$(PY) -m pytest tests/reliability -m reliability -p no:cacheprovider

emulator: venv
	@bash scripts/preflight.sh git
	$(PY) -m emulator

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis demo-output
