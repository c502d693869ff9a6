"""Render findings: one function per format, registered in ``RENDERERS`` (the CLI's ``--format`` choices).

* ``text``: one line per finding, for people and logs;
* ``json``: every field, for scripts;
* ``sarif``: SARIF 2.1.0 for GitHub code scanning. Results point first at the user's source line when
  the cloud assembly records it (``code_location``), with the template location kept as a related
  location; paths are relative to the root of the repository holding the working directory
  (``%SRCROOT%``); fingerprints do not change with messages or line numbers.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence

from ..policy import PACK_NAME, RULES, Finding, GuardPolicy

SRCROOT = "%SRCROOT%"


def render_text(findings: Sequence[Finding], policy: GuardPolicy | None = None) -> str:
    """One line per finding: status, rule, where (source line, template, logical id, construct path), port, fix;
    then the prefix lists the policy trusts, with their reasons."""
    lines = []
    for finding in findings:
        status = f"ACKNOWLEDGED ({finding.acknowledgement})" if finding.acknowledgement is not None else "ERROR"
        location = finding.location
        where = f"{location.template} {location.logical_id}"
        if location.construct_path:
            where += f" [{location.construct_path}]"
        if finding.code_location is not None:
            where = f"{finding.code_location.path}:{finding.code_location.line}: {where}"
        port = f" port={finding.port}/{finding.protocol or 'tcp'}" if finding.port is not None else ""
        lines.append(f"{status} {finding.rule_name} {where}{port}: {finding.message}. Fix: {finding.fix}")
    active = sum(finding.acknowledgement is None for finding in findings)
    lines.append(f"{active} finding(s), {len(findings) - active} acknowledged" if findings else "No findings.")
    for prefix_list, reason in (policy.trusted_prefix_lists.items() if policy is not None else ()):
        lines.append(f"TRUSTED prefix list {prefix_list} ({policy.origin}): {reason}")  # type: ignore[union-attr]
    return "\n".join(lines) + "\n"


def render_json(findings: Sequence[Finding], policy: GuardPolicy | None = None) -> str:
    records = []
    for finding in findings:
        location = finding.location
        code = finding.code_location
        records.append(
            {
                "rule": finding.rule_id,
                "ruleName": finding.rule_name,
                "template": location.template,
                "templatePath": location.template_path,
                "logicalId": location.logical_id,
                "constructPath": location.construct_path,
                "codeLocation": {"path": code.path, "line": code.line} if code is not None else None,
                "port": finding.port,
                "protocol": finding.protocol,
                "sources": list(finding.sources),
                "rules": list(finding.contributors),
                "message": finding.message,
                "fix": finding.fix,
                "acknowledged": finding.acknowledgement is not None,
                "acknowledgementReason": finding.acknowledgement,
            }
        )
    active = sum(not record["acknowledged"] for record in records)
    summary = {"findings": active, "acknowledged": len(records) - active, "passed": active == 0}
    document = {"tool": PACK_NAME, "summary": summary, "findings": records}
    if policy is not None:
        document.update(policy=policy.to_mapping(), policyOrigin=policy.origin)
    return json.dumps(document, indent=2) + "\n"


def render_sarif(findings: Sequence[Finding], policy: GuardPolicy | None = None) -> str:
    from ..version import package_version
    from .sources import repository_root

    rules = [
        {
            "id": rule.id,
            "name": _pascal_case(rule.name),
            "shortDescription": {"text": rule.name},
            "fullDescription": {"text": rule.summary},
            "help": {"text": rule.fix, "markdown": f"**{rule.name}.** {rule.summary}\n\n**Fix.** {rule.fix}"},
            "defaultConfiguration": {"level": "error"},
            "properties": {"tags": ["security"], "security-severity": "8.0"},
        }
        for rule in RULES
    ]
    root = repository_root(os.getcwd())
    fingerprints = _fingerprints(findings)
    run = {
        "tool": {"driver": {"name": PACK_NAME, "version": package_version(), "rules": rules}},
        "originalUriBaseIds": {SRCROOT: {"uri": "file://" + _quote(root.replace(os.sep, "/").rstrip("/") + "/")}},
        "results": [_sarif_result(finding, fingerprint, root) for finding, fingerprint in zip(findings, fingerprints)],
    }
    if policy is not None:  # what the findings were judged under, trusted prefix lists and their reasons included
        run["properties"] = {"policy": policy.to_mapping(), "policyOrigin": policy.origin}
    document = {"$schema": "https://json.schemastore.org/sarif-2.1.0.json", "version": "2.1.0", "runs": [run]}
    return json.dumps(document, indent=2) + "\n"


def _pascal_case(text: str) -> str:
    return "".join(word[:1].upper() + word[1:] for word in text.replace("-", " ").split())


def _artifact(path: str, root: str) -> dict:
    """A location under ``%SRCROOT%``: ``path`` relative to ``root`` (already relative paths are kept)."""
    relative = os.path.relpath(path, root) if os.path.isabs(path) or os.path.exists(path) else path
    return {"uri": _quote(relative.replace(os.sep, "/")), "uriBaseId": SRCROOT}


def _quote(path: str) -> str:
    """A path as a URI reference (``urllib.parse`` is imported only for SARIF: it costs the text formats' start-up)."""
    from urllib.parse import quote

    return quote(path)


def _sarif_result(finding: Finding, fingerprint: str, root: str) -> dict:
    location = finding.location
    logical = {"name": location.logical_id, "kind": "resource"}
    if location.construct_path:
        logical["fullyQualifiedName"] = location.construct_path
    template_location = {
        "physicalLocation": {
            "artifactLocation": _artifact(location.template_path or location.template, root),
            "region": {"startLine": _line_of(location.template_path, location.logical_id)},
        },
        "logicalLocations": [logical],
    }
    result: dict = {
        "ruleId": finding.rule_id,
        "ruleIndex": RULES.index(finding.rule),
        "level": "error",
        "message": {"text": f"{finding.message}. Fix: {finding.fix}"},
        "partialFingerprints": {"adminPortGuard/v1": fingerprint},
    }
    if finding.code_location is not None:
        code = finding.code_location
        result["locations"] = [
            {
                "physicalLocation": {"artifactLocation": {"uri": _quote(code.path), "uriBaseId": SRCROOT}, "region": {"startLine": code.line}},
                "logicalLocations": [logical],
            }
        ]
        result["relatedLocations"] = [{"id": 1, "message": {"text": "the synthesized resource"}, **template_location}]
    else:
        result["locations"] = [template_location]
    if finding.acknowledgement is not None:
        result["suppressions"] = [{"kind": "external", "justification": finding.acknowledgement}]
    return result


def _fingerprints(findings: Sequence[Finding]) -> list[str]:
    """One per finding, stable across runs: the rule (with port), the stack, the resource and the rules that
    open the port; never messages or line numbers. Findings that share all of these are numbered."""
    import hashlib

    seen: dict[str, int] = {}
    fingerprints = []
    for finding in findings:
        location = finding.location
        key = "|".join((finding.rule_name, location.template, location.logical_id, *sorted(finding.contributors)))
        seen[key] = seen.get(key, 0) + 1
        fingerprints.append(hashlib.sha256(f"{key}|{seen[key]}".encode()).hexdigest()[:32])
    return fingerprints


_lines: dict[str, list[str]] = {}


def _line_of(path: str | None, logical_id: str) -> int:
    """The 1-based line where ``logical_id`` is declared as a key in the template (1 if it cannot be found)."""
    if path is None:
        return 1
    if path not in _lines:
        try:
            with open(path, encoding="utf-8") as file:
                _lines[path] = file.read().splitlines()
        except (OSError, UnicodeDecodeError):
            _lines[path] = []
    for number, line in enumerate(_lines[path], start=1):
        stripped = line.lstrip().lstrip("\"'")
        if stripped.startswith(logical_id) and stripped[len(logical_id):].lstrip("\"'").lstrip().startswith(":"):
            return number
    return 1


#: ``{format: renderer}``; the CLI offers exactly these.
RENDERERS: dict[str, Callable[[Sequence[Finding], GuardPolicy | None], str]] = {
    "text": render_text, "json": render_json, "sarif": render_sarif,
}


def render(findings: Sequence[Finding], output_format: str, policy: GuardPolicy | None = None) -> str:
    return RENDERERS[output_format](findings, policy)

