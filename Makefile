# capwatch: `make serve` runs the service on its embedded defaults, `make test` runs the suite.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP_RUN := $(VENV)/.installed-run
STAMP_TEST := $(VENV)/.installed-test
# Debian packages the test suite starts as real servers or drives (one line each, checked with dpkg).
DEB_TEST_PACKAGES := chromium chromium-headless-shell postgresql snmpd snmp mosquitto influxdb prometheus graphite-carbon vnstat openssl fonts-dejavu-core systemd faketime miniupnpd softflowd
# softflowd: the netflow tests start their own on lo; the package's /etc/softflowd/default.conf
# names no interface, so installing it starts no system-wide capture (softflowd.service runs
# /bin/true and the softflowd@ instances exist only for configured interfaces).
# apt waits for another apt/dpkg (unattended upgrades on a fresh machine) instead of failing.
APT_WAIT := -o DPkg::Lock::Timeout=600
# Instants `make test-instants` runs the suite at, as "ZONE|local start": the process runs
# under faketime, its clock starting there and running on (so each run also crosses the instant
# it names). Cycle edges, a 30-day month's end, both DST changes of New York and London (the
# repeated and the skipped hour), 29 February and a year's end.
TEST_INSTANTS := \
	"UTC|2026-11-30 23:58:30" \
	"America/New_York|2026-11-01 01:29:00" \
	"America/New_York|2027-03-14 01:58:30" \
	"Europe/London|2026-10-25 01:29:00" \
	"Europe/London|2027-03-28 00:58:30" \
	"Australia/Adelaide|2028-02-29 23:58:30" \
	"Pacific/Auckland|2026-12-31 23:58:30"
# What runs at each instant: every test but the ones whose clock-dependent part another test
# there already covers and which would take half the time. Out: the browser tests (the page's
# figures are the summary's, which the API and web tests check at each instant; the sign-in
# flows keep no dates of their own), the PostgreSQL runs of the store tests (their SQLite runs
# stay; the store takes its instants from capwatch, never the server's clock), and three files
# with no clock in them: the packaging (wheel, sdist, container), the docs' examples on real
# servers, and the soak runs (the daemon and crash tests run serve at each instant).
# `make test` runs all of them on today's clock.
INSTANT_SELECT := -m "not browser and not postgres" \
	--ignore=tests/test_packaging.py --ignore=tests/test_docs_examples.py \
	--ignore=tests/test_soak.py

# make test-ha: Home Assistant from PyPI in a venv of its own, on a Python it supports (found
# by tests/ha/find-python: PATH, then pyenv), with every requirement of the integrations the test
# sets up installed beforehand (Home Assistant runs with --skip-pip). As root the test runs in a
# network namespace of its own with only a loopback interface, so nothing can leave the machine.
HA_VERSION := 2025.4.4
HA_PYTHON_MIN := 3.13
HA_VENV := .venv-ha
HA_PY := $(HA_VENV)/bin/python
STAMP_HA := $(HA_VENV)/.installed-$(HA_VERSION)

.PHONY: serve test test-instants test-ha lint deps-test debs clean docs screenshots

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP_RUN): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e ".[all]"
	touch $@

$(STAMP_TEST): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e ".[all]" --group test
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
	  for try in 1 2 3 4 5 6 7 8 9 10; do \
	    $$SUDO apt-get $(APT_WAIT) update -qq && break; \
	    echo "apt-get update failed (another apt running?); retrying in 30 s"; sleep 30; \
	  done; \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get $(APT_WAIT) install -y -qq \
	    --no-install-recommends $$missing; \
	fi

deps-test: $(STAMP_TEST) debs

test: deps-test
	$(PY) -m pytest

# INSTANT_SELECT of the suite under faketime at each of TEST_INSTANTS, stopping at the first
# instant that fails.
# The multi-threaded libfaketime (-m): the single-threaded one can crash threaded servers; the
# monotonic clock is faked too (keeping it real makes libfaketime 0.9.10 fail every sleep).
test-instants: deps-test
	@for spec in $(TEST_INSTANTS); do \
	  zone=$${spec%%|*}; start=$${spec#*|}; \
	  echo "== make test-instants: TZ=$$zone, clock from $$start"; \
	  TZ=$$zone faketime -m -f "@$$start" \
	    $(PY) -m pytest -q -p no:cacheprovider $(INSTANT_SELECT) || { echo "failed at TZ=$$zone $$start"; exit 1; }; \
	done

$(STAMP_HA): tests/ha/requirements.py
	@py=$$(tests/ha/find-python $(HA_PYTHON_MIN)) && echo "Home Assistant $(HA_VERSION) on $$py" && \
	  rm -rf $(HA_VENV) && $$py -m venv $(HA_VENV)
	$(HA_PY) -m pip install --quiet --upgrade pip
	$(HA_PY) -m pip install --quiet homeassistant==$(HA_VERSION)
	$(HA_PY) tests/ha/requirements.py > $(HA_VENV)/requirements.txt
	$(HA_PY) -m pip install --quiet -r $(HA_VENV)/requirements.txt \
	  -c "$$($(HA_PY) -c 'import homeassistant, pathlib; print(pathlib.Path(homeassistant.__file__).parent / "package_constraints.txt")')"
	touch $@

test-ha: deps-test $(STAMP_HA)
	HA_TEST_VENV=$(abspath $(HA_VENV)) tests/ha/isolated \
	  $(PY) -m pytest -q -p no:cacheprovider -m homeassistant tests/test_homeassistant_real.py

lint: $(STAMP_TEST)
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench
	$(VENV)/bin/mypy

docs: $(STAMP_TEST)
	$(PY) -c "import capwatch.cli as c, pathlib; pathlib.Path('src/capwatch/help.txt').write_text(c.render_help())"
	$(VENV)/bin/cog -r README.md
	$(VENV)/bin/cog -r -I docs docs/install.md

clean:
	rm -rf $(VENV) $(HA_VENV) .pytest_cache .mypy_cache .ruff_cache

# The README's screenshots (docs/screenshots: overview, account page and its "Who used it",
# phone and desktop, light and dark), regenerated in Debian's Chromium from a seeded store at a pinned instant.
screenshots: deps-test
	UPDATE_SCREENSHOTS=1 $(PY) -m pytest -q -p no:cacheprovider tests/test_web_browser.py tests/test_plan_browser.py -k "test_screenshots or test_an_aaisp_plan_on_the_page"
