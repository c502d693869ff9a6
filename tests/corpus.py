"""The public template corpus (``../shared/corpora/aws-cloudformation-templates``) and what the guard says on it.

Shared by ``tests/test_corpus.py`` (the findings must be the ones ``tests/fixtures/corpus-expectations.yaml``
lists, each with its documented reason) and ``benchmarks/corpus_compare.py`` (the same findings next to
checkov's). Every file is checked on its own, as ``admin-port-guard FILE`` checks it: the corpus is a
collection of independent sample stacks, not one application.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from constructs_lib.policy import TemplateError, check_templates, load

ROOT = Path(__file__).resolve().parent.parent
CORPUS_NAME = "aws-cloudformation-templates"
EXPECTATIONS = ROOT / "tests" / "fixtures" / "corpus-expectations.yaml"
TEMPLATE_SUFFIXES = (".json", ".yaml", ".yml")


class Entry(NamedTuple):
    """One finding on one corpus file, as the expectations file lists it."""

    file: str
    rule: str  # the check name: ``WorldOpenAdminPort[22]``, ``MalformedTemplate``
    resource: str | None
    message: str

    def line(self) -> str:
        return f"{self.file}: {self.rule} {self.resource or '-'}: {self.message}"


class Outcome(NamedTuple):
    """What the guard made of one file: ``not_a_template`` (the CLI's exit 2) or its findings."""

    file: str
    not_a_template: str | None
    entries: tuple[Entry, ...]


def corpus_dir() -> Path:
    """The corpus folder: ``shared/corpora/`` in the repository's parent folder (CI's layout) or, for a git
    worktree kept deeper, in the nearest ancestor that holds it. Raises ``FileNotFoundError`` saying where."""
    for folder in ROOT.parents:
        candidate = folder / "shared" / "corpora" / CORPUS_NAME
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(
        f"the template corpus is missing: expected {ROOT.parent / 'shared' / 'corpora' / CORPUS_NAME} "
        "(CI lays it out so: the clone's parent folder holds shared/corpora/); the corpus test cannot run without it"
    )


def corpus_files(corpus: Path) -> list[Path]:
    return sorted(path for path in corpus.rglob("*") if path.is_file() and path.name.endswith(TEMPLATE_SUFFIXES))


def check_file(corpus: Path, path: Path) -> Outcome:
    """Load and check one file. An exception other than ``TemplateError`` propagates: it is a crash."""
    name = path.relative_to(corpus).as_posix()
    try:
        templates = load([path])
    except TemplateError as error:
        return Outcome(name, str(error), ())
    entries = tuple(
        Entry(name, finding.check_name, finding.location.logical_id, finding.message)
        for finding in sorted(check_templates(templates), key=lambda finding: finding.sort_key())
    )
    return Outcome(name, None, entries)
