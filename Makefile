# kosh — two commands do all set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: venv browser demo test lint e2e fault soak bench bench-20000 bench-waves clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "kosh needs Python 3.11"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[test]'
	@touch $(STAMP)

# The embedded stack with a demo cohort; Ctrl-C stops everything it started.
demo: venv
	$(BIN)/kosh dev --demo 20

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .

# Debian's Chromium for the console's browser test (Playwright drives it; nothing downloaded
# from a browser CDN). Installed once, with apt, when missing.
browser:
	@command -v chromium >/dev/null || { \
	  echo "installing Debian's chromium for the browser test"; \
	  $$( [ "$$(id -u)" = 0 ] || echo sudo ) apt-get install -y --no-install-recommends chromium >/dev/null \
	  || { $$( [ "$$(id -u)" = 0 ] || echo sudo ) apt-get update >/dev/null && \
	       $$( [ "$$(id -u)" = 0 ] || echo sudo ) apt-get install -y --no-install-recommends chromium >/dev/null; }; }

# Every test: lint, types, domain, store, workflows (time-skipping), end to end, a browser.
test: lint browser
	$(BIN)/pytest

e2e: venv
	$(BIN)/pytest -m e2e

# 2,000 cases, a fifth of agency calls failing, a worker killed every minute; then the
# invariant report (exit 1 on any mismatch). About half an hour on two cores.
soak: venv
	$(BIN)/python -m tests.fault.soak --cases 2000 --error-rate 0.2 --kill-every 60

# The fault suite alone, at full size: workers killed, Temporal restarted, PostgreSQL down.
fault: venv
	KOSH_FAULT_SUITE=full $(BIN)/pytest tests/fault -m fault

# Every figure in docs/performance.md and docs/scaling.md, each section rewritten with the
# command that measured it (25 to 45 minutes on two cores): kosh against bare Temporal with
# a py-spy profile, start and update rates, 1,000 cases asleep in monitoring (the arithmetic
# for 20,000), the event store against raw asyncpg, what a case costs Temporal, and 1, 2
# and 4 workers.
bench: venv
	$(BIN)/python -m bench.baseline --cases 100 --seconds-per-year 2 --profile \
	  --write docs/performance.md
	$(BIN)/python -m bench.rates --cases 60 --write docs/performance.md
	$(BIN)/python -m bench.capacity --cases 1000 --cache 200 --wave-seconds 240 --waves 3 \
	  --write docs/performance.md
	$(BIN)/python -m bench.event_store --events 1000 --reservers 16 \
	  --write docs/performance.md
	$(BIN)/python -m bench.history_cost --cases 20 --seconds-per-year 4 \
	  --write docs/performance.md
	$(BIN)/python -m bench.scaling --cases 150 --seconds-per-year 2 --workers 1 2 4 \
	  --write docs/scaling.md

# 1,000 open cases woken in six waves, whether the worker's memory settles after its
# warm-up (about half an hour on two cores): its own section of docs/performance.md.
bench-waves: venv
	$(BIN)/python -m bench.capacity --cases 1000 --cache 200 --wave-seconds 240 --waves 6 \
	  --section capacity-6-waves --write docs/performance.md

# 20,000 open cases asleep in monitoring, woken in one wave (about an hour on two cores):
# its own section of docs/performance.md.
bench-20000: venv
	$(BIN)/python -m bench.capacity --cases 20000 --cache 1000 --waves 1 --wave-seconds 1800 \
	  --settle 750 --timeout 5400 --section capacity-20000 --write docs/performance.md

clean:
	rm -rf $(VENV) .kosh .pytest_cache .mypy_cache .ruff_cache
