# `make typecheck`: mypy --strict on a user's app importing from the package root (tests/typing), not part of
# `make test` (a cold run reads all of aws_cdk: about 90 s of CPU here; build/mypy-cache keeps later runs ~2 s).
.PHONY: typecheck

typecheck: install
	$(VENV)/bin/python -m pytest -o addopts=-ra tests/typing
