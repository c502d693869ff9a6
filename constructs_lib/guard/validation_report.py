"""Read what ``cdk synth`` recorded in ``cdk.out/validation-report.json``.

Two things matter to the CLI: plugins that crashed (the CDK CLI exits 0 for them, so the CLI must
fail instead), and the guard findings that were acknowledged, with their reasons.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from ..policy import PACK_NAME, Finding, Location, Rule

REPORT_FILE = "validation-report.json"


@dataclass
class ValidationReport:
    """Crashed plugins as findings, and acknowledgement reasons by (rule name, template, logical id)."""

    crashes: list[Finding] = field(default_factory=list)
    acknowledgements: dict[tuple[str, Path, str], str] = field(default_factory=dict)

    def acknowledgement_for(self, rule_name: str, finding: Finding) -> str | None:
        if finding.location.template_path is None:
            return None
        key = (rule_name, Path(finding.location.template_path).resolve(), finding.location.logical_id)
        return self.acknowledgements.get(key)


def read_validation_reports(paths: list[Path]) -> ValidationReport:
    """Collect crashes and acknowledgements from the validation reports of the cloud assemblies in ``paths``."""
    result = ValidationReport()
    for assembly in paths:
        report_path = assembly / REPORT_FILE
        if not (assembly.is_dir() and report_path.is_file()):
            continue
        try:
            report = json.loads(report_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            result.crashes.append(_crash(report_path, "validation report", f"the report is unreadable: {error}"))
            continue
        for plugin in report.get("pluginReports") or []:
            name = str(plugin.get("pluginName", "(unnamed plugin)"))
            error = (plugin.get("metadata") or {}).get("error")
            if error or (plugin.get("conclusion") == "failure" and not plugin.get("violations")):
                result.crashes.append(_crash(report_path, name, str(error or "failed without reporting a violation")))
            if name == PACK_NAME:
                _collect_acknowledgements(assembly, plugin, result.acknowledgements)
    return result


def _crash(report_path: Path, plugin: str, error: str) -> Finding:
    return Finding(
        Location(str(report_path), plugin, None, str(report_path)),
        Rule.VALIDATION_FAILED,
        f"validation plugin {plugin!r} crashed during cdk synth, so its checks did not run: {error}",
    )


def _collect_acknowledgements(assembly: Path, plugin: dict, into: dict[tuple[str, Path, str], str]) -> None:
    for violation in plugin.get("suppressedViolations") or []:
        for construct in violation.get("violatingConstructs") or []:
            resource = construct.get("cloudFormationResource") or {}
            if "templatePath" in resource and "logicalId" in resource:
                key = (violation.get("ruleName", ""), (assembly / resource["templatePath"]).resolve(), resource["logicalId"])
                into[key] = str(violation.get("reason", ""))
