"""Render findings: one function per format, registered in ``RENDERERS`` (the CLI's ``--format`` choices).

* ``text``: one block per resource (its file and line, construct path and source line), one line per
  finding in it, the fix and help link once; for people and logs;
* ``json``: every field, for scripts;
* ``sarif``: SARIF 2.1.0 for GitHub code scanning. Results point first at the user's source line when
  the cloud assembly records it (``code_location``), with the template location kept as a related
  location; paths are relative to the root of the repository holding the working directory
  (``%SRCROOT%``); fingerprints do not change with messages or line numbers;
* ``junit``: JUnit XML for GitLab, Jenkins and Azure DevOps test reports: a test suite per template, a
  failing test case per finding (acknowledged and baselined ones skipped);
* ``gitlab``: GitLab code quality (``artifacts:reports:codequality``), the findings that fail.

Template lines come from the parser (``positions``), on every format. ``Outcome`` carries what the CLI
adds to findings: those a baseline accepts, its stale entries, and the templates checked.
"""

from __future__ import annotations

import json
import os
from collections import namedtuple
from collections.abc import Callable, Sequence

from ..policy import PACK_NAME, RULES, CodeLocation, Finding, GuardPolicy, Rule
from .baseline import fingerprints, identity
from .positions import resource_line, rule_line

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

SRCROOT = "%SRCROOT%"
RULES_DOCUMENT = "RULES.md"


#: What a run adds to its findings: those the ``baseline`` file accepts (``baselined``), its ``stale`` entries
#: (matching no finding), and the names of the ``templates`` checked (JUnit lists the clean ones too).
Outcome = namedtuple("Outcome", "baselined stale baseline templates", defaults=(frozenset(), (), None, ()))


def failing(finding: Finding, outcome: Outcome | None) -> bool:
    """Whether the finding fails the run: neither acknowledged nor accepted by the baseline."""
    return finding.acknowledgement is None and not (outcome is not None and finding in outcome.baselined)


def _status(finding: Finding, outcome: Outcome | None) -> str:
    if finding.acknowledgement is not None:
        return f"ACKNOWLEDGED ({finding.acknowledgement})"
    return "ERROR" if failing(finding, outcome) else "BASELINED"


def help_uri(rule: Rule) -> str:
    """The rule's section of RULES.md (``RULES.md#worldopenadminport``). A reference, not an absolute URL: the
    project publishes no documentation site, so SARIF gets no ``helpUri`` (which must be absolute) and its help
    text carries the link instead."""
    return f"{RULES_DOCUMENT}#{rule.id.lower()}"


def render_text(findings: Sequence[Finding], policy: GuardPolicy | None = None, outcome: Outcome | None = None) -> str:
    """One block per resource: where it is (source line, template file and line, logical id, construct path),
    then each finding with its status, then each distinct fix and help link; then the totals, the stale
    baseline entries, the policy's origin and the prefix lists it trusts, with their reasons."""
    blocks: dict[tuple[str, str, CodeLocation | None], list[Finding]] = {}
    for finding in findings:
        blocks.setdefault((finding.location.template, finding.location.logical_id, finding.code_location), []).append(finding)
    lines = []
    for block in blocks.values():
        lines.append(_where(block[0]) + ":")
        lines.extend(f"  {_status(finding, outcome)} {finding.rule_name}: {finding.message}" for finding in block)
        lines.extend(f"  Fix: {fix}" for fix in dict.fromkeys(finding.fix for finding in block))
        lines.extend(f"  Help: {help_uri(rule)}" for rule in dict.fromkeys(finding.rule for finding in block))
    active = sum(failing(finding, outcome) for finding in findings)
    acknowledged = sum(finding.acknowledgement is not None for finding in findings)
    totals = f"{active} finding(s), {acknowledged} acknowledged"
    if outcome is not None and outcome.baseline is not None:
        totals += f", {len(findings) - active - acknowledged} baselined ({outcome.baseline})"
    lines.append(totals if findings else "No findings.")
    for entry in outcome.stale if outcome is not None else ():
        lines.append(f"STALE baseline entry {entry.get('rule')} {entry.get('template')} {entry.get('logicalId')}: no such finding any more "
                     f"(fixed, or renamed); write the baseline again with --create-baseline")
    if policy is not None and policy.origin != "defaults":
        lines.append(f"Policy: {policy.origin}")
    if policy is not None:
        lines.extend(f"TRUSTED prefix list {prefix_list} ({policy.origin}): {reason}" for prefix_list, reason in policy.trusted_prefix_lists.items())
    return "\n".join(lines) + "\n"


def _where(finding: Finding) -> str:
    """``infra/app.py:11: Exposed Web3C8945DB [Exposed/Web/Resource] (cdk.out/Exposed.template.json:5)``, or for a
    template file ``templates/web.yaml:12: WebSg``."""
    location = finding.location
    line = resource_line(finding)
    if location.template_path is not None and location.template == location.template_path:
        where = f"{location.template}{f':{line}' if line else ''}"
        if not location.logical_id.startswith("line "):  # a YAML problem outside any resource: the line says it all
            where += f": {location.logical_id}"
    else:
        where = f"{location.template} {location.logical_id}"
        if location.template_path is not None and line:
            where += f" ({location.template_path}:{line})"
    if location.construct_path:
        where += f" [{location.construct_path}]"
    if finding.code_location is not None:
        where = f"{finding.code_location.path}:{finding.code_location.line}: {where}"
    return where


