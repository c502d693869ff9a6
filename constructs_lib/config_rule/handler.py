"""The AWS Config rule's Lambda function: the guard's core judging security groups as AWS Config sees them.

Each event becomes evaluations put with ``config:PutEvaluations``:

* ``ConfigurationItemChangeNotification``: the group in the configuration item;
* ``OversizedConfigurationItemChangeNotification``: the same, after fetching the item with
  ``config:GetResourceConfigHistory``;
* ``ScheduledNotification``: every group of the account and region, read with ``ec2:DescribeSecurityGroups``;
  only the evaluations that differ from what Config holds (``config:GetComplianceDetailsByConfigRule``) are
  put, since Config bills every evaluation put.

A configuration item is turned into a ``DescribeSecurityGroups`` item (``group_from_configuration``) and
from there into a template by the live audit's adapter (``guard.live``), so a group gets exactly the rule
ids, admin ports, thresholds and trust declarations it gets at synth time. The policy is the rule
parameter ``policy``: the ``admin-port-guard`` object as JSON (absent: the defaults).

A group is ``NON_COMPLIANT`` when the guard reports it alone or together with the groups it shares a network
interface with (EC2 unites their rules; ``ec2:DescribeNetworkInterfaces``), on both triggers, so a change
never hides what the periodic run found. Deleted groups and events that left the rule's scope are
``NOT_APPLICABLE``. A malformed event or policy, or an account that cannot be read, raises: the invocation
fails and Config records the error; nothing is put, never a ``COMPLIANT``.

Imports only the standard library, the policy core and ``guard.live``; boto3 (part of the Lambda runtime)
only in ``client_factory``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..guard import live
from ..policy import RULES, Finding, GuardPolicy, Inventory, Rule, evaluate, read_inventory

SECURITY_GROUP = "AWS::EC2::SecurityGroup"
#: Config's limits: annotation length, evaluations per ``PutEvaluations`` call.
ANNOTATION_LIMIT = 256
BATCH_SIZE = 100
#: Environment variable naming the role to assume in a member account (organization rule).
MEMBER_ROLE_ENV = "ADMIN_PORT_GUARD_MEMBER_ROLE"
CHANGE = "ConfigurationItemChangeNotification"
OVERSIZED = "OversizedConfigurationItemChangeNotification"
SCHEDULED = "ScheduledNotification"
#: The rule parameter ``remediation``: plan and log only, or also apply when Config runs the remediation.
REMEDIATION_MODES = ("notify", "manual", "automatic")
_APPLICABLE = frozenset({"OK", "ResourceDiscovered"})
_DELETED = frozenset({"ResourceDeleted", "ResourceDeletedNotRecorded"})
_CRASHES = (Rule.VALIDATION_FAILED, Rule.MALFORMED_TEMPLATE)
#: ``configuration.ipPermissions[]`` lists and the ``DescribeSecurityGroups`` fields they become.
_SOURCE_LISTS = {"ipv6Ranges": "Ipv6Ranges", "prefixListIds": "PrefixListIds", "userIdGroupPairs": "UserIdGroupPairs"}

#: ``clients("ec2")`` → a boto3 client for the account and region being evaluated.
ClientFactory = Callable[[str], Any]


class MalformedEvent(ValueError):
    """An event AWS Config does not send: the invocation fails and Config records the error."""


def handler(event: Any, context: Any) -> Any:
    """Lambda entry point: a Config rule event, or a remediation payload from the SSM Automation document."""
    clients = client_factory(event, context.invoked_function_arn)
    if isinstance(event, Mapping) and "remediate" in event:
        from . import remediate

        return remediate.remediate(event, clients)
    return evaluate_event(event, clients)


def evaluate_event(event: Any, clients: ClientFactory) -> list[dict[str, Any]]:
    """Evaluate one Config event, put the evaluations, and return them."""
    if not isinstance(event, Mapping):
        raise MalformedEvent(f"the event is not an object: {event!r:.80}")
    invoking = _json_object(event.get("invokingEvent"), "invokingEvent")
    token = event.get("resultToken")
    if not isinstance(token, str) or not token:
        raise MalformedEvent("the event has no resultToken, so no evaluation can be put")
    left_scope = event.get("eventLeftScope", False)
    if not isinstance(left_scope, bool):
        raise MalformedEvent(f"eventLeftScope {left_scope!r} is not true or false")
    policy, mode = rule_parameters(event.get("ruleParameters"))
    message_type = invoking.get("messageType")
    if message_type == SCHEDULED:
        evaluations = evaluate_account(clients("ec2"), policy, _field(invoking, "notificationCreationTime", str))
        evaluations = changed(clients("config"), _field(event, "configRuleName", str), evaluations)
    elif message_type == CHANGE:
        evaluations = [evaluate_item(invoking.get("configurationItem"), left_scope, policy, clients)]
    elif message_type == OVERSIZED:
        item = fetch_item(clients("config"), _field(invoking, "configurationItemSummary", Mapping))
        evaluations = [evaluate_item(item, left_scope, policy, clients)]
    else:
        raise MalformedEvent(f"messageType {message_type!r} is not one this rule handles ({CHANGE}, {OVERSIZED}, {SCHEDULED})")
    put_evaluations(clients("config"), evaluations, token)
    if mode is not None:
        from . import remediate

        failing = [e["ComplianceResourceId"] for e in evaluations if e["ComplianceType"] == "NON_COMPLIANT"]
        when = evaluations[0]["OrderingTimestamp"] if evaluations else ""
        remediate.report_plans(clients("ec2"), policy, failing, f"{event.get('configRuleName')}@{when}")
    return evaluations


def rule_policy(parameters: Any) -> GuardPolicy:
    """The policy in the rule parameters (``{"policy": "<admin-port-guard object as JSON>"}``)."""
    return rule_parameters(parameters)[0]


def rule_parameters(parameters: Any) -> tuple[GuardPolicy, str | None]:
    """The policy and the remediation mode (``remediation``: notify, manual or automatic; absent: off)."""
    data = _json_object(parameters or "{}", "ruleParameters")
    unknown = sorted(set(data) - {"policy", "remediation"})
    if unknown:
        raise MalformedEvent(f"unknown rule parameter(s) {', '.join(map(repr, unknown))}; known: 'policy', 'remediation'")
    mode = data.get("remediation")
    if mode is not None and mode not in REMEDIATION_MODES:
        raise MalformedEvent(f"rule parameter remediation {mode!r} is not one of {', '.join(REMEDIATION_MODES)}")
    text = data.get("policy")
    if text is None:
        return GuardPolicy.from_mapping(None, "rule parameters"), mode
    return GuardPolicy.from_mapping(_json_object(text, "rule parameter policy"), "rule parameter policy"), mode


def fetch_item(config: Any, summary: Mapping[str, Any]) -> dict[str, Any]:
    """The configuration item an oversized notification summarizes, in the notification's shape."""
    resource_type = _field(summary, "resourceType", str)
    resource_id = _field(summary, "resourceId", str)
    captured = _field(summary, "configurationItemCaptureTime", str)
    items = config.get_resource_config_history(
        resourceType=resource_type, resourceId=resource_id, laterTime=captured, limit=1
    ).get("configurationItems", [])
    if not items:
        raise RuntimeError(f"AWS Config returned no configuration item for {resource_type} {resource_id} at {captured}")
    item = items[0]
    configuration = item.get("configuration")
    return {
        "resourceType": item.get("resourceType"),
        "resourceId": item.get("resourceId"),
        "configurationItemStatus": item.get("configurationItemStatus"),
        "configurationItemCaptureTime": captured,
        "configuration": json.loads(configuration) if isinstance(configuration, str) else configuration,
    }


