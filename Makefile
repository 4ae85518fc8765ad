# linli — the two commands a new user needs: `make demo` and `make test`.
# Every target bootstraps .venv itself from pyproject.toml on a machine with only python3.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
PYTEST_ARGS ?=
CHROMIUM := /usr/bin/chromium
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: setup lint test test-fast bench demo clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

setup: $(STAMP)

# The browser tests drive Debian's Chromium (never a downloaded browser).
$(CHROMIUM):
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium chromium-driver fonts-noto-cjk

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

test: $(STAMP) $(CHROMIUM)
	$(PY) -m pytest $(PYTEST_ARGS)

test-fast: $(STAMP)
	$(PY) -m pytest -m "not slow and not postgres" $(PYTEST_ARGS)

bench: $(STAMP)
	@mkdir -p bench/results
	$(PY) -m bench store --json bench/results/store.json
	$(PY) -m bench crash --trials 1000 --json bench/results/crash.json
	$(PY) -m bench sync --ops 500 --json bench/results/sync.json
	$(PY) -m bench server --devices 1000 --ops 100 --db sqlite --json bench/results/server-sqlite.json
	$(PY) -m bench server --devices 1000 --ops 100 --db postgres --json bench/results/server-postgres.json
	$(PY) -m bench faults --syncs 1000 --json bench/results/faults.json
	$(PY) -m bench app --json bench/results/app.json
	$(PY) -m bench abuse --json bench/results/abuse.json

demo: $(STAMP)
	$(PY) -m app.demo

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis build *.egg-info .linli-demo
