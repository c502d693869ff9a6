"""pytest plugin for ``make mutation`` (mk/mutation.mk, loaded with ``-p mutation_plugin``); ``make test`` does not load it.

* Each pytest session gets a temporary directory of its own under ``/tmp/pt-mutation``, removed when it ends:
  mutmut runs one session per mutant, several at once, and sessions sharing one ``--basetemp`` delete each
  other's files, which would count a mutant as killed by a test that never saw it.
* Hypothesis tests run a fixed (derandomized) sample of ``MUTATION_EXAMPLES`` examples (default 25), so every
  run kills the same mutants and a surviving mutant costs a second instead of the full run of ``make test``.
* The core's memo caches are emptied when a session starts (see ``CACHES``).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile

import pytest

ROOT = "/tmp/pt-mutation"


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    os.makedirs(ROOT, exist_ok=True)
    config.option.basetemp = tempfile.mkdtemp(prefix=f"{os.getpid()}-", dir=ROOT)


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(config.option.basetemp, ignore_errors=True)


#: The core's memo caches, by module. mutmut forks every mutant's session from a process that has already run
#: the tests, so a cached result (computed by the original code) would hide the mutant from every input seen before.
CACHES = {"constructs_lib.policy.cidr": ("_parsed", "_public_blocks"), "constructs_lib.policy.readers.ec2": ("_cidr_sources",)}


def pytest_sessionstart(session: pytest.Session) -> None:
    for module_name, names in CACHES.items():
        module = sys.modules.get(module_name)
        for name in names if module is not None else ():
            getattr(module, name).clear()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    from hypothesis import settings

    examples = int(os.environ.get("MUTATION_EXAMPLES", "25"))
    for item in items:
        test = getattr(item, "obj", None)
        if getattr(test, "is_hypothesis_test", False):
            inherited = test._hypothesis_internal_use_settings
            test._hypothesis_internal_use_settings = settings(
                inherited, max_examples=min(examples, inherited.max_examples), derandomize=True, database=None
            )
