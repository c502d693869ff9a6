"""The package's version: one constant, which setuptools reads at build time (``pyproject.toml``: dynamic
version) and the tools print without importing ``importlib.metadata`` (slow to import)."""

VERSION = "0.1.0"


def package_version() -> str:
    return VERSION