def evaluate_item(item: Any, left_scope: bool, policy: GuardPolicy, clients: ClientFactory) -> dict[str, Any]:
    """The evaluation of one configuration item (notification shape)."""
    if not isinstance(item, Mapping):
        raise MalformedEvent("the event has no configurationItem object")
    resource_type = _field(item, "resourceType", str)
    resource_id = _field(item, "resourceId", str)
    captured = _field(item, "configurationItemCaptureTime", str)
    status = _field(item, "configurationItemStatus", str)
    if resource_type != SECURITY_GROUP:
        return _evaluation(resource_type, resource_id, "NOT_APPLICABLE", captured, "only security groups are evaluated")
    if left_scope:
        return _evaluation(resource_type, resource_id, "NOT_APPLICABLE", captured, "the group left the rule's scope")
    if status in _DELETED:
        return _evaluation(resource_type, resource_id, "NOT_APPLICABLE", captured, "the security group was deleted")
    if status not in _APPLICABLE:
        raise MalformedEvent(f"the configuration item of {resource_id} has status {status!r}: it holds no configuration to judge")
    group = group_from_configuration(item.get("configuration"), resource_id)
    ec2 = clients("ec2")
    groups, interfaces, prefix_lists = surroundings(ec2, group)
    findings = judge(groups, interfaces, prefix_lists, policy, ec2.meta.region_name)[resource_id]
    return _verdict(group, findings, captured, policy)


