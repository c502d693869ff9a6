# `make compat`: the guard beside cdk-nag 2.38.2 (the Aspects era) and cdk-nag 3, not part of `make test`.
# Each major gets its own venv (build/compat/nag<N>/.venv, from requirements-compat-nag<N>.txt, together
# with this project, so pip proves pyproject.toml's dependency range admits that cdk-nag). Then, with the
# pinned CDK CLI and Node, tests/apps/compat.py synthesizes a world-SSH app (must fail: the guard's finding),
# the guard registered as an aspect (must fail: how to register it) and the reference app (must pass,
# with the same accepted AwsSolutions findings under both majors). About 2 min on a first run, 1 min after.

COMPAT_DIR    := build/compat
COMPAT_MAJORS := 2 3
COMPAT_VENVS  := $(foreach major,$(COMPAT_MAJORS),$(COMPAT_DIR)/nag$(major)/.venv)

.PHONY: compat

compat: $(NODE_STAMP) $(foreach venv,$(COMPAT_VENVS),$(venv)/.installed)
	@rm -rf $(COMPAT_DIR)/out
	$(PYTHON) tests/apps/compat.py $(COMPAT_DIR)/out $(COMPAT_VENVS)

$(COMPAT_DIR)/nag%/.venv/.installed: requirements-compat-nag%.txt pyproject.toml
	test -x $(@D)/bin/python || $(PYTHON) -m venv $(@D)
	$(@D)/bin/python -m pip install --quiet -r $<
	$(@D)/bin/python -m pip install --quiet --no-build-isolation -r $< .
	touch $@
