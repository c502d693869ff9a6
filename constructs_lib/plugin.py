"""The admin-port guard as a CDK policy-validation plugin: ``cdk synth`` fails when an admin port is open.

Register it in one line::

    add_admin_port_guard(app)          # = Validations.of(app).add_plugins(AdminPortGuard(app))

Policy-validation plugins are an aws-cdk-lib feature (``Validations``); cdk-nag 3 registers its packs
the same way, so the guard sits beside ``AwsSolutionsChecks`` and its findings are acknowledged the
same way. It needs no cdk-nag at all, and works beside cdk-nag 2 (whose packs are aspects).

The plugin checks what is actually synthesized: it reads the cloud assembly CDK just wrote (through
its manifest, as the CLI does) and the policy core analyses every template at once, so raw property
overrides, ``CfnInclude``d templates, generic ``CfnResource`` groups, nested stacks and cross-stack
references (exports and ``Fn::GetStackOutput``) are all seen, at one jsii call per synth; it reports
the findings of the stacks CDK hands it. It fails closed: any error inside it becomes a ``fatal`` violation with an id made for that
crash, which no acknowledgement can match (CDK never suppresses ``fatal`` violations). On every synth
it writes ``admin-port-guard-report.json`` to the cloud assembly: the evidence that it ran.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, cast

import aws_cdk as cdk
import jsii
from constructs import Construct, IConstruct

from .policy import (
    CONTEXT_KEY,
    DEFAULT_THRESHOLDS,
    PACK_NAME,
    RULES,
    Finding,
    GuardPolicy,
    Inventory,
    Rule,
    Template,
    Thresholds,
    evaluate,
    load,
    load_named,
    read_inventory,
)
from .guard.sources import locate
from .guard.validation_report import GUARD_REPORT_FILE
from .policy.config import check_reason
from .policy.findings import UNACKNOWLEDGEABLE, acknowledged_check
from .version import package_version

if TYPE_CHECKING:
    from aws_cdk import cx_api


def guard_policy(
    scope: IConstruct | None,
    *,
    admin_ports: Iterable[int | str] | Mapping[int, str] | str | None = None,
    broad_sources: bool | Thresholds | None = None,
    trusted_prefix_lists: Mapping[str, str] | None = None,
) -> GuardPolicy:
    """The policy declared in ``scope``'s context (``admin-port-guard``), with explicit arguments on top.

    ``broad_sources``: ``None`` keeps the declared limits, ``False`` turns the rule off, ``True`` means
    the default limits, a ``Thresholds`` sets them.
    """
    declared = scope.node.try_get_context(CONTEXT_KEY) if scope is not None else None
    policy = GuardPolicy.from_mapping(declared, f"context {CONTEXT_KEY}")
    changes: dict[str, object] = {}
    if admin_ports is not None:
        changes["admin_ports"] = admin_ports
    if broad_sources is not None:
        changes["thresholds"] = (DEFAULT_THRESHOLDS if broad_sources is True else broad_sources or None)
    if trusted_prefix_lists is not None:
        changes["trusted_prefix_lists"] = {**policy.trusted_prefix_lists, **trusted_prefix_lists}
    return policy.replace(**changes) if changes else policy


@jsii.implements(cdk.IPolicyValidationPlugin, cdk.IAspect)
class AdminPortGuard:
    """Policy-validation plugin that fails synthesis when an admin port is open to the internet.

    :param scope: the app (or stage) whose context declares the policy (``admin-port-guard``).
    :param admin_ports: TCP ports and port profiles (``"cis"``, ``"securityhub-ec2.19"`` ...) treated as admin ports.
        Default: the context's, else 22, 23, 3389, 5900,
        5985, 5986.
    :param broad_sources: ``False`` turns ``BroadAdminSource`` off, a ``Thresholds`` sets its limits. Default:
        the context's, else more than 65,536 public IPv4 addresses or an IPv6 range larger than a /48.
    :param trusted_prefix_lists: ``{"pl-...": "reason"}``, added to the context's declarations.
    :param verbose: append each rule's explanation to its findings. Default: False.
    :raises PolicyError: when the declared or given policy is malformed.
    """

    def __init__(
        self,
        scope: IConstruct | None = None,
        *,
        admin_ports: Iterable[int | str] | Mapping[int, str] | str | None = None,
        broad_sources: bool | Thresholds | None = None,
        trusted_prefix_lists: Mapping[str, str] | None = None,
        verbose: bool = False,
    ) -> None:
        self._scope = scope
        self._policy = guard_policy(
            scope, admin_ports=admin_ports, broad_sources=broad_sources, trusted_prefix_lists=trusted_prefix_lists
        )
        self._verbose = verbose

    @property
    def name(self) -> str:
        return PACK_NAME

    @property
    def version(self) -> str:
        return package_version()

    @property
    def rule_ids(self) -> list[str]:
        return [rule.id for rule in RULES]

    @property
    def policy(self) -> GuardPolicy:
        return self._policy

    def visit(self, node: IConstruct) -> None:
        """Registered as an aspect by mistake (the cdk-nag 2 habit): say how to register it instead."""
        raise TypeError(
            f"{PACK_NAME} is a policy-validation plugin, not an aspect: register it with "
            f"cdk.Validations.of(app).add_plugins({PACK_NAME}(app)) or add_admin_port_guard(app), "
            "not Aspects.of(app).add(...)"
        )

    def validate(self, context: cdk.IPolicyValidationContext) -> cdk.PolicyValidationPluginReport:
        """Run the policy core over every synthesized template; never let an error pass silently."""
        started = time.perf_counter()
        try:
            record = _synth_record(context.app_construct)
            # CDK gives template paths relative to the working directory (cdk.out/X.template.json) or absolute
            mine = {os.path.realpath(stack.template_path) for stack in context.stack_templates}
            record.judged |= self._judges(mine)
            directory = self._assembly_directory(context)
            unselected = {path for path in mine if not _selected_by_plain_synth(path, directory)}
            if os.path.isfile(os.path.join(directory, "manifest.json")):
                templates = load([directory])
            else:
                templates = load_named((stack.stack_construct_path, stack.template_path) for stack in context.stack_templates)
            names = {t.name for t in templates if os.path.realpath(t.path) in mine and t.parent is None}
            if len(names) != len(mine):  # a template CDK handed over, not found: never check less than asked
                raise RuntimeError(f"the cloud assembly in {directory} holds {len(names)} of the {len(mine)} templates to check: {sorted(mine)}")
            names |= {t.name for t in templates if any(t.name.startswith(f"{name}/") for name in names)}  # nested stacks
            judged = [t for t in templates if t.name in names]
            record.judged |= self._judges({os.path.realpath(t.path) for t in judged})
            findings = locate(self._findings(context, templates, judged, record, started), templates)
            hidden = {t.name for t in templates if os.path.realpath(t.path) in unselected and t.parent is None}
            violations = [self._violation(finding, _owner(finding.location.template, hidden)) for finding in findings]
        except BaseException as error:  # noqa: BLE001 - a crashed guard must fail the synth, whatever it was
            if isinstance(error, KeyboardInterrupt):
                raise
            violations = [_crash_violation(error, context)]
        return cdk.PolicyValidationPluginReport(success=not violations, violations=violations)

    def _judges(self, templates: set[str]) -> set[str]:
        """Which of ``templates`` this guard judges whole (the constructs' guard judges none)."""
        return templates

    def _findings(
        self, context: cdk.IPolicyValidationContext, templates: list[Template], judged: list[Template], record: _SynthRecord, started: float
    ) -> list[Finding]:
        """The core's findings on the templates CDK handed over (``judged``), and the constructs' own findings
        on them (``record``: what the constructs' synth-time checks found), each reported once."""
        names = {template.name for template in judged}
        inventory = read_inventory(templates)
        findings = [finding for finding in evaluate(inventory, self._policy) if finding.location.template in names]
        reported = {_finding_key(finding) for finding in findings}
        findings += [finding for finding in record.findings_in(judged) if _finding_key(finding) not in reported]
        self._write_report(context, templates, inventory, findings, time.perf_counter() - started)
        return findings

    def _violation(self, finding: Finding, unselected_stack: str | None = None) -> cdk.PolicyViolation:
        """The finding as CDK reports it. In a stack a plain ``cdk synth`` does not select (``unselected_stack``: a
        stage's stack without ``validateOnSynth``) it names no construct, since the CLI keeps only the violations
        of the stacks it selects and those that name no construct: the place goes into the description."""
        code = finding.code_location  # the app's line, where the cloud assembly records it (JSII_HOST_STACK_TRACES=1)
        message = f"{code.path}:{code.line}: {finding.message}" if code is not None else finding.message
        description = f"{message}. {finding.rule.summary}" if self._verbose else message
        location = finding.location
        resource = cdk.PolicyViolatingResource(
            construct_path=location.construct_path,
            resource_logical_id=location.logical_id,
            template_path=location.template_path,
            locations=["Properties"],
        )
        if unselected_stack is not None:
            description += (f" [stack {unselected_stack}, {location.construct_path or location.logical_id}: a stage's stack, "
                            "reported without its construct so that a plain cdk synth fails on it]")
            resource = cdk.PolicyViolatingResource(template_path=location.template_path, locations=["Properties"])
        return cdk.PolicyViolation(
            rule_name=finding.rule_name,
            description=description,
            fix=finding.fix,
            severity="fatal" if finding.rule in UNACKNOWLEDGEABLE else "error",
            violating_resources=[resource],
        )

    def _write_report(
        self, context: cdk.IPolicyValidationContext, templates: list[Template], inventory: Inventory, findings: list[Finding], seconds: float
    ) -> None:
        """The evidence that the guard ran, with what it checked (``admin-port-guard-report.json``)."""
        directory = self._assembly_directory(context)
        report = {
            "tool": PACK_NAME,
            "version": package_version(),
            "policy": self._policy.to_mapping(),
            "policyOrigin": self._policy.origin,
            "templates": [template.path for template in templates],
            "checked": {
                "templates": inventory.templates,
                "groups": sum(1 for group in inventory.groups.values() if group.defined),
                "rules": inventory.rules_read,
                "permissions": len(inventory.permissions),
                "attachments": len(inventory.attachments),
            },
            "findings": [
                {"ruleName": f.rule_name, "template": f.location.template, "logicalId": f.location.logical_id,
                 "constructPath": f.location.construct_path, "message": f.message}
                for f in findings
            ],
            "seconds": round(seconds, 4),
        }
        with open(os.path.join(directory, GUARD_REPORT_FILE), "w", encoding="utf-8") as file:
            json.dump(report, file, indent=2)

    def _assembly_directory(self, context: cdk.IPolicyValidationContext) -> str:
        """The app's cloud assembly directory (stages write their templates into folders below it)."""
        root = self._scope.node.root if self._scope is not None else None
        if root is not None and cdk.Stage.is_stage(root):
            return cast(cdk.Stage, root).outdir
        return os.path.commonpath([os.path.dirname(path) for path in context.template_paths])


def _owner(template: str, stacks: set[str]) -> str | None:
    """The stack of ``stacks`` that ``template`` is, or is a nested stack of."""
    return next((stack for stack in stacks if template == stack or template.startswith(f"{stack}/")), None)


def _selected_by_plain_synth(template_path: str, root_directory: str) -> bool:
    """Whether a plain ``cdk synth`` fails on this stack's violations: it is a stack of the app's own assembly (the
    CLI selects every top-level stack), or its artifact carries ``validateOnSynth`` (the CLI's ``--validation``,
    on by default, adds those stacks). Unreadable means no: the caller then reports without a construct path."""
    directory = os.path.dirname(template_path)
    if directory == os.path.realpath(root_directory):
        return True
    try:
        with open(os.path.join(directory, "manifest.json"), encoding="utf-8") as file:
            artifacts = json.load(file)["artifacts"]
        return any(
            artifact["properties"].get("templateFile") == os.path.basename(template_path) and artifact["properties"].get("validateOnSynth") is True
            for artifact in artifacts.values() if artifact.get("type") == "aws:cloudformation:stack"
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return False


class _StagesValidatedOnSynthesis(cdk.Stage):
    """An empty stage, the app's first child once the guard is registered on the app. The app synthesizes its stages
    in construct order before it validates anything; this one's turn comes first, and it synthesizes every other
    stage of the app with ``validate_on_synthesis`` (public ``StageSynthesisOptions``, what CDK Pipelines does for
    the stages it deploys). Their stacks then carry ``validateOnSynth`` in the cloud assembly, the app's own synth
    reuses those assemblies, and a plain ``cdk synth`` validates those stacks too (CLI ``--validation``, on by
    default), with their construct paths and acknowledgements as usual."""

    def synth(self, *, aspect_stabilization: bool | None = None, error_on_duplicate_synth: bool | None = None,
              force: bool | None = None, skip_validation: bool | None = None, validate_on_synthesis: bool | None = None) -> cx_api.CloudAssembly:
        for stage in _stages_in(self.node.root):
            if stage.node.path != self.node.path:
                stage.synth(validate_on_synthesis=True, aspect_stabilization=aspect_stabilization, skip_validation=skip_validation)
        return super().synth(aspect_stabilization=aspect_stabilization, error_on_duplicate_synth=error_on_duplicate_synth,
                             force=force, skip_validation=skip_validation, validate_on_synthesis=validate_on_synthesis)


def _stages_in(scope: IConstruct) -> Iterator[cdk.Stage]:
    """The stages directly below ``scope``'s assembly (stages in them follow when these synthesize)."""
    for child in scope.node.children:
        if cdk.Stage.is_stage(child):
            yield cast(cdk.Stage, child)
        else:
            yield from _stages_in(child)


#: The construct id of that stage.
STAGES_VALIDATED_ID = "AdminPortGuardStages"


class _SynthRecord:
    """What the constructs' synth-time checks found in one app (``checks``: check -> (template, findings)),
    which templates a registered guard judged, and the guard that reports the rest (``fallback``)."""

    def __init__(self) -> None:
        self.checks: dict[int, tuple[str, list[Finding]]] = {}
        self.judged: set[str] = set()
        self.fallback: AdminPortGuard | None = None

    def findings_in(self, templates: list[Template]) -> list[Finding]:
        """The checks' findings on ``templates``, anchored in them as the core anchors its own."""
        by_path = {os.path.realpath(str(template.path)): template for template in templates}
        return [
            finding._replace(location=finding.location._replace(template=by_path[path].name, template_path=by_path[path].path))
            for path, found in self.checks.values()
            if path in by_path
            for finding in found
        ]


def _synth_record(root: IConstruct) -> _SynthRecord:
    record = getattr(root, "_admin_port_guard_record", None)
    if record is None:
        record = _SynthRecord()
        root._admin_port_guard_record = record  # type: ignore[attr-defined]  # kept on the app's root for the whole synth
    return record


def _finding_key(finding: Finding) -> tuple[str, str, str]:
    location = finding.location
    return (finding.rule_name, os.path.realpath(str(location.template_path)), str(location.logical_id))


def report_through_guard(check: object, construct: IConstruct, template_path: str, findings: list[Finding]) -> bool:
    """Report a construct's own synth-time findings through the guard's validation report, not as an error
    of CDK's construct validation (which stops the synth before the cloud assembly is written, and shows
    up as a jsii stack trace): a guard registered on the app (or a stage) reports them with its own, and
    in an app without one, a guard that reports only the constructs' findings is registered on the app.
    Returns ``False`` when the construct's root is not a stage (the caller then raises them itself).
    """
    root = construct.node.root
    if not cdk.Stage.is_stage(root):
        return False
    record = _synth_record(root)
    record.checks[id(check)] = (os.path.realpath(template_path), findings)
    if findings and record.fallback is None:
        record.fallback = _ConstructsGuard(root)
        cdk.Validations.of(root).add_plugins(record.fallback)
    return True


class _ConstructsGuard(AdminPortGuard):
    """The guard of an app that registers none: it reports the constructs' own findings on the templates
    no registered guard judged (it runs after every registered guard), and writes no guard report."""

    def _judges(self, templates: set[str]) -> set[str]:
        return set()

    def _findings(
        self, context: cdk.IPolicyValidationContext, templates: list[Template], judged: list[Template], record: _SynthRecord, started: float
    ) -> list[Finding]:
        return record.findings_in([t for t in templates if os.path.realpath(str(t.path)) not in record.judged])


def _crash_violation(error: BaseException, context: cdk.IPolicyValidationContext) -> cdk.PolicyViolation:
    """A violation no acknowledgement can match: severity ``fatal`` and an id made for this crash."""
    try:
        paths = list(context.template_paths or [])
    except Exception:  # noqa: BLE001 - the context itself may be what failed
        paths = []
    return cdk.PolicyViolation(
        rule_name=f"{PACK_NAME}-{Rule.VALIDATION_FAILED.id}-{secrets.token_hex(6)}",
        description=f"The admin-port guard crashed, so this synth is unchecked: {type(error).__name__}: {error}",
        fix=Rule.VALIDATION_FAILED.fix,
        severity="fatal",
        violating_resources=[cdk.PolicyViolatingResource(template_path=path, locations=["/"]) for path in paths or ["(no templates)"]],
    )


def add_admin_port_guard(
    scope: IConstruct,
    *,
    admin_ports: Iterable[int | str] | Mapping[int, str] | str | None = None,
    broad_sources: bool | Thresholds | None = None,
    trusted_prefix_lists: Mapping[str, str] | None = None,
    verbose: bool = False,
) -> AdminPortGuard:
    """Register the guard on ``scope`` (usually the app) and return it."""
    guard = AdminPortGuard(
        scope, admin_ports=admin_ports, broad_sources=broad_sources, trusted_prefix_lists=trusted_prefix_lists, verbose=verbose
    )
    cdk.Validations.of(scope).add_plugins(guard)
    if scope.node.scope is None and scope.node.try_find_child(STAGES_VALIDATED_ID) is None:  # the app
        _StagesValidatedOnSynthesis(cast(Construct, scope), STAGES_VALIDATED_ID)  # an app's root: a Construct
    return guard


def acknowledge_admin_port_finding(construct: IConstruct, rule: Rule, reason: str, *, port: int | None = None) -> str:
    """Acknowledge one of the guard's findings on ``construct`` (and its children) and return the id used.

    The finding stays in ``validation-report.json`` under ``suppressedViolations`` with ``reason``.
    Per-port findings are acknowledged per port, so acknowledging SSH never silences RDP.
    """
    reason = check_reason(reason, "an acknowledgement")
    check = acknowledged_check(rule, port)
    acknowledged_id = f"{PACK_NAME}::{PACK_NAME}-{check}"
    cdk.Validations.of(construct).acknowledge(cdk.Acknowledgment(id=acknowledged_id, reason=reason))
    return acknowledged_id