def surroundings(ec2: Any, group: Mapping[str, Any]) -> tuple[list[Mapping[str, Any]], list[dict[str, Any]], dict[str, Any]]:
    """What judging ``group`` needs besides it: ``(groups, interfaces, prefix lists)``; ``groups`` starts with
    ``group`` and holds the groups it shares a network interface with."""
    interfaces = live.read_network_interfaces(ec2, group["GroupId"])
    partners = sorted({member["GroupId"] for i in interfaces for member in i["Groups"]} - {group["GroupId"]})
    groups = [group, *live.read_security_groups(ec2, partners)]
    return groups, interfaces, live.read_prefix_lists(ec2, live.referenced_prefix_lists(groups))


def evaluate_account(ec2: Any, policy: GuardPolicy, when: str) -> list[dict[str, Any]]:
    """The evaluation of every security group of the client's account and region."""
    groups = live.read_security_groups(ec2)
    interfaces = live.read_network_interfaces(ec2)
    prefix_lists = live.read_prefix_lists(ec2, live.referenced_prefix_lists(groups))
    verdicts = judge(groups, interfaces, prefix_lists, policy, ec2.meta.region_name)
    return [_verdict(group, verdicts[group["GroupId"]], when, policy) for group in sorted(groups, key=lambda g: g["GroupId"])]


def group_from_configuration(configuration: Any, resource_id: str) -> dict[str, Any]:
    """The ``DescribeSecurityGroups`` item for the ``configuration`` of a security group's configuration item.

    Config writes the API's fields in camelCase and each permission's IPv4 CIDRs twice, as ``ipRanges``
    (strings) and ``ipv4Ranges`` (objects); both are read, so neither can hide a CIDR. Egress is ignored.
    """
    if not isinstance(configuration, Mapping):
        raise MalformedEvent(f"the configuration of {resource_id} is not an object")
    if configuration.get("groupId") != resource_id:
        raise MalformedEvent(f"the configuration's groupId {configuration.get('groupId')!r} is not the resource id {resource_id!r}")
    group = {_pascal(key): configuration[key] for key in ("groupId", "groupName", "description", "vpcId", "ownerId") if configuration.get(key)}
    group["IpPermissions"] = [_permission(p, resource_id) for p in _objects(configuration.get("ipPermissions"), f"{resource_id} ipPermissions")]
    return group


def _permission(permission: Mapping[str, Any], resource_id: str) -> dict[str, Any]:
    what = f"{resource_id} ipPermissions entry"
    result = {_pascal(key): permission[key] for key in ("ipProtocol", "fromPort", "toPort") if permission.get(key) is not None}
    ranges = {r.get("cidrIp"): r for r in _objects(permission.get("ipv4Ranges", []), f"{what} ipv4Ranges")}
    for cidr in _strings(permission.get("ipRanges", []), f"{what} ipRanges"):
        ranges.setdefault(cidr, {"cidrIp": cidr})
    result["IpRanges"] = [_pascal_keys(r) for r in ranges.values()]
    for field, api_field in _SOURCE_LISTS.items():
        result[api_field] = [_pascal_keys(r) for r in _objects(permission.get(field, []), f"{what} {field}")]
    return result


