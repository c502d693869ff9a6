"""One policy for missing test requirements: fail, saying what to install (``make test`` installs everything).

A skipped test is not a pass: a suite that skips on a machine without the toolchain would report green
for checks that never ran.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent


def needs(module: str, what: str) -> ModuleType:
    """``module``, imported; or fail ``what`` (the tests that need it), naming the install step."""
    try:
        return importlib.import_module(module)
    except ImportError:
        pytest.fail(f"{what} need {module}: run `make test` (it installs requirements-dev.txt)", pytrace=False)


def needs_toolchain(what: str) -> Path:
    """The pinned CDK CLI (node_modules/.bin/cdk); or fail ``what``, naming the install step."""
    cli = ROOT / "node_modules" / ".bin" / "cdk"
    if not cli.exists():
        pytest.fail(f"{what} need the pinned CDK CLI: run `make test` (it runs npm ci)", pytrace=False)
    return cli
