# Two commands: `make synth` and `make test`. Both install what they need into the project first
# (.venv from requirements-dev.txt plus the project itself, editable; node_modules from package-lock.json)
# and reinstall only when those files change. The pinned Node 22 in node_modules/.bin runs both `npx cdk` and jsii.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
STACK := AdminPortGuardReference
PY_STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed

SYSTEM_PATH := $(PATH)
export PATH := $(CURDIR)/node_modules/.bin:$(PATH)

# Findings point at the line of Python that opened the port: JSII_HOST_STACK_TRACES=1 records the line that
# created each construct, CDK_DEBUG=1 also the line of each add_ingress_rule. Together they cost about 1-3 % of
# the reference stack's synth CPU time, 8 % at 500 security groups (benchmarks/run.py --source-locations), so
# they are on; `make synth SOURCE_LINES=` turns them off.
SOURCE_LINES ?= JSII_HOST_STACK_TRACES=1 CDK_DEBUG=1

.PHONY: synth test install system-packages lock

synth: install
	$(SOURCE_LINES) npx cdk synth --quiet $(if $(ADMIN_CIDR),-c 'admin_cidr=$(ADMIN_CIDR)')
	$(VENV)/bin/admin-port-guard cdk.out --format sarif --output cdk.out/admin-port-guard.sarif
	$(VENV)/bin/admin-port-exposure cdk.out --format markdown --output cdk.out/exposure.md
	@echo
	@echo "Template:          cdk.out/$(STACK).template.json"
	@echo "Validation report: cdk.out/validation-report.json"
	@echo "Guard SARIF:       cdk.out/admin-port-guard.sarif"
	@echo "Exposure report:   cdk.out/exposure.md"
	@$(VENV)/bin/python -c 'import json; r = json.load(open("cdk.out/validation-report.json")); [print("  " + p["pluginName"] + ": " + p["conclusion"]) for p in r["pluginReports"]]'
	@$(VENV)/bin/admin-port-guard --summary cdk.out
	@$(if $(ADMIN_CIDR),,echo "No ADMIN_CIDR given: the bastion accepts no SSH (Session Manager only). Try: make synth ADMIN_CIDR=203.0.113.10/32")

# pytest-xdist workers: one more than the cores, since many tests wait on a CDK CLI, jsii or emulator process
# (on 2 cores: 174 s with 3 workers, 207 s with 2); each test file on one worker, so its module fixtures (a
# synthesized app, a deployed emulator) are built once. The slowest tests are listed at the end.
TEST_WORKERS ?= $(shell echo $$(( $$(nproc 2>/dev/null || echo 2) + 1 )))
test: install system-packages
	$(VENV)/bin/python -m pytest -n $(TEST_WORKERS) --dist loadfile --durations=15

# The packet-filter scan tests need nmap, nftables and iproute2: installed with apt when running as root.
system-packages:
	@missing=""; for tool in nmap nft ip; do command -v $$tool >/dev/null || missing="$$missing $$tool"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "apt-get install nmap nftables iproute2   # missing:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nmap nftables iproute2; \
	  else \
	    echo "warning: missing$$missing: the scan tests need root and 'apt-get install nmap nftables iproute2'"; \
	  fi; \
	fi

# Internal: everything both targets need.
install: $(PY_STAMP) $(NODE_STAMP)

# uv (pinned in requirements-bootstrap.txt) installs the pinned requirements into the venv: about 10 s where
# pip takes 80-100 s, on the same pins. The project itself is installed editable (its console scripts work from
# any folder), built with the setuptools pinned in requirements-dev.txt: no build environment to download.
UV := $(VENV)/bin/uv
$(PY_STAMP): requirements-bootstrap.txt requirements.txt requirements-dev.txt requirements-lock.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet -r requirements-bootstrap.txt
	$(UV) pip install --quiet --python $(VENV)/bin/python -r requirements-dev.txt -c requirements-lock.txt
	$(UV) pip install --quiet --python $(VENV)/bin/python --no-deps --no-build-isolation -C editable_mode=compat --editable .
	touch $@

$(NODE_STAMP): package.json package-lock.json
	@echo "npm ci --no-fund --no-audit   # with the system Node; it installs the pinned one"
	@PATH="$(SYSTEM_PATH)" npm ci --no-fund --no-audit
	touch $@

# requirements-lock.txt: the transitive pins of requirements-dev.txt, resolved for Python 3.11.
lock: $(PY_STAMP)
	{ sed -n 1,2p requirements-lock.txt; $(UV) pip compile --quiet --python-version 3.11 --no-header --annotation-style line requirements-dev.txt; } > requirements-lock.txt.new
	mv requirements-lock.txt.new requirements-lock.txt

# More targets (scan, bench, ...) live in mk/.
include $(wildcard mk/*.mk)
