"""Read what ``cdk synth`` recorded in ``cdk.out/validation-report.json``.

Two things matter to the CLI: plugins that crashed (the CDK CLI exits 0 for them, so the CLI must fail
instead), and the guard findings that were acknowledged, with their reasons. A crash is a failure
wherever the report puts it: a plugin whose report carries an error, or a ``ValidationFailed``
violation of the guard, even one listed under ``suppressedViolations``.
"""

from __future__ import annotations

import json
import os

from ..policy import PACK_NAME, Finding, GuardPolicy, Location, PolicyError, Rule
from ..policy.findings import UNACKNOWLEDGEABLE

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

REPORT_FILE = "validation-report.json"
#: The guard's own report, which the plugin writes next to the templates on every synth.
GUARD_REPORT_FILE = "admin-port-guard-report.json"
_CDK_FAILURE_PREFIX = "Validation plugin '"
_CRASH_PREFIX = f"{PACK_NAME}-{Rule.VALIDATION_FAILED.id}"


class ValidationReport:
    """Crashed plugins as findings, and acknowledgement reasons by (rule name, template file, logical id)."""

    def __init__(self) -> None:
        self.crashes: list[Finding] = []
        self.acknowledgements: dict[tuple[str, str, str], str] = {}

    def acknowledgement_for(self, finding: Finding) -> str | None:
        if finding.location.template_path is None or finding.rule in UNACKNOWLEDGEABLE:
            return None
        key = (finding.rule_name, os.path.realpath(finding.location.template_path), finding.location.logical_id)
        return self.acknowledgements.get(key)


def read_validation_reports(paths: list[str]) -> ValidationReport:
    """Collect crashes and acknowledgements from the validation reports of the cloud assemblies in ``paths``."""
    result = ValidationReport()
    for assembly in paths:
        report_path = os.path.join(assembly, REPORT_FILE)
        if not (os.path.isdir(assembly) and os.path.isfile(report_path)):
            continue
        try:
            with open(report_path, encoding="utf-8") as file:
                report = json.load(file)
            plugins = report.get("pluginReports") or []
            if not isinstance(plugins, list):
                raise ValueError("pluginReports is not a list")
        except (OSError, ValueError, AttributeError) as error:
            result.crashes.append(_crash(report_path, "validation report", f"the report is unreadable: {error}"))
            continue
        for plugin in plugins:
            if not isinstance(plugin, dict):
                continue
            name = str(plugin.get("pluginName", "(unnamed plugin)"))
            plugin_error = (plugin.get("metadata") or {}).get("error") if isinstance(plugin.get("metadata"), dict) else None
            if plugin_error or (plugin.get("conclusion") == "failure" and not plugin.get("violations")):
                reason = str(plugin_error or "failed without reporting a violation")
                if reason.startswith(f"{_CDK_FAILURE_PREFIX}{name}' failed: "):  # CDK's wording names the plugin again
                    reason = reason[len(f"{_CDK_FAILURE_PREFIX}{name}' failed: "):]
                result.crashes.append(_crash(report_path, name, reason))
            for violation in (plugin.get("violations") or []) + (plugin.get("suppressedViolations") or []):
                if isinstance(violation, dict) and str(violation.get("ruleName", "")).startswith(_CRASH_PREFIX):
                    result.crashes.append(_crash(report_path, name, str(violation.get("description", "crashed"))))
            if name == PACK_NAME:
                _collect_acknowledgements(assembly, plugin, result.acknowledgements)
    return result


def _crash(report_path: str, plugin: str, error: str) -> Finding:
    return Finding(
        Location(report_path, plugin, None, report_path),
        Rule.VALIDATION_FAILED,
        f"validation plugin {plugin!r} crashed during cdk synth, so its checks did not run: {error}",
    )


def _collect_acknowledgements(assembly: str, plugin: dict[str, Any], into: dict[tuple[str, str, str], str]) -> None:
    for violation in plugin.get("suppressedViolations") or []:
        if not isinstance(violation, dict):
            continue
        for construct in violation.get("violatingConstructs") or []:
            resource = construct.get("cloudFormationResource") or {} if isinstance(construct, dict) else {}
            if isinstance(resource, dict) and "templatePath" in resource and "logicalId" in resource:
                template = os.path.realpath(os.path.join(assembly, str(resource["templatePath"])))
                into[(str(violation.get("ruleName", "")), template, str(resource["logicalId"]))] = str(violation.get("reason", ""))


def recorded_policy(assembly: str) -> GuardPolicy | None:
    """The policy the guard judged the synth that wrote ``assembly`` under (``admin-port-guard-report.json``), or
    ``None`` when it records none (not a cloud assembly, or the guard was not registered). ``PolicyError`` when the
    report is there but unreadable: never a silent fallback to another policy."""
    path = os.path.join(assembly, GUARD_REPORT_FILE)
    if not os.path.isfile(os.path.join(assembly, "manifest.json")) or not os.path.isfile(path):
        return None
    try:
        with open(path, encoding="utf-8") as file:
            report = json.load(file)
        declared, origin = report["policy"], report.get("policyOrigin")
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise PolicyError(f"{path} records no readable policy ({error!r}): synthesize again") from None
    return GuardPolicy.from_mapping(declared, f"recorded in {path}" + (f" ({origin})" if isinstance(origin, str) else ""))
