"""The guard on 298 public AWS sample templates: no crash, no unreadable file that is a template, and exactly the
findings ``tests/fixtures/corpus-expectations.yaml`` lists, each with its documented reason.

A new finding on that corpus, or a listed one that disappears, fails with the difference (and, for new findings,
the entries to add once their reason is known). The corpus is ``../shared/corpora/aws-cloudformation-templates``
(see ``tests/corpus.py``); without it the test fails, it does not skip.
"""

from __future__ import annotations

import json
import traceback

import yaml
from corpus import EXPECTATIONS, Entry, check_file, corpus_dir, corpus_files

#: The rules whose findings on the corpus are listed. ValidationFailed (a crash) is never an expectation.
LISTED_RULES = ("WorldOpenAdminPort", "BroadAdminSource", "UnverifiableIngress", "MalformedIngress", "MalformedTemplate")
#: Why a finding on the corpus is right. None may say the guard misreads valid CloudFormation: a finding for that
#: is a bug to fix in the core, never an expectation.
CATEGORIES = ("genuinely-open", "unknowable-at-synth", "not-a-template-until-processed")

EXPECTED = yaml.safe_load(EXPECTATIONS.read_text(encoding="utf-8"))


def _entry(item: dict) -> Entry:
    return Entry(item["file"], item["rule"], item["resource"], item["message"])


def _yaml_entry(entry: Entry) -> str:
    fields = {**entry._asdict(), "reason": "<reason>"}
    return "  - {" + ", ".join(f"{key}: {json.dumps(value)}" for key, value in fields.items()) + "}"


def test_every_corpus_finding_is_listed_with_its_reason_and_every_listed_one_still_happens() -> None:
    corpus = corpus_dir()
    files = corpus_files(corpus)
    assert len(files) == EXPECTED["corpus"]["files"], f"{corpus} holds {len(files)} JSON/YAML files, not {EXPECTED['corpus']['files']}: another corpus?"
    crashes, unreadable, found = [], {}, set()
    for path in files:
        try:
            outcome = check_file(corpus, path)
        except Exception:  # noqa: BLE001 - every crash is reported, with its file
            crashes.append(f"{path.relative_to(corpus)}:\n{traceback.format_exc()}")
            continue
        if outcome.not_a_template is not None:
            unreadable[outcome.file] = outcome.not_a_template
        found.update(outcome.entries)
    assert not crashes, "the guard crashed on corpus files:\n" + "\n".join(crashes)
    assert unreadable.keys() == EXPECTED["not_templates"].keys(), (
        "files the guard cannot read (exit 2) are not the corpus's non-templates:\n"
        + "\n".join(f"  {name}: {error}" for name, error in sorted(unreadable.items()) if name not in EXPECTED["not_templates"])
        + "".join(f"\n  listed but read: {name}" for name in sorted(EXPECTED["not_templates"].keys() - unreadable.keys()))
    )
    failed = sorted(entry for entry in found if entry.rule.partition("[")[0] not in LISTED_RULES)
    assert not failed, "a check failed on corpus files:\n" + "\n".join(entry.line() for entry in failed)
    listed = {_entry(item): item["reason"] for item in EXPECTED["findings"]}
    new, gone = sorted(found - listed.keys()), sorted(listed.keys() - found)
    assert not new and not gone, (
        f"the guard's findings on the corpus differ from {EXPECTATIONS.name}:\n"
        + "".join(f"- {entry.line()}   [listed as {listed[entry]}]\n" for entry in gone)
        + "".join(f"+ {entry.line()}\n" for entry in new)
        + ("new entries, to add with a documented reason once it is known:\n" + "\n".join(map(_yaml_entry, new)) if new else "")
    )


def test_every_listed_finding_has_a_documented_reason() -> None:
    reasons = EXPECTED["reasons"]
    for name, reason in reasons.items():
        assert reason["category"] in CATEGORIES, name
        assert reason["why"].strip(), name
        assert reason["docs"] and all(url.startswith("https://") for url in reason["docs"]), name
        assert any(url.startswith("https://docs.aws.amazon.com/") for url in reason["docs"]), f"{name} cites no AWS documentation page"
    used = [item["reason"] for item in EXPECTED["findings"]] + list(EXPECTED["not_templates"].values())
    assert set(used) <= reasons.keys(), f"unknown reasons: {sorted(set(used) - reasons.keys())}"
    assert set(used) == reasons.keys(), f"reasons no finding uses: {sorted(reasons.keys() - set(used))}"
    assert all(item["rule"].partition("[")[0] in LISTED_RULES for item in EXPECTED["findings"])
    assert len({_entry(item) for item in EXPECTED["findings"]}) == len(EXPECTED["findings"]), "a finding is listed twice"