def judge(
    groups: Sequence[Mapping[str, Any]],
    interfaces: Sequence[Mapping[str, Any]],
    prefix_lists: Mapping[str, tuple[str | None, Sequence[str]]],
    policy: GuardPolicy,
    region: str | None,
) -> dict[str, list[Finding]]:
    """Per group id, the findings that make it non-compliant: its own, and those of every interface that its
    rules help open. Raises if the guard could not check the groups."""
    template = live.live_template(groups, prefix_lists, region, interfaces)
    return judge_inventory(read_inventory([template]), template.name, groups, policy)


def judge_inventory(inventory: Inventory, template_name: str, groups: Sequence[Mapping[str, Any]], policy: GuardPolicy) -> dict[str, list[Finding]]:
    """``judge`` for the inventory already read from the synthetic template ``template_name`` of ``groups``."""
    own = {live.group_logical_id(group): group["GroupId"] for group in groups}
    by_key = {f"{template_name}:{logical_id}": group_id for logical_id, group_id in own.items()}
    by_label: dict[str, set[str]] = {}
    for permission in inventory.permissions:
        if permission.group in by_key:
            by_label.setdefault(permission.rule_label, set()).add(by_key[permission.group])
    verdicts: dict[str, list[Finding]] = {group_id: [] for group_id in own.values()}
    for finding in evaluate(inventory, policy):
        if finding.rule in _CRASHES:
            raise RuntimeError(f"the guard could not check the security groups: {finding.message}")
        owner = own.get(finding.location.logical_id)
        owners = {owner} if owner else {g for label in finding.contributors for g in by_label.get(label, ())}
        if not owners:
            raise RuntimeError(f"a finding names no security group ({finding.location.logical_id}): {finding.message}")
        for group_id in owners:
            verdicts[group_id].append(finding)
    return verdicts


def annotation(group: Mapping[str, Any], findings: Sequence[Finding], policy: GuardPolicy) -> str:
    """What makes the group non-compliant, most severe first, in at most 256 characters."""
    logical_id = live.group_logical_id(group)
    order = {rule: index for index, rule in enumerate(RULES)}
    parts = [_describe(f, logical_id, policy) for f in sorted(findings, key=lambda f: (order[f.rule], f.port or 0))]
    text = ""
    for index, part in enumerate(parts):
        more = len(parts) - index - 1
        suffix = f"; +{more} more" if more else ""
        joined = f"{text}; {part}" if text else _clip(part, ANNOTATION_LIMIT - len(suffix))
        if len(joined) + len(suffix) > ANNOTATION_LIMIT:
            return f"{text}; +{more + 1} more"
        text = joined
    return text


def _describe(finding: Finding, logical_id: str, policy: GuardPolicy) -> str:
    """``WorldOpenAdminPort[22]: tcp/22 (SSH) from 0.0.0.0/1, 128.0.0.0/1``, or the finding's message."""
    if finding.port is None or not finding.sources:
        return f"{finding.check_name}: {finding.message}"
    sources = ", ".join(finding.sources[:4]) + (f" +{len(finding.sources) - 4} more" if len(finding.sources) > 4 else "")
    text = f"{finding.check_name}: tcp/{finding.port} ({policy.admin_ports.get(finding.port, 'admin')}) from {sources}"
    where = finding.location.logical_id
    return text if where == logical_id else f"{text} with the other groups on {where}"


def _verdict(group: Mapping[str, Any], findings: Sequence[Finding], when: str, policy: GuardPolicy) -> dict[str, Any]:
    if not findings:
        return _evaluation(SECURITY_GROUP, group["GroupId"], "COMPLIANT", when)
    return _evaluation(SECURITY_GROUP, group["GroupId"], "NON_COMPLIANT", when, annotation(group, findings, policy))


