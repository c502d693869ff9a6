"""Fingerprints of findings, and the baseline that lets a team adopt the guard on an existing estate.

A fingerprint names what a finding is about, never how it is worded or where it sits in the file: the
rule with its port (``WorldOpenAdminPort[22]``), the template's identity (a cloud assembly's stack name,
or a template file's path relative to its git repository's root; outside a repository, its absolute
path) and the resource's logical id.
So it survives unrelated edits, reordered or reformatted templates, resources moved in the code that
keep their logical id, new messages, and running from another folder. Findings that share all of
these are numbered. SARIF (``partialFingerprints``), GitLab code quality and the baseline use it.

``--create-baseline FILE`` writes the fingerprints of today's findings; ``--baseline FILE`` then marks
those findings ``BASELINED`` (reported, not failing) and reports the entries that match nothing any
more (stale: fixed, or renamed). ``ValidationFailed`` and ``MalformedTemplate`` are never baselined: a
crashed or unreadable check is never a pass. Acknowledged findings are left out (they pass already).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence

from ..policy import PACK_NAME, Finding
from ..policy.findings import UNACKNOWLEDGEABLE

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

VERSION = 1


class BaselineError(ValueError):
    """A baseline file that cannot be read or written."""


def identity(finding: Finding) -> str:
    """The template's identity: its stack name, or (a template file) its path from the repository root."""
    location = finding.location
    if location.template_path is None or location.template != location.template_path:
        return location.template
    from .sources import git_root

    path = os.path.abspath(location.template_path)
    root = git_root(path)
    return (os.path.relpath(path, root) if root else path).replace(os.sep, "/")  # in no repository: wherever it is


def fingerprints(findings: Sequence[Finding]) -> list[str]:
    """One fingerprint per finding, in order."""
    import hashlib  # not on the text report's path: it costs start-up

    seen: dict[str, int] = {}
    result = []
    for finding in findings:
        key = "|".join((finding.rule_name, identity(finding), finding.location.logical_id))
        seen[key] = seen.get(key, 0) + 1
        result.append(hashlib.sha256(f"{key}|{seen[key]}".encode()).hexdigest()[:32])
    return result


def baselinable(finding: Finding) -> bool:
    return finding.rule not in UNACKNOWLEDGEABLE and finding.acknowledgement is None


def write_baseline(path: str, findings: Sequence[Finding]) -> int:
    """Write the baseline of ``findings`` to ``path``; return how many entries it holds."""
    entries = [
        {"fingerprint": fingerprint, "rule": finding.rule_name, "template": identity(finding), "logicalId": finding.location.logical_id,
         "message": finding.message}
        for finding, fingerprint in zip(findings, fingerprints(findings)) if baselinable(finding)
    ]
    document = {"tool": PACK_NAME, "baselineVersion": VERSION, "findings": sorted(entries, key=lambda e: (e["template"], e["logicalId"], e["rule"]))}
    try:
        with open(path, "w", encoding="utf-8") as file:
            json.dump(document, file, indent=2)
            file.write("\n")
    except OSError as error:
        raise BaselineError(f"cannot write baseline {path}: {error}") from None
    return len(entries)


def read_baseline(path: str) -> dict[str, dict[str, Any]]:
    """The entries of a baseline file by fingerprint; ``BaselineError`` when it is not one."""
    try:
        with open(path, encoding="utf-8") as file:
            document = json.load(file)
    except (OSError, ValueError) as error:
        raise BaselineError(f"cannot read baseline {path}: {error}") from None
    ours = isinstance(document, dict) and document.get("tool") == PACK_NAME and document.get("baselineVersion") == VERSION
    entries = document.get("findings") if ours else None
    if not isinstance(entries, list) or not all(isinstance(e, dict) and isinstance(e.get("fingerprint"), str) for e in entries):
        raise BaselineError(f"{path} is not an {PACK_NAME} baseline (version {VERSION}): write one with --create-baseline")
    return {entry["fingerprint"]: entry for entry in entries}


def apply_baseline(findings: Sequence[Finding], entries: dict[str, dict[str, Any]]) -> tuple[frozenset[Finding], list[dict[str, Any]]]:
    """The findings the baseline accepts, and its stale entries (matching no finding)."""
    matched: set[str] = set()
    accepted = set()
    for finding, fingerprint in zip(findings, fingerprints(findings)):
        if fingerprint in entries and baselinable(finding):
            matched.add(fingerprint)
            accepted.add(finding)
    return frozenset(accepted), [entry for fingerprint, entry in entries.items() if fingerprint not in matched]
