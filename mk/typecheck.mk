# `make typecheck`: mypy (strict, [tool.mypy] in pyproject.toml) on the package's own source, then tests/typing:
# mypy --strict and pyright (strict; node_modules, package.json) on a user's app importing from the package root,
# against the real aws_cdk types. Not part of `make test`: a cold mypy run reads all of aws_cdk (60-90 s of CPU
# here; build/mypy-cache, shared by both mypy runs, keeps later ones at 1-2 s) and pyright takes 7-11 s of CPU
# each run. `make test` has the cheap check (tests/test_typed_exports.py: aws_cdk typed Any, about 1 s).
.PHONY: typecheck

typecheck: install
	$(VENV)/bin/python -m mypy --cache-dir build/mypy-cache
	$(VENV)/bin/python -m pytest -o addopts=-ra tests/typing
