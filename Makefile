# One command to set up a fresh Debian machine, one to run the tests.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
APT_PACKAGES := xvfb xauth x11-utils xdotool fonts-noto-cjk fonts-wqy-microhei \
	mosquitto mosquitto-clients pcscd pcsc-tools vsmartcard-vpcd libpcsclite-dev swig socat \
	gettext libzbar0 libgl1 libmtdev1 build-essential python3-dev python3-venv \
	postgresql chromium chromium-driver espeak-ng sox libsox-fmt-base usbutils libusb-1.0-0 v4l-utils nodejs

.PHONY: setup system-packages venv test test-unit test-ui lint demo run i18n bench clean

setup: system-packages venv ## everything: system packages, .venv, the project with its extras

system-packages:
	@if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	missing=$$(for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing system packages:" $$missing; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	else echo "system packages already installed"; fi

venv:
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	$(MAKE) --no-print-directory i18n

i18n: ## compile the translations (.po -> .mo)
	$(PY) -m kiosk.i18n compile

test: ## the whole suite; a skip is a failure here, and so is "no tests ran" (exit code 5)
	@set -o pipefail; out=$$(mktemp); \
	KIOSK_NO_SKIPS=1 $(PY) -m pytest -q -p no:cacheprovider $(PYTEST_ARGS) | tee $$out; \
	status=$$?; \
	grep -qE '^kiosk-tests: [0-9]+ skipped$$' $$out \
		|| { echo "make test: no skip count in the output"; status=1; }; \
	if [ $$status = 5 ]; then echo "make test: pytest collected no tests"; fi; \
	rm -f $$out; exit $$status

test-unit:
	$(PY) -m pytest -q -m "not ui"

test-ui:
	$(PY) -m pytest -q -m ui

lint:
	$(VENV)/bin/ruff check .

run: ## the kiosk on its embedded defaults with simulated devices
	$(VENV)/bin/kiosk run --profile demo

demo:
	$(VENV)/bin/kiosk demo --headless --out demo-out

bench:
	$(VENV)/bin/kiosk bench

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache demo-out