def _evaluation(resource_type: str, resource_id: str, compliance: str, when: str, note: str | None = None) -> dict[str, Any]:
    evaluation = {
        "ComplianceResourceType": resource_type,
        "ComplianceResourceId": resource_id,
        "ComplianceType": compliance,
        "OrderingTimestamp": when,
    }
    if note:
        evaluation["Annotation"] = note
    return evaluation


def changed(config: Any, rule_name: str, evaluations: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The ``evaluations`` whose compliance or annotation differs from the rule's current results."""
    current = {}
    pages = config.get_paginator("get_compliance_details_by_config_rule").paginate(
        ConfigRuleName=rule_name, ComplianceTypes=["COMPLIANT", "NON_COMPLIANT"]
    )
    for result in (result for page in pages for result in page.get("EvaluationResults", [])):
        qualifier = result["EvaluationResultIdentifier"]["EvaluationResultQualifier"]
        current[(qualifier["ResourceType"], qualifier["ResourceId"])] = (result["ComplianceType"], result.get("Annotation"))
    return [
        e for e in evaluations
        if current.get((e["ComplianceResourceType"], e["ComplianceResourceId"])) != (e["ComplianceType"], e.get("Annotation"))
    ]


def put_evaluations(config: Any, evaluations: Sequence[Mapping[str, Any]], token: str) -> None:
    """Put ``evaluations`` in batches of 100; raise if Config refuses any."""
    for start in range(0, len(evaluations), BATCH_SIZE):
        failed = config.put_evaluations(Evaluations=list(evaluations[start:start + BATCH_SIZE]), ResultToken=token).get("FailedEvaluations")
        if failed:
            raise RuntimeError(f"AWS Config refused {len(failed)} evaluation(s), for example {failed[0]}")


def client_factory(event: Any, function_arn: str) -> ClientFactory:
    """boto3 clients for the account the event comes from: the function's own, or, for an organization rule's
    event from a member account, the member role's (``ADMIN_PORT_GUARD_MEMBER_ROLE``)."""
    import boto3

    _, partition, _, region, own_account, *_ = function_arn.split(":")
    account = event.get("accountId", own_account) if isinstance(event, Mapping) else own_account
    if account == own_account:
        return boto3.client
    if not (isinstance(account, str) and len(account) == 12 and account.isdigit()):
        raise MalformedEvent(f"accountId {account!r} is not an AWS account id")
    role_name = os.environ.get(MEMBER_ROLE_ENV)
    if not role_name:
        raise RuntimeError(
            f"an event from account {account}, but this function runs in {own_account} and has no member role to assume "
            f"(set {MEMBER_ROLE_ENV}; AdminPortGuardConfigRule does so with organization=...)"
        )
    role_arn = f"arn:{partition}:iam::{account}:role/{role_name}"
    credentials = boto3.client("sts").assume_role(RoleArn=role_arn, RoleSessionName="AdminPortGuardConfigRule")["Credentials"]
    session = boto3.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=region,
    )
    return session.client


def _json_object(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, str):
        raise MalformedEvent(f"{what} is not a JSON string: {value!r:.80}")
    try:
        data = json.loads(value)
    except ValueError as error:
        raise MalformedEvent(f"{what} is not valid JSON: {error}") from None
    if not isinstance(data, dict):
        raise MalformedEvent(f"{what} is not a JSON object: {value:.80}")
    return data


def _field(data: Mapping[str, Any], key: str, kind: type) -> Any:
    value = data.get(key)
    if not isinstance(value, kind):
        raise MalformedEvent(f"{key} is missing or not a {'string' if kind is str else 'JSON object'}")
    return value


def _objects(value: Any, what: str) -> list[Mapping[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(item, Mapping) for item in value):
        raise MalformedEvent(f"{what} is not a list of objects: {value!r:.80}")
    return value


def _strings(value: Any, what: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise MalformedEvent(f"{what} is not a list of strings: {value!r:.80}")
    return value


def _pascal(key: str) -> str:
    return key[:1].upper() + key[1:]


def _pascal_keys(item: Mapping[str, Any]) -> dict[str, Any]:
    return {_pascal(key): value for key, value in item.items() if value is not None}


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
