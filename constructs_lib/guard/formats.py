"""Render findings as text (one line each), JSON, or SARIF 2.1.0 for GitHub code scanning."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

from ..policy import PACK_NAME, Finding, Rule

INFORMATION_URI = "https://github.com/aws-samples/admin-port-guard/blob/main/RULES.md"


def render(findings: Sequence[Finding], output_format: str) -> str:
    return {"text": render_text, "json": render_json, "sarif": render_sarif}[output_format](findings)


def render_text(findings: Sequence[Finding]) -> str:
    """One line per finding: status, rule, template, logical id, construct path, port, protocol, sources, fix."""
    lines = []
    for finding in findings:
        status = f"ACKNOWLEDGED ({finding.acknowledgement})" if finding.acknowledgement is not None else "ERROR"
        where = f"{finding.location.template} {finding.location.logical_id}"
        if finding.location.construct_path:
            where += f" [{finding.location.construct_path}]"
        port = f" port={finding.port}/{finding.protocol or 'tcp'}" if finding.port is not None else ""
        sources = f" sources={','.join(finding.sources)}" if finding.sources else ""
        lines.append(f"{status} {finding.rule_name} {where}{port}{sources}: {finding.message}. Fix: {finding.fix}")
    active = sum(finding.acknowledgement is None for finding in findings)
    lines.append(f"{active} finding(s), {len(findings) - active} acknowledged" if findings else "No findings.")
    return "\n".join(lines) + "\n"


def render_json(findings: Sequence[Finding]) -> str:
    records = [
        {
            "rule": finding.rule_id,
            "ruleName": finding.rule_name,
            "template": finding.location.template,
            "templatePath": finding.location.template_path,
            "logicalId": finding.location.logical_id,
            "constructPath": finding.location.construct_path,
            "port": finding.port,
            "protocol": finding.protocol,
            "sources": list(finding.sources),
            "rules": list(finding.contributors),
            "message": finding.message,
            "fix": finding.fix,
            "acknowledged": finding.acknowledgement is not None,
            "acknowledgementReason": finding.acknowledgement,
        }
        for finding in findings
    ]
    active = sum(not record["acknowledged"] for record in records)
    summary = {"findings": active, "acknowledged": len(records) - active, "passed": active == 0}
    return json.dumps({"tool": PACK_NAME, "summary": summary, "findings": records}, indent=2) + "\n"


def render_sarif(findings: Sequence[Finding]) -> str:
    rules = [
        {
            "id": rule.value,
            "name": rule.value,
            "shortDescription": {"text": rule.summary},
            "fullDescription": {"text": rule.summary},
            "help": {"text": rule.fix},
            "helpUri": INFORMATION_URI,
            "defaultConfiguration": {"level": "error"},
            "properties": {"tags": ["security"], "security-severity": "8.0"},
        }
        for rule in Rule
    ]
    results = [_sarif_result(finding) for finding in findings]
    run = {"tool": {"driver": {"name": PACK_NAME, "informationUri": INFORMATION_URI, "rules": rules}}, "results": results}
    document = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [run],
    }
    return json.dumps(document, indent=2) + "\n"


def _sarif_result(finding: Finding) -> dict:
    location = finding.location
    uri = Path(os.path.relpath(location.template_path)).as_posix() if location.template_path else location.template
    logical = {"name": location.logical_id, "kind": "resource"}
    if location.construct_path:
        logical["fullyQualifiedName"] = location.construct_path
    result = {
        "ruleId": finding.rule_id,
        "ruleIndex": list(Rule).index(finding.rule),
        "level": "error",
        "message": {"text": f"{finding.message}. Fix: {finding.fix}"},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": uri},
                    "region": {"startLine": _line_of(location.template_path, location.logical_id)},
                },
                "logicalLocations": [logical],
            }
        ],
        "partialFingerprints": {"adminPortGuard/v1": f"{finding.rule_name}|{location.template}|{location.logical_id}"},
    }
    if finding.acknowledgement is not None:
        result["suppressions"] = [{"kind": "external", "justification": finding.acknowledgement}]
    return result


@lru_cache(maxsize=256)
def _template_lines(path: str) -> tuple[str, ...]:
    try:
        return tuple(Path(path).read_text(encoding="utf-8").splitlines())
    except (OSError, UnicodeDecodeError):
        return ()


def _line_of(path: str | None, logical_id: str) -> int:
    """The 1-based line where ``logical_id`` is declared in the template (1 if it cannot be found)."""
    if path is None:
        return 1
    declaration = re.compile(rf"^\s*[\"']?{re.escape(logical_id)}[\"']?\s*:")
    for number, line in enumerate(_template_lines(path), start=1):
        if declaration.match(line):
            return number
    return 1
