"""cdk-nag's AwsSolutions pack under either major version: the one place that knows which is installed.

cdk-nag 2 packs are aspects and findings are suppressed with ``NagSuppressions`` (written into the
template and the pack's CSV report); cdk-nag 3 packs are policy-validation plugins and findings are
acknowledged with ``Validations`` (recorded in ``validation-report.json``). The admin-port guard needs
neither: it is a validation plugin under both.
"""

from __future__ import annotations

from importlib.metadata import version

import aws_cdk as cdk
from constructs import IConstruct

PACK = "AwsSolutions"
NAG_MAJOR = int(version("cdk-nag").split(".")[0])


def add_aws_solutions_checks(app: cdk.App) -> None:
    """Register cdk-nag's AwsSolutions checks on ``app`` the way the installed cdk-nag expects."""
    from cdk_nag import AwsSolutionsChecks

    if NAG_MAJOR >= 3:
        cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    else:
        cdk.Aspects.of(app).add(AwsSolutionsChecks())


def accept_nag_finding(construct: IConstruct, rule: str, reason: str, *, applies_to: str | None = None) -> None:
    """Accept the AwsSolutions finding ``rule`` (e.g. ``EC23``) on ``construct`` and its children, with ``reason``.

    ``applies_to``: the detail of a granular finding (``Policy::arn:...`` for IAM4); only that one is accepted.
    """
    if NAG_MAJOR >= 3:
        detail = f"[{applies_to}]" if applies_to else ""
        cdk.Validations.of(construct).acknowledge(cdk.Acknowledgment(id=f"{PACK}::{PACK}-{rule}{detail}", reason=reason))
        return
    from cdk_nag import NagPackSuppression, NagSuppressions

    suppression = NagPackSuppression(id=f"{PACK}-{rule}", reason=reason, applies_to=[applies_to] if applies_to else None)
    NagSuppressions.add_resource_suppressions(construct, [suppression], apply_to_children=True)
