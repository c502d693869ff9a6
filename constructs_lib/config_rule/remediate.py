"""Remediation of a NON_COMPLIANT security group: the policy core's plan (``policy.remediation``), applied with EC2.

Two entry points, both in the rule's Lambda function:

* ``report_plans`` (every mode, while the rule evaluates): for each group it found NON_COMPLIANT, the change
  the plan would make, as one JSON line in the function's log (``"action": "planned"``). Nothing is changed;
  in ``notify`` mode this is all that happens.
* ``remediate`` (modes ``manual`` and ``automatic``): the payload ``{"remediate": {"groupId", "configRuleName"}}``
  that the project's SSM Automation document sends with ``aws:invokeLambdaFunction`` when AWS Config runs the
  rule's remediation. Safe by design: the rule's stored result for the group must be NON_COMPLIANT (that
  evaluation's ``OrderingTimestamp`` is the evaluation id); the group is read again and judged again (a
  concurrent fix wins: nothing to do); a group tagged ``admin-port-guard:remediation`` = ``off`` is refused;
  the remainder is authorized first, then each cut permission is revoked, so no instant admits more than
  before; a revoke EC2 no longer knows (the rule was removed meanwhile) withdraws the grants only it needed.
  Every change is logged as one JSON line (``"action": "remediated"``: before, authorized, revoked, after,
  evaluation id) and returned, so the Automation execution's output holds it too; both say how to undo it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from ..guard import live
from ..policy import Finding, GuardPolicy, read_inventory
from ..policy.remediation import Cut, Grant, Plan, plan
from . import handler

#: The tag that opts a group out of remediation, and its value.
OPT_OUT_TAG, OPT_OUT_VALUE = "admin-port-guard:remediation", "off"
APPLYING = ("manual", "automatic")
_GROUP_ID = re.compile(r"^sg-[0-9a-f]{8}([0-9a-f]{9})?$")
_RANGE_FIELDS = {4: ("IpRanges", "CidrIp"), 6: ("Ipv6Ranges", "CidrIpv6")}


def group_plan(ec2: Any, group: Mapping[str, Any], policy: GuardPolicy) -> tuple[list[Finding], Plan, list[dict[str, Any]], list[dict[str, Any]]]:
    """``plan_requests`` for ``group`` as it is now, with the groups it shares network interfaces with."""
    groups, interfaces, prefix_lists = handler.surroundings(ec2, group)
    return plan_requests(groups, interfaces, prefix_lists, policy, ec2.meta.region_name)


def plan_requests(
    groups: Sequence[Mapping[str, Any]],
    interfaces: Sequence[Mapping[str, Any]],
    prefix_lists: Mapping[str, Any],
    policy: GuardPolicy,
    region: str | None,
) -> tuple[list[Finding], Plan, list[dict[str, Any]], list[dict[str, Any]]]:
    """For ``groups[0]`` (``DescribeSecurityGroups`` items; the others share network interfaces with it): the
    guard's findings on it, the plan, and the EC2 requests that apply it: ``IpPermissions`` to authorize (those
    the group holds already left out: EC2 refuses a duplicate) and, per cut, the one-source item to revoke."""
    group = groups[0]
    template = live.live_template(groups, prefix_lists, region, interfaces)
    inventory = read_inventory([template])
    findings = handler.judge_inventory(inventory, template.name, groups, policy)[group["GroupId"]]
    logical_id = live.group_logical_id(group)
    entries = live.entry_permissions(group)
    label = f"{logical_id}.SecurityGroupIngress[{{}}]".format
    keep = {label(index) for index, entry in enumerate(entries) if entry is None or "PrefixListIds" in entry}
    change = plan(inventory, f"{template.name}:{logical_id}", policy, keep)
    revoke = [_cut_entry(entries, cut) for cut in change.cuts]
    held = {_key(entry) for entry in entries if entry is not None} - {_key(entry) for entry in revoke}
    descriptions: dict[Grant, str] = {}
    for cut, item in zip(change.cuts, revoke):
        [source] = item.get("IpRanges", []) + item.get("Ipv6Ranges", [])
        what = "all traffic" if cut.permission.protocol == "all" else "tcp {}-{}".format(*cut.permission.ports)
        text = source.get("Description") or f"admin-port-guard: rest of {what} without tcp {','.join(map(str, cut.ports))}"
        for grant in cut.remainder:
            descriptions.setdefault(grant, text)
    authorize = [_ip_permission(grant, descriptions[grant]) for grant in change.authorize]
    return findings, change, [p for p in authorize if _key(p) not in held], revoke


def report_plans(ec2: Any, policy: GuardPolicy, group_ids: Sequence[str], evaluation: str) -> list[dict[str, Any]]:
    """Log (and return) the planned change of each group in ``group_ids``; change nothing."""
    records = []
    for group in live.read_security_groups(ec2, list(group_ids)):
        findings, change, authorize, revoke = group_plan(ec2, group, policy)
        records.append(_log(_record("planned", group, evaluation, change, authorize, revoke)))
    return records


def remediate(event: Mapping[str, Any], clients: handler.ClientFactory) -> dict[str, Any]:
    """Apply the plan to one group the rule found NON_COMPLIANT (see the module); the change record."""
    request = event.get("remediate")
    if not isinstance(request, Mapping):
        raise handler.MalformedEvent('a remediation payload is {"remediate": {"groupId": ..., "configRuleName": ...}}')
    group_id = request.get("groupId")
    rule_name = request.get("configRuleName")
    if not isinstance(group_id, str) or not _GROUP_ID.match(group_id):
        raise handler.MalformedEvent(f"groupId {group_id!r} is not a security group id")
    if not isinstance(rule_name, str) or not rule_name:
        raise handler.MalformedEvent("configRuleName is missing")
    config, ec2 = clients("config"), clients("ec2")
    [rule] = config.describe_config_rules(ConfigRuleNames=[rule_name])["ConfigRules"]
    policy, mode = handler.rule_parameters(rule.get("InputParameters"))
    if mode not in APPLYING:
        return _log({"action": "refused", "groupId": group_id, "reason": f"the rule's remediation mode is {mode!r}: nothing is applied"})
    evaluation = _non_compliant_evaluation(config, rule_name, group_id)
    if evaluation is None:
        return _log({"action": "refused", "groupId": group_id, "reason": f"{rule_name} has not evaluated {group_id} NON_COMPLIANT"})
    [group] = live.read_security_groups(ec2, [group_id])
    tags = {tag.get("Key"): tag.get("Value") for tag in group.get("Tags", [])}
    if tags.get(OPT_OUT_TAG) == OPT_OUT_VALUE:
        return _log({"action": "refused", "groupId": group_id, "evaluation": evaluation, "reason": f"tagged {OPT_OUT_TAG}={OPT_OUT_VALUE}"})
    findings, change, authorize, revoke = group_plan(ec2, group, policy)
    if not findings:
        return _log({"action": "unchanged", "groupId": group_id, "evaluation": evaluation, "reason": "compliant when read again"})
    if not change.cuts:
        record = _record("unchanged", group, evaluation, change, [], [])
        record["reason"] = "nothing this remediation may change opens the group (see leftOpen, and the rule's annotation)"
        return _log(record)
    gone = apply_plan(ec2, group_id, change, authorize, revoke)
    [after] = live.read_security_groups(ec2, [group_id])
    record = _record("remediated", group, evaluation, change, authorize, [r for r in revoke if r not in gone])
    record["after"] = after.get("IpPermissions", [])
    record["alreadyGone"] = gone
    return _log(record)


def _cut_entry(entries: list[dict[str, Any] | None], cut: Cut) -> dict[str, Any]:
    """The one-source ``IpPermissions`` item of the rule ``cut`` revokes (a rule without a source is kept, never cut)."""
    entry = entries[int(cut.permission.rule_label.rsplit("[", 1)[1][:-1])]
    if entry is None:
        raise ValueError(f"the plan cuts {cut.permission.rule_label}, a rule without a source")
    return entry


def apply_plan(ec2: Any, group_id: str, change: Plan, authorize: list[dict[str, Any]], revoke: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Authorize the remainder, then revoke each cut rule; a rule EC2 no longer knows (removed meanwhile) withdraws
    the grants only its remainder needed. Returns the rules that were already gone."""
    if authorize:
        ec2.authorize_security_group_ingress(GroupId=group_id, IpPermissions=authorize)
    gone = [item for item in revoke if not _revoked(ec2, group_id, item)]
    if gone:
        needed = {_key(_ip_permission(g)) for cut, item in zip(change.cuts, revoke) if item not in gone for g in cut.remainder}
        withdraw = [p for p in authorize if _key(p) not in needed]
        if withdraw:
            ec2.revoke_security_group_ingress(GroupId=group_id, IpPermissions=withdraw)
    return gone