def render_json(findings: Sequence[Finding], policy: GuardPolicy | None = None, outcome: Outcome | None = None) -> str:
    records = []
    for finding, fingerprint in zip(findings, fingerprints(findings)):
        location = finding.location
        code = finding.code_location
        records.append(
            {
                "rule": finding.rule_id,
                "ruleName": finding.rule_name,
                "template": location.template,
                "templatePath": location.template_path,
                "line": resource_line(finding),
                "ruleLine": rule_line(finding),
                "logicalId": location.logical_id,
                "constructPath": location.construct_path,
                "codeLocation": {"path": code.path, "line": code.line} if code is not None else None,
                "port": finding.port,
                "protocol": finding.protocol,
                "sources": list(finding.sources),
                "rules": list(finding.contributors),
                "message": finding.message,
                "fix": finding.fix,
                "helpUri": help_uri(finding.rule),
                "fingerprint": fingerprint,
                "acknowledged": finding.acknowledgement is not None,
                "acknowledgementReason": finding.acknowledgement,
                "baselined": finding.acknowledgement is None and not failing(finding, outcome),
            }
        )
    active = sum(not record["acknowledged"] and not record["baselined"] for record in records)
    acknowledged = sum(bool(record["acknowledged"]) for record in records)
    summary: dict[str, Any] = {"findings": active, "acknowledged": acknowledged, "passed": active == 0}
    if outcome is not None and outcome.baseline is not None:
        summary.update(baselined=len(records) - active - acknowledged, baseline=outcome.baseline, staleBaselineEntries=list(outcome.stale))
    document = {"tool": PACK_NAME, "summary": summary, "findings": records}
    if policy is not None:
        document.update(policy=policy.to_mapping(), policyOrigin=policy.origin)
    return json.dumps(document, indent=2) + "\n"


def render_sarif(findings: Sequence[Finding], policy: GuardPolicy | None = None, outcome: Outcome | None = None) -> str:
    from ..version import package_version
    from .sources import repository_root

    rules = [
        {
            "id": rule.id,
            "name": _pascal_case(rule.name),
            "shortDescription": {"text": rule.name},
            "fullDescription": {"text": rule.summary},
            "help": {"text": f"{rule.fix} ({help_uri(rule)})",
                     "markdown": f"**{rule.name}.** {rule.summary}\n\n**Fix.** {rule.fix}\n\n[{RULES_DOCUMENT}: {rule.id}]({help_uri(rule)})"},
            "defaultConfiguration": {"level": "error"},
            "properties": {"tags": ["security"], "security-severity": "8.0"},
        }
        for rule in RULES
    ]
    root = repository_root(os.getcwd())
    prints = fingerprints(findings)
    run = {
        "tool": {"driver": {"name": PACK_NAME, "version": package_version(), "rules": rules}},
        "originalUriBaseIds": {SRCROOT: {"uri": "file://" + _quote(root.replace(os.sep, "/").rstrip("/") + "/")}},
        "results": [_sarif_result(finding, fingerprint, root, outcome) for finding, fingerprint in zip(findings, prints)],
    }
    if policy is not None:  # what the findings were judged under, trusted prefix lists and their reasons included
        run["properties"] = {"policy": policy.to_mapping(), "policyOrigin": policy.origin}
    document = {"$schema": "https://json.schemastore.org/sarif-2.1.0.json", "version": "2.1.0", "runs": [run]}
    return json.dumps(document, indent=2) + "\n"


def _pascal_case(text: str) -> str:
    return "".join(word[:1].upper() + word[1:] for word in text.replace("-", " ").split())


def _artifact(path: str, root: str) -> dict[str, str]:
    """A location under ``%SRCROOT%``: ``path`` relative to ``root`` (already relative paths are kept)."""
    relative = os.path.relpath(path, root) if os.path.isabs(path) or os.path.exists(path) else path
    return {"uri": _quote(relative.replace(os.sep, "/")), "uriBaseId": SRCROOT}


def _quote(path: str) -> str:
    """A path as a URI reference (``urllib.parse`` is imported only for SARIF: it costs the text formats' start-up)."""
    from urllib.parse import quote

    return quote(path)


