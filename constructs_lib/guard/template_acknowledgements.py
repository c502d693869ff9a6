"""Acknowledgements written in a raw template's resource ``Metadata``, for teams that check templates, not CDK apps.

The shape follows checkov (``Metadata: {checkov: {skip: [{id, comment}]}}``) and cfn-lint
(``Metadata: {cfn-lint: {config: {ignore_checks: [...]}}}``), with the plugin's rules::

    Sg:
      Type: AWS::EC2::SecurityGroup
      Metadata:
        admin-port-guard:
          acknowledge:
            - id: WorldOpenAdminPort[22]
              reason: isolated lab, torn down nightly (SEC-42)

An acknowledgement accepts the findings of that rule (and port) located at that resource, and they are
listed ``ACKNOWLEDGED`` with the reason. As with ``acknowledge_admin_port_finding``: a specific reason
is required, per-port rules are acknowledged per port, ``ValidationFailed`` and ``MalformedTemplate``
cannot be acknowledged. A malformed acknowledgement is an error naming its place: never ignored.
Templates of a cloud assembly are acknowledged in the CDK app instead (``validation-report.json``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ..policy import Finding, PolicyError, Template
from ..policy.config import METADATA_KEY, SSH_PROMISE, check_reason
from ..policy.findings import UNACKNOWLEDGEABLE, acknowledged_check, rule_named

#: The SSH promise as the error spells it: ``{sshFrom: security-groups}``.
_SSH_PROMISE_TEXT = "{" + ", ".join(f"{key}: {value}" for key, value in SSH_PROMISE.items()) + "}"


def read_acknowledgements(templates: Iterable[Template]) -> dict[tuple[str, str, str], str]:
    """``{(template name, logical id, check name): reason}``; ``PolicyError`` naming the place of a malformed one."""
    found: dict[tuple[str, str, str], str] = {}
    for template in templates:
        resources = template.body.get("Resources")
        for logical_id, resource in resources.items() if isinstance(resources, dict) else ():
            metadata = resource.get("Metadata") if isinstance(resource, dict) else None
            if not isinstance(metadata, dict) or METADATA_KEY not in metadata:
                continue
            place = f"{template.path}: Resources.{logical_id}.Metadata.{METADATA_KEY}"
            declared = metadata[METADATA_KEY]
            if not isinstance(declared, dict) or not declared or not set(declared) <= {"acknowledge", *SSH_PROMISE} \
                    or not isinstance(declared.get("acknowledge", []), list):
                raise PolicyError(
                    f"{place} must be {{acknowledge: [{{id: WorldOpenAdminPort[22], reason: ...}}, ...]}} and/or, on a security group, "
                    f"{_SSH_PROMISE_TEXT}, not {declared!r}"
                )
            for index, entry in enumerate(declared.get("acknowledge", [])):
                where = f"{place}.acknowledge[{index}]"
                if not isinstance(entry, dict) or set(entry) != {"id", "reason"} or not isinstance(entry["id"], str):
                    raise PolicyError(f"{where} must be {{id: <rule id, e.g. WorldOpenAdminPort[22]>, reason: <why it is safe>}}, not {entry!r}")
                try:
                    check = acknowledged_check(*rule_named(entry["id"]))
                    reason = check_reason(entry["reason"], f"acknowledging {entry['id']}")
                except ValueError as error:
                    raise PolicyError(f"{where}: {error}") from None
                found[(template.name, str(logical_id), check)] = reason
    return found


def acknowledge(findings: Sequence[Finding], acknowledgements: dict[tuple[str, str, str], str]) -> list[Finding]:
    """``findings`` with the reason of the acknowledgement that accepts each, where one does."""
    result = []
    for finding in findings:
        reason = None
        if finding.rule not in UNACKNOWLEDGEABLE and finding.acknowledgement is None:
            reason = acknowledgements.get((finding.location.template, finding.location.logical_id, finding.check_name))
        result.append(finding._replace(acknowledgement=reason) if reason is not None else finding)
    return result
