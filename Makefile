# One-command set-up, run and test. `make test` is what CI runs (through .ci/run).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PORT   ?= 8000
# Without a Twilio account, live-call updates go to the simulator's stand-in REST API here.
SIM_API_PORT ?= 8099
# What serving needs: espeak-ng speaks the prompts; gcc builds gunicorn's C HTTP parser
# (gunicorn_h1c ships as source only).
DEB_PACKAGES := espeak-ng gcc
# What only the tests need: real Redis and PostgreSQL servers, a headless browser.
TEST_DEB_PACKAGES := redis-server postgresql chromium chromium-driver nginx-light
STAMP  := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: install install-test deb deb-test apt run test fuzz seed clean

# Serving only (`make run`); `make install-test` adds the test extras (README: what each costs).
install: deb $(STAMP)

install-test: install deb-test $(TEST_STAMP)

deb:
	@$(MAKE) --no-print-directory apt PACKAGES="$(DEB_PACKAGES)"

deb-test:
	@$(MAKE) --no-print-directory apt PACKAGES="$(TEST_DEB_PACKAGES)"

# Installs whichever of $(PACKAGES) are missing.
apt:
	@missing=""; for p in $(PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e .
	touch $(STAMP)

$(TEST_STAMP): $(STAMP)
	$(PY) -m pip install -q -e '.[test]'
	touch $(TEST_STAMP)

seed: install
	$(VENV)/bin/ivr seed --if-absent

# The local signing token: readable by this user only (umask before the file exists).
.PHONY: var/dev-token     # always run: an existing token is tightened too
var/dev-token:
	@mkdir -p -m 700 var; test -s $@ || (umask 077; $(PY) -c "import secrets; print(secrets.token_hex(16))" > $@)
	@chmod 600 $@

# Runs exactly the Procfile's web: line, with the virtualenv first on PATH. Without a
# TWILIO_AUTH_TOKEN a random local one is made once (var/dev-token) for the simulator to sign with.
run: seed var/dev-token
	@echo "serving on port $(PORT); local token in var/dev-token (export TWILIO_AUTH_TOKEN=\$$(cat var/dev-token) for ivr sim --url)"
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" PORT=$(PORT) \
	TWILIO_AUTH_TOKEN="$${TWILIO_AUTH_TOKEN:-$$(cat var/dev-token)}" \
	PUBLIC_URL="$${PUBLIC_URL:-http://127.0.0.1:$(PORT)}" \
	TWILIO_API_BASE="$${TWILIO_API_BASE:-$$( [ -n "$$TWILIO_ACCOUNT_SID" ] && echo https://api.twilio.com || echo http://127.0.0.1:$(SIM_API_PORT) )}" \
	sh -c "exec $$(sed -n 's/^web: *//p' Procfile)"

test: install-test
	$(PY) -m pytest

# The long fuzz run (over 10,000 generated inputs; docs/benchmarks.md). `make test` runs a short one.
fuzz: install-test
	HYPOTHESIS_PROFILE=ivr-fuzz $(PY) -m pytest tests/fuzz -p no:logging

clean:
	rm -rf $(VENV) var .pytest_cache