def _revoked(ec2: Any, group_id: str, item: dict[str, Any]) -> bool:
    """Revoke one rule; ``False`` when EC2 no longer knows it."""
    from botocore.exceptions import ClientError

    try:
        response = ec2.revoke_security_group_ingress(GroupId=group_id, IpPermissions=[item])
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "InvalidPermission.NotFound":
            return False
        raise
    return not response.get("UnknownIpPermissions")


def _non_compliant_evaluation(config: Any, rule_name: str, group_id: str) -> str | None:
    """``<rule>/<group>@<OrderingTimestamp>`` of the rule's stored NON_COMPLIANT result for the group."""
    pages = config.get_paginator("get_compliance_details_by_config_rule").paginate(
        ConfigRuleName=rule_name, ComplianceTypes=["NON_COMPLIANT"]
    )
    for result in (result for page in pages for result in page.get("EvaluationResults", [])):
        identifier = result["EvaluationResultIdentifier"]
        if identifier["EvaluationResultQualifier"]["ResourceId"] == group_id:
            return f"{rule_name}/{group_id}@{identifier['OrderingTimestamp']}"
    return None


def _ip_permission(grant: Grant, description: str | None = None) -> dict[str, Any]:
    """The ``IpPermissions`` item of one grant (every ICMP type: ports -1), with the cut rule's description,
    else one that says where it comes from."""
    field, key = _RANGE_FIELDS[grant.source.network.version]
    low, high = grant.ports if grant.ports is not None else (-1, -1)
    source = {key: grant.source.label, **({"Description": description} if description else {})}
    return {"IpProtocol": grant.protocol, "FromPort": low, "ToPort": high, field: [source]}


