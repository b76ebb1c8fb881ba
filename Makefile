# capwatch: `make serve` runs the service on its embedded defaults, `make test` runs the suite.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP_RUN := $(VENV)/.installed-run
STAMP_TEST := $(VENV)/.installed-test
# Debian packages the test suite starts as real servers or drives (one line each, checked with dpkg).
DEB_TEST_PACKAGES := chromium postgresql snmpd snmp mosquitto influxdb prometheus graphite-carbon vnstat openssl fonts-dejavu-core systemd

.PHONY: serve test lint deps-test debs clean docs

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP_RUN): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e ".[all]"
	touch $@

$(STAMP_TEST): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e ".[test]"
	touch $@ $(STAMP_RUN)

serve: $(STAMP_RUN)
	$(VENV)/bin/capwatch serve

debs:
	@missing=""; for p in $(DEB_TEST_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	fi

deps-test: $(STAMP_TEST) debs

test: deps-test
	$(PY) -m pytest

lint: $(STAMP_TEST)
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench
	$(VENV)/bin/mypy

docs: $(STAMP_TEST)
	$(VENV)/bin/cog -r README.md

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
