# `make compat`: the guard on a matrix of dependency versions, not part of `make test`. Rows (one venv each, in
# build/compat/<row>/.venv): the floors of pyproject.toml (requirements-compat-floor.txt: aws-cdk-lib, constructs,
# PyYAML) and the dev pins (requirements.txt without its cdk-nag), each with cdk-nag 2.38.2 (the Aspects era) and
# 3.0.2 (requirements-compat-nag<N>.txt). uv installs a row, then pip installs this project's `cdk` extra under the
# same pins, so pip proves pyproject.toml's ranges admit them. With the pinned CDK CLI and Node,
# tests/apps/compat.py then synthesizes in each row a world-SSH app (must fail: the guard's finding), the guard
# registered as an aspect (must fail: how to register it), an acknowledged group beside two open ones, one in a
# stage's stack (must fail on exactly those two, at their lines), the guard CLI on a YAML template, and the
# reference app (must pass, with the same accepted AwsSolutions findings in every row). A last venv holds the
# `live` extra's floor (requirements-compat-live-floor.txt) and runs tests/test_live_audit.py.
# Measured here (2 cores shared with other jobs, load 5-7): 4 min 6 s on a first run (uv's cache already held the
# wheels), 2 min 23 s after, when only the checks run.

COMPAT_DIR        := build/compat
COMPAT_ROWS       := $(foreach set,floor pins,$(foreach major,2 3,$(set)-nag$(major)))
COMPAT_VENVS      := $(foreach row,$(COMPAT_ROWS),$(COMPAT_DIR)/$(row)/.venv)
COMPAT_LIVE_VENV  := $(COMPAT_DIR)/live-floor/.venv
COMPAT_SET_floor  := requirements-compat-floor.txt
COMPAT_SET_pins   := $(COMPAT_DIR)/requirements-pins.txt

.PHONY: compat

compat: $(NODE_STAMP) $(foreach venv,$(COMPAT_VENVS) $(COMPAT_LIVE_VENV),$(venv)/.installed)
	@rm -rf $(COMPAT_DIR)/out
	$(PYTHON) tests/apps/compat.py $(COMPAT_DIR)/out $(COMPAT_VENVS)
	$(COMPAT_LIVE_VENV)/bin/python -m pytest -q -p no:cacheprovider tests/test_live_audit.py

# The dev pins of aws-cdk-lib, constructs and PyYAML: requirements.txt without its cdk-nag.
$(COMPAT_SET_pins): requirements.txt
	mkdir -p $(@D) && grep -v '^cdk-nag' $< > $@

# $(1): a venv, made from the requirements files $(2), with this project and its extra $(3) installed under them.
define compat_venv
rm -rf $(1) && $(PYTHON) -m venv $(1)
cat $(2) > $(1)/requirements.txt
$(UV) pip install --quiet --python $(1)/bin/python -r $(1)/requirements.txt
$(1)/bin/python -m pip install --quiet --no-build-isolation -r $(1)/requirements.txt '.[$(3)]'
touch $(1)/.installed
endef

define compat_row
$(COMPAT_DIR)/$(1)-nag$(2)/.venv/.installed: $(COMPAT_SET_$(1)) requirements-compat-nag$(2).txt pyproject.toml $(PY_STAMP)
	$$(call compat_venv,$$(@D),$(COMPAT_SET_$(1)) requirements-compat-nag$(2).txt,cdk)
endef
$(foreach set,floor pins,$(foreach major,2 3,$(eval $(call compat_row,$(set),$(major)))))

$(COMPAT_LIVE_VENV)/.installed: requirements-compat-live-floor.txt pyproject.toml $(PY_STAMP)
	$(call compat_venv,$(@D),$<,live)