def _key(item: Mapping[str, Any]) -> tuple[str, tuple[Any, Any] | None, tuple[str, ...]]:
    """What makes one one-source rule itself (its description aside)."""
    sources = tuple(sorted(json.dumps({k: v for k, v in s.items() if k != "Description"}, sort_keys=True)
                           for field in ("IpRanges", "Ipv6Ranges", "PrefixListIds", "UserIdGroupPairs") for s in item.get(field, [])))
    protocol = str(item.get("IpProtocol"))
    ports = (item.get("FromPort"), item.get("ToPort")) if protocol not in ("-1", "all") else None
    return protocol, ports, sources


def _record(action: str, group: Mapping[str, Any], evaluation: str, change: Plan, authorize: list[dict[str, Any]], revoke: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "action": action,
        "groupId": group["GroupId"],
        "evaluation": evaluation,
        "before": group.get("IpPermissions", []),
        "authorize": authorize,
        "revoke": revoke,
        "closes": [{"source": cut.permission.source.label, "ports": list(cut.ports)} for cut in change.cuts],
        "narrowed": [cut.narrowed for cut in change.cuts if cut.narrowed],
        "leftOpen": [f"tcp/{port} on {where}" for port, where in change.left_open],
        "undo": "authorize the revoked IpPermissions again, then revoke the authorized ones",
    }


def _log(record: dict[str, Any]) -> dict[str, Any]:
    print(json.dumps({"adminPortGuardRemediation": record}, sort_keys=True, default=str), flush=True)
    return record
