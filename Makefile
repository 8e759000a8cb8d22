# Every target does its own set-up: a virtualenv in .venv and a Redis that answers.
VENV ?= .venv
PY := $(VENV)/bin/python
PYTHON ?= python3
export REDIS_URL ?= redis://127.0.0.1:6379/0

.PHONY: venv redis test lint demo bench reliability emulator clean

$(VENV)/.installed: pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip >/dev/null
	$(PY) -m pip install -q -e '.[test]'
	@touch $@

venv: $(VENV)/.installed

redis:
	@bash scripts/ensure-redis.sh

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

test: venv redis lint
	$(PY) -m pytest

demo: venv redis
	$(PY) -m demo

bench: venv redis
	$(PY) -m bench

reliability: venv redis
	$(PY) -m pytest tests/reliability -m reliability -p no:cacheprovider

emulator: venv
	$(PY) -m emulator

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis demo-output
