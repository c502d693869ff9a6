"""The admin-port guard as a cdk-nag 3 pack: ``cdk synth`` fails when an admin port is world-open.

Register it in one line::

    add_admin_port_guard(app)          # = Validations.of(app).add_plugins(AdminPortGuard(app))

The pack checks what is actually synthesized: CDK hands validation plugins the paths of the
templates it wrote, and the pack runs the policy core over all of them at once, so raw property
overrides, ``CfnInclude``d templates, generic ``CfnResource`` security groups, nested stacks and
cross-stack references are all seen, at the cost of one jsii call per synth rather than one per
resource. Any error inside the guard becomes an error-level violation: it fails closed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import aws_cdk as cdk
from cdk_nag import NagPack
from constructs import IConstruct

from .policy import PACK_NAME, Finding, Rule, check_templates, load_named, normalize_admin_ports


class AdminPortGuard(NagPack):
    """cdk-nag pack that fails synthesis when an admin port is reachable from the whole internet.

    :param scope: the app (or stage) whose templates are validated.
    :param admin_ports: TCP ports treated as admin ports. Default: 22, 23, 3389, 5900, 5985, 5986.
    :param verbose: append each rule's explanation to its findings. Default: False.
    """

    def __init__(
        self,
        scope: IConstruct | None = None,
        *,
        admin_ports: Iterable[int] | Mapping[int, str] | None = None,
        verbose: bool = False,
    ) -> None:
        super().__init__(scope, verbose=verbose)
        self._pack_name = PACK_NAME
        self._admin_ports = normalize_admin_ports(admin_ports)
        self._verbose = verbose

    @property
    def name(self) -> str:
        return PACK_NAME

    def validate(self, context: cdk.IPolicyValidationContext) -> cdk.PolicyValidationPluginReport:
        """Run the policy core over every synthesized template; never let an error pass silently."""
        try:
            named = [(stack.stack_construct_path, Path(stack.template_path)) for stack in context.stack_templates]
            findings = check_templates(load_named(named), self._admin_ports)
            violations = [self._violation(finding) for finding in findings]
        except Exception as error:  # noqa: BLE001 - a crashed guard must fail the synth, not pass it
            violations = [self._failure(error, context)]
        return cdk.PolicyValidationPluginReport(success=not violations, violations=violations)

    def _check_resource(self, node: cdk.CfnResource) -> None:
        raise RuntimeError(
            f"{PACK_NAME} checks synthesized templates, not single constructs ({node.node.path}); register it "
            "with Validations.of(app).add_plugins(AdminPortGuard(app)) and synthesize the app"
        )

    def _violation(self, finding: Finding) -> cdk.PolicyViolation:
        description = f"{finding.message}. {finding.rule.summary}" if self._verbose else finding.message
        return cdk.PolicyViolation(
            rule_name=finding.rule_name,
            description=description,
            fix=finding.fix,
            severity="error",
            violating_resources=[
                cdk.PolicyViolatingResource(
                    construct_path=finding.location.construct_path,
                    resource_logical_id=finding.location.logical_id,
                    template_path=finding.location.template_path,
                    locations=["Properties"],
                )
            ],
        )

    @staticmethod
    def _failure(error: Exception, context: cdk.IPolicyValidationContext) -> cdk.PolicyViolation:
        paths = list(context.template_paths or ["(no templates)"])
        return cdk.PolicyViolation(
            rule_name=f"{PACK_NAME}-{Rule.VALIDATION_FAILED.value}",
            description=f"The admin-port guard crashed, so this synth is unchecked: {type(error).__name__}: {error}",
            fix=Rule.VALIDATION_FAILED.fix,
            severity="error",
            violating_resources=[cdk.PolicyViolatingResource(template_path=path, locations=["/"]) for path in paths],
        )


def add_admin_port_guard(
    scope: IConstruct, *, admin_ports: Iterable[int] | Mapping[int, str] | None = None, verbose: bool = False
) -> AdminPortGuard:
    """Register the guard on ``scope`` (usually the app) and return it."""
    guard = AdminPortGuard(scope, admin_ports=admin_ports, verbose=verbose)
    cdk.Validations.of(scope).add_plugins(guard)
    return guard


def acknowledge_admin_port_finding(construct: IConstruct, rule: Rule, reason: str, *, port: int | None = None) -> str:
    """Acknowledge one of the guard's findings on ``construct`` (and its children) and return the id used.

    The finding stays in ``validation-report.json`` under ``suppressedViolations`` with ``reason``.
    World-open findings are acknowledged per port, so acknowledging SSH never silences RDP.
    """
    if not isinstance(reason, str) or len(reason.strip()) < 10:
        raise ValueError("an acknowledgement needs a specific reason (at least 10 characters): who decided, and why")
    if rule is Rule.WORLD_OPEN_ADMIN_PORT:
        if port is None:
            raise ValueError("acknowledging WorldOpenAdminPort needs the port (e.g. port=22)")
        check = f"{rule.value}[{port}]"
    elif rule is Rule.VALIDATION_FAILED:
        raise ValueError("a crashed validation cannot be acknowledged; fix the error instead")
    else:
        if port is not None:
            raise ValueError(f"{rule.value} findings are acknowledged without a port")
        check = rule.value
    acknowledged_id = f"{PACK_NAME}::{PACK_NAME}-{check}"
    cdk.Validations.of(construct).acknowledge(cdk.Acknowledgment(id=acknowledged_id, reason=reason.strip()))
    return acknowledged_id
