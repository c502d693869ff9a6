"""The installed package's version (read lazily: ``importlib.metadata`` is slow to import)."""

from __future__ import annotations

DISTRIBUTION = "admin-port-guard"


def package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:
        return "0+unknown (not installed; pip install -e .)"