def _sarif_result(finding: Finding, fingerprint: str, root: str, outcome: Outcome | None) -> dict[str, Any]:
    location = finding.location
    logical = {"name": location.logical_id, "kind": "resource"}
    if location.construct_path:
        logical["fullyQualifiedName"] = location.construct_path
    template_location = {
        "physicalLocation": {
            "artifactLocation": _artifact(location.template_path or location.template, root),
            "region": {"startLine": resource_line(finding) or 1},
        },
        "logicalLocations": [logical],
    }
    result: dict[str, Any] = {
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
    elif not failing(finding, outcome):
        result["suppressions"] = [{"kind": "external", "justification": f"accepted in the baseline {outcome.baseline}"}]  # type: ignore[union-attr]  # not failing and not acknowledged: baselined
    return result


_SEVERITY = {"WorldOpenAdminPort": "critical", "BroadAdminSource": "major", "UnverifiableIngress": "major", "MalformedIngress": "major",
             "MalformedTemplate": "blocker", "ValidationFailed": "blocker"}


def render_gitlab(findings: Sequence[Finding], policy: GuardPolicy | None = None, outcome: Outcome | None = None) -> str:
    """GitLab code quality: the failing findings, each at the user's source line where the assembly records it,
    else at its line in the template; paths relative to the repository root."""
    from .sources import repository_root

    root = repository_root(os.getcwd())
    issues = []
    for finding, fingerprint in zip(findings, fingerprints(findings)):
        if not failing(finding, outcome):
            continue
        code = finding.code_location
        if code is not None:
            path, line = code.path, code.line
        else:
            template = finding.location.template_path or finding.location.template
            path = (os.path.relpath(template, root) if os.path.isabs(template) or os.path.exists(template) else template).replace(os.sep, "/")
            line = rule_line(finding) or 1
        issues.append({
            "type": "issue",
            "description": f"{finding.rule_name}: {finding.message}. Fix: {finding.fix}",
            "check_name": finding.check_name,
            "fingerprint": fingerprint,
            "severity": _SEVERITY[finding.rule_id],
            "categories": ["Security"],
            "location": {"path": path, "lines": {"begin": line}},
        })
    return json.dumps(issues, indent=2) + "\n"


def render_junit(findings: Sequence[Finding], policy: GuardPolicy | None = None, outcome: Outcome | None = None) -> str:
    """JUnit XML: one test suite per template (those checked without findings hold one passing test case), one test
    case per finding, named by its rule and resource (stable, so CI can compare runs), failing unless
    acknowledged or baselined (then skipped, with the reason)."""
    from xml.etree import ElementTree as ET

    suites: dict[str, list[tuple[Finding, str]]] = {name: [] for name in (outcome.templates if outcome is not None else ())}
    for finding, fingerprint in zip(findings, fingerprints(findings)):
        suites.setdefault(finding.location.template, []).append((finding, fingerprint))
    root = ET.Element("testsuites", name=PACK_NAME)
    totals = [0, 0]
    for template, cases in suites.items():
        failures = sum(failing(finding, outcome) for finding, _ in cases)
        skipped = len(cases) - failures
        suite = ET.SubElement(root, "testsuite", name=_xml_text(template), tests=str(max(len(cases), 1)), failures=str(failures),
                              errors="0", skipped=str(skipped))
        if not cases:
            ET.SubElement(suite, "testcase", classname=_xml_text(template), name=f"{PACK_NAME}: no admin port open")
        names: dict[str, int] = {}
        for finding, _ in cases:
            name = f"{finding.rule_name} {finding.location.logical_id}"
            names[name] = names.get(name, 0) + 1
            case = ET.SubElement(suite, "testcase", classname=_xml_text(identity(finding)),
                                 name=_xml_text(name if names[name] == 1 else f"{name} #{names[name]}"))
            place = finding.location.template_path or finding.location.template
            line = rule_line(finding)
            body = f"{place}{f':{line}' if line else ''}: {finding.location.logical_id}"
            if finding.code_location is not None:
                body = f"{finding.code_location.path}:{finding.code_location.line}: {body}"
            body += f"\n{finding.message}\nFix: {finding.fix}\nHelp: {help_uri(finding.rule)}"
            if failing(finding, outcome):
                failure = ET.SubElement(case, "failure", message=_xml_text(finding.message), type=finding.rule_id)
                failure.text = _xml_text(body)
            else:
                reason = finding.acknowledgement or f"accepted in the baseline {outcome.baseline}"  # type: ignore[union-attr]  # not failing: acknowledged or baselined
                ET.SubElement(case, "skipped", message=_xml_text(f"acknowledged: {reason}")).text = _xml_text(body)
        totals[0] += max(len(cases), 1)
        totals[1] += failures
    root.set("tests", str(totals[0]))
    root.set("failures", str(totals[1]))
    root.set("errors", "0")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _xml_text(text: str) -> str:
    """``text`` without the characters XML 1.0 cannot hold (a template may put any of them in a value)."""
    return "".join(c if c in "\t\n\r" or "\x20" <= c <= "\ud7ff" or "\ue000" <= c <= "\ufffd" or c >= "\U00010000" else "\ufffd" for c in text)


#: ``{format: renderer}``; the CLI offers exactly these.
RENDERERS: dict[str, Callable[[Sequence[Finding], GuardPolicy | None, Outcome | None], str]] = {
    "text": render_text, "json": render_json, "sarif": render_sarif, "junit": render_junit, "gitlab": render_gitlab,
}


def render(findings: Sequence[Finding], output_format: str, policy: GuardPolicy | None = None, outcome: Outcome | None = None) -> str:
    return RENDERERS[output_format](findings, policy, outcome)
