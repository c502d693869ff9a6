"""Custom resources: API calls made at deploy time.

An ``AwsCustomResource`` (CDK's ``custom_resources`` module) writes its SDK calls into the template as JSON
strings (``Create``/``Update``; ``Fn::Join`` splices in tokens such as a group's id), and its singleton handler
makes exactly those calls. The calls that change what reaches an interface are read as what they do:
``authorizeSecurityGroupIngress`` (its ``IpPermissions``) and ``modifySecurityGroupRules`` (the rules as they
become) as rules of the group they name, ``modifyInstanceAttribute``/``modifyNetworkInterfaceAttribute`` with
``Groups`` as the groups now on that instance or interface. SDK v2 (``EC2``/``authorizeSecurityGroupIngress``)
and v3 (``@aws-sdk/client-ec2``/``AuthorizeSecurityGroupIngress[Command]``) spellings are the same call.
Docs: https://docs.aws.amazon.com/cdk/api/v2/docs/aws-cdk-lib.custom_resources.AwsCustomResource.html,
https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_AuthorizeSecurityGroupIngress.html,
https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_ModifySecurityGroupRules.html,
https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_ModifyInstanceAttribute.html,
https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_ModifyNetworkInterfaceAttribute.html.

Any other custom resource runs code the template does not show: it is unverifiable when its handler may make
those calls, that is when the role of the Lambda function behind its ``ServiceToken`` (or of a function that
function may invoke, as CDK's provider framework does) allows one of the EC2 actions, or when the handler or its
role is outside the input. Handlers CDK ships whose behaviour is known are exempt: the VPC default-security-group
restriction (``Custom::VpcRestrictDefaultSG``) only revokes rules.
"""

from __future__ import annotations

import json
import re
from fnmatch import fnmatchcase

from ..intrinsics import NO_VALUE, ResourceRef, Unknown, describe
from . import Resource, reads
from .ec2 import read_rule

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

#: IAM actions by which a handler may open or attach (the EC2 calls this reader models).
GRANTING_ACTIONS = ("ec2:AuthorizeSecurityGroupIngress", "ec2:ModifySecurityGroupRules", "ec2:ModifyInstanceAttribute",
                    "ec2:ModifyNetworkInterfaceAttribute")
#: AWS managed policies that allow one of those actions (others are job-function or service policies that do not).
GRANTING_MANAGED_POLICIES = frozenset({"AdministratorAccess", "PowerUserAccess", "AmazonEC2FullAccess", "AmazonVPCFullAccess",
                                       "NetworkAdministrator", "SystemAdministrator"})
#: The logical-id prefix of the singleton handler of every ``AwsCustomResource`` (uuid 679f53fa-c002-430c-b0da-5b7982bd2287).
AWS_CUSTOM_RESOURCE_HANDLER = "AWS679f53fac002430cb0da5b7982bd2287"
#: CDK's own handlers whose behaviour is known not to open anything: ``{resource type: handler logical-id prefix}``.
KNOWN_HANDLERS = {"Custom::VpcRestrictDefaultSG": "CustomVpcRestrictDefaultSGCustomResourceProviderHandler"}
_CALLS = ("Create", "Update")
#: A policy statement that may allow anything (an unknown document or statement, a granting AWS managed policy).
_ANY_STATEMENT = {"Effect": "Allow", "Action": "*", "Resource": "*"}
_TOKEN = re.compile("\x00(\\d+)\x00")
#: An AWS managed policy's ARN (``arn:${AWS::Partition}:iam::aws:policy/service-role/NAME``, literal or joined).
_AWS_MANAGED = re.compile(r':iam::aws:policy/(?:[\w+=,.@-]+/)*([\w+=,.@-]+)"\]*\}*\]*$')


@reads("Custom::*", "AWS::CloudFormation::CustomResource")
def custom_resource(resource: Resource) -> None:
    handlers = [value for value in resource.resolver.candidates(resource.properties.get("ServiceToken", NO_VALUE)) if value is not NO_VALUE]
    if handlers and all(_is_function(resource, value, AWS_CUSTOM_RESOURCE_HANDLER) for value in handlers):
        for field in _CALLS:
            if field in resource.properties:
                _sdk_call(resource, field, _parse_call(resource.properties[field]))
        return
    known = KNOWN_HANDLERS.get(resource.type)
    if known and handlers and all(_is_function(resource, value, known) for value in handlers):
        return
    for why in _may_grant(resource, handlers):
        resource.unverifiable(f"its handler may open ports at deploy time: {why}")
        return


# --- AwsCustomResource ---------------------------------------------------------------------------


def _parse_call(node: Any) -> dict[str, Any] | str:
    """An ``AwsCustomResource`` call (``{"service", "action", "parameters"}``) with its tokens put back as the
    intrinsics they were, or why it cannot be read."""
    if isinstance(node, str):
        parts: list[Any] = [node]
    elif isinstance(node, dict) and list(node) == ["Fn::Join"] and isinstance(node["Fn::Join"], list) and len(node["Fn::Join"]) == 2 \
            and node["Fn::Join"][0] == "" and isinstance(node["Fn::Join"][1], list):
        parts = node["Fn::Join"][1]
    else:
        return "the call is produced by an intrinsic"
    text: list[str]
    tokens: list[Any]
    text, tokens, in_string = [], [], False
    for part in parts:
        if isinstance(part, str):
            text.append(part)
            in_string = _ends_in_string(part, in_string)
        else:
            marker = f"\\u0000{len(tokens)}\\u0000"
            text.append(marker if in_string else f'"{marker}"')
            tokens.append(part)
    try:
        call = json.loads("".join(text))
    except ValueError as error:
        return f"the call is not JSON ({error})"
    if not isinstance(call, dict):
        return "the call is not a JSON object"
    return _untokenized(call, tokens)


def _ends_in_string(text: str, in_string: bool) -> bool:
    """Whether JSON text that starts inside a string (``in_string``) or outside ends inside one."""
    escaped = False
    for character in text:
        if escaped:
            escaped = False
        elif character == "\\" and in_string:
            escaped = True
        elif character == '"':
            in_string = not in_string
    return in_string


def _untokenized(node: Any, tokens: list[Any]) -> Any:
    if isinstance(node, dict):
        return {key: _untokenized(value, tokens) for key, value in node.items()}
    if isinstance(node, list):
        return [_untokenized(value, tokens) for value in node]
    if isinstance(node, str) and "\x00" in node:
        pieces = _TOKEN.split(node)  # text, token index, text, ...
        values = [tokens[int(piece)] if index % 2 else piece for index, piece in enumerate(pieces)]
        values = [value for value in values if value != ""]
        return values[0] if len(values) == 1 else {"Fn::Join": ["", values]}
    return node


def _sdk_call(resource: Resource, field: str, call: dict[str, Any] | str) -> None:
    if isinstance(call, str):
        resource.unverifiable(f"its {field} SDK call cannot be read: {call}")
        return
    service, action = call.get("service"), call.get("action")
    if not isinstance(service, str) or not isinstance(action, str):
        resource.unverifiable(f"its {field} SDK call names no literal service and action")
        return
    if service.lower().removeprefix("@aws-sdk/client-") != "ec2":
        return
    name = action.removesuffix("Command").lower()
    parameters = call.get("parameters")
    parameters = parameters if isinstance(parameters, dict) else {}
    label = f"{resource.logical_id}.{field} ({action})"
    if name == "authorizesecuritygroupingress":
        _authorize(resource, parameters, label)
    elif name == "modifysecuritygrouprules":
        _modify_rules(resource, parameters, label)
    elif name in ("modifyinstanceattribute", "modifynetworkinterfaceattribute") and "Groups" in parameters:
        kind, target = ("instance", "InstanceId") if name == "modifyinstanceattribute" else ("network interface", "NetworkInterfaceId")
        keys, unresolved = resource.group_keys(parameters["Groups"], "GroupId")
        names = [value for value in resource.resolver.strings(parameters.get(target)) if isinstance(value, str)]
        resource.attach(kind, names[0] if len(names) == 1 else f"{resource.name} ({target})", keys, unresolved, f"#{field}")


def _groups(resource: Resource, parameters: dict[str, Any], label: str) -> list[str]:
    field = "GroupId" if "GroupId" in parameters else "GroupName" if "GroupName" in parameters else None
    if field is None:
        resource.malformed(f"{label} names no GroupId or GroupName")
        return []
    groups = []
    for value in resource.resolver.candidates(parameters[field]):
        if isinstance(value, Unknown):
            groups.append(resource.refer_group(f"unresolved:{field} of {label} ({value.reason})"))
        elif value is not NO_VALUE:
            groups.append(resource.refer_group(resource.group_key(value, field)))
    return groups


#: An SDK ``IpPermission``'s source lists: ``(list, field in each entry, CloudFormation rule field)``.
_PERMISSION_SOURCES = (("IpRanges", "CidrIp", "CidrIp"), ("Ipv6Ranges", "CidrIpv6", "CidrIpv6"),
                       ("PrefixListIds", "PrefixListId", "SourcePrefixListId"), ("UserIdGroupPairs", "GroupId", "SourceSecurityGroupId"))


def _authorize(resource: Resource, parameters: dict[str, Any], label: str) -> None:
    groups = _groups(resource, parameters, label)
    if not groups:
        return
    permissions = parameters.get("IpPermissions")
    if permissions is None:  # the older form: one rule in the parameters themselves
        rule: dict[str, Any] = {key: parameters[key] for key in ("IpProtocol", "FromPort", "ToPort", "CidrIp") if key in parameters}
        if "SourceSecurityGroupName" in parameters:
            rule["SourceSecurityGroupName"] = parameters["SourceSecurityGroupName"]
        read_rule(resource, groups, rule, label)
        return
    for index, entry in enumerate(permissions if isinstance(permissions, list) else [permissions]):  # a token: one entry
        place = f"IpPermissions[{index}]"
        for permission in resource.resolver.candidates(entry):
            if isinstance(permission, dict):
                _authorize_permission(resource, groups, permission, label, place)
            elif permission is entry:  # a literal that is no object: EC2 refuses the call
                resource.malformed(f"{label}: {place} is {describe(entry)}, not an IpPermission object")
            elif permission is not NO_VALUE:  # a token: the handler parses what it resolves to, at deploy time
                reason = permission.reason if isinstance(permission, Unknown) else f"{describe(entry)} is spliced into the call's JSON as {describe(permission)}"
                resource.unverifiable(f"{label}: {place} is unknown at synth time ({reason})")


def _authorize_permission(resource: Resource, groups: list[str], permission: dict[str, Any], label: str, place: str) -> None:
    """One ``IpPermission`` object, at ``place`` of the ``authorizeSecurityGroupIngress`` call ``label``."""
    ports: dict[str, Any] = {key: permission[key] for key in ("IpProtocol", "FromPort", "ToPort") if key in permission}
    rules: list[dict[str, Any]] = []
    for list_field, field, rule_field in _PERMISSION_SOURCES:
        entries = permission.get(list_field)
        for entry in entries if isinstance(entries, list) else ([entries] if entries is not None else []):
            value = entry.get(field, entry.get("GroupName")) if isinstance(entry, dict) else entry
            name_field = "SourceSecurityGroupName" if rule_field == "SourceSecurityGroupId" and isinstance(entry, dict) and field not in entry else rule_field
            rules.append({**ports, name_field: value})
    if not rules:
        resource.malformed(f"{label}: {place} names no source")
    for rule in rules:
        read_rule(resource, groups, rule, f"{label} {place}")


def _modify_rules(resource: Resource, parameters: dict[str, Any], label: str) -> None:
    groups = _groups(resource, parameters, label)
    updates = parameters.get("SecurityGroupRules")
    updates = updates if isinstance(updates, list) else [] if updates is None else [updates]  # a token: one unknown update
    for index, update in enumerate(updates if groups else []):
        rule = update.get("SecurityGroupRule") if isinstance(update, dict) else None
        if not isinstance(rule, dict):
            resource.unverifiable(f"{label}: SecurityGroupRules[{index}] is unknown at synth time")
            continue
        fields = {"CidrIpv4": "CidrIp", "CidrIpv6": "CidrIpv6", "PrefixListId": "SourcePrefixListId", "ReferencedGroupId": "SourceSecurityGroupId",
                  "IpProtocol": "IpProtocol", "FromPort": "FromPort", "ToPort": "ToPort"}
        read_rule(resource, groups, {fields[key]: value for key, value in rule.items() if key in fields}, f"{label} SecurityGroupRules[{index}]")


# --- any other handler -----------------------------------------------------------------------------


def _resource_body(resource: Resource, ref: ResourceRef) -> dict[str, Any]:
    entry = resource.context.templates.get(ref.template)
    resources = entry[0].body.get("Resources") if entry else None
    body = resources.get(ref.logical_id) if isinstance(resources, dict) else None
    return body if isinstance(body, dict) else {}


def _is_function(resource: Resource, value: Any, prefix: str) -> bool:
    return isinstance(value, ResourceRef) and value.logical_id.startswith(prefix) and \
        _resource_body(resource, value).get("Type") == "AWS::Lambda::Function"


def _may_grant(resource: Resource, handlers: list[Any]) -> list[str]:
    """Why the handler behind ``handlers`` (its ``ServiceToken`` values) may make a granting call; empty if it cannot."""
    reasons: list[str] = []
    functions = list(handlers) or [Unknown("it has no ServiceToken")]
    seen: set[Any] = set()
    while functions:
        function = functions.pop()
        key = function if isinstance(function, ResourceRef) else repr(function)
        if key in seen:
            continue
        seen.add(key)
        body = _resource_body(resource, function) if isinstance(function, ResourceRef) else {}
        if body.get("Type") != "AWS::Lambda::Function":
            reason = function.reason if isinstance(function, Unknown) else f"its handler {_show(function)} is outside the input"
            reasons.append(reason)
            continue
        properties: Any = body.get("Properties") if isinstance(body.get("Properties"), dict) else {}
        for role in resource.resolver.candidates(properties.get("Role")):
            if not isinstance(role, ResourceRef) or _resource_body(resource, role).get("Type") != "AWS::IAM::Role":
                reasons.append(f"the role of its handler {function.logical_id} is outside the input")
                continue
            for name, statement in _statements(resource, role):
                granting = _allowed(resource, statement, GRANTING_ACTIONS)
                if granting:
                    reasons.append(f"the role of its handler {function.logical_id} allows {', '.join(granting)} ({name})")
                if _allowed(resource, statement, ("lambda:InvokeFunction",)):  # a provider framework: the functions it invokes
                    functions.extend(_invoked(resource, role.template, statement.get("Resource")))
    return reasons


def _invoked(resource: Resource, template: str, node: Any) -> list[Any]:
    """The functions a statement's ``Resource`` names (``Fn::GetAtt``/``Ref`` of a function, also inside ``Fn::Join``
    as in ``<arn>:*``), or ``Unknown`` for one it names otherwise (``*``: any function)."""
    functions: list[Any] = []
    for entry in _listed(node):
        refs = [ResourceRef(template, name) for name in _referenced(entry)]
        refs = [ref for ref in refs if _resource_body(resource, ref).get("Type") == "AWS::Lambda::Function"]
        functions.extend(refs or [Unknown(f"its handler may invoke {json.dumps(entry, default=str)}, outside the input")])
    return functions


def _referenced(node: Any) -> list[str]:
    """Logical ids ``node`` names by ``Ref`` or ``Fn::GetAtt``, at any depth."""
    if isinstance(node, list):
        return [name for value in node for name in _referenced(value)]
    if not isinstance(node, dict):
        return []
    if list(node) == ["Ref"] and isinstance(node["Ref"], str):
        return [node["Ref"]]
    if list(node) == ["Fn::GetAtt"] and isinstance(node["Fn::GetAtt"], list) and node["Fn::GetAtt"] and isinstance(node["Fn::GetAtt"][0], str):
        return [node["Fn::GetAtt"][0]]
    return [name for value in node.values() for name in _referenced(value)]


def _show(value: Any) -> str:
    return value.logical_id if isinstance(value, ResourceRef) else json.dumps(value, default=str)


def _statements(resource: Resource, role: ResourceRef) -> list[tuple[str, dict[str, Any]]]:
    """Every policy statement of ``role``: inline ``Policies``, managed policies, and the template's ``AWS::IAM::Policy``,
    ``AWS::IAM::ManagedPolicy`` and ``AWS::IAM::RolePolicy`` resources attached to it."""
    found: list[tuple[str, Any]] = []
    properties = _resource_body(resource, role).get("Properties") or {}
    policy: Any  # a node of the template: an inline policy, then the properties of a policy resource
    for policy in _listed(properties.get("Policies")):
        found.append((f"inline policy {policy.get('PolicyName') if isinstance(policy, dict) else '?'}", policy.get("PolicyDocument") if isinstance(policy, dict) else policy))
    for arn in _listed(properties.get("ManagedPolicyArns")):
        aws_managed = _AWS_MANAGED.search(json.dumps(arn))
        if aws_managed:
            if aws_managed.group(1) in GRANTING_MANAGED_POLICIES:
                found.append((f"AWS managed policy {aws_managed.group(1)}", {"Statement": _ANY_STATEMENT}))
            continue
        for value in resource.resolver.candidates(arn):
            if isinstance(value, ResourceRef) and _resource_body(resource, value).get("Type") == "AWS::IAM::ManagedPolicy":
                found.append((f"managed policy {value.logical_id}", (_resource_body(resource, value).get("Properties") or {}).get("PolicyDocument")))
            elif value is not NO_VALUE:
                found.append((f"managed policy {value.reason if isinstance(value, Unknown) else _show(value)}, outside the input", None))
    resources = resource.context.templates[role.template][0].body.get("Resources") or {}
    for logical_id, body in resources.items():
        if not isinstance(body, dict) or body.get("Type") not in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::IAM::RolePolicy"):
            continue
        policy = body.get("Properties") if isinstance(body.get("Properties"), dict) else {}
        names = [policy.get("RoleName")] if body["Type"] == "AWS::IAM::RolePolicy" else _listed(policy.get("Roles"))
        if any(value == ResourceRef(role.template, role.logical_id) for node in names for value in resource.resolver.candidates(node)):
            found.append((f"policy {logical_id}", policy.get("PolicyDocument")))
    statements = []
    for name, document in found:
        for value in resource.resolver.candidates(document):
            for statement in _listed(value.get("Statement")) if isinstance(value, dict) else [value]:
                for candidate in resource.resolver.candidates(statement):
                    if candidate is not NO_VALUE:  # what is not a statement is unknown: may allow anything
                        statements.append((name, candidate if isinstance(candidate, dict) else _ANY_STATEMENT))
    return statements


def _listed(node: Any) -> list[Any]:
    return node if isinstance(node, list) else [] if node is None else [node]


def _allowed(resource: Resource, statement: dict[str, Any], actions: tuple[str, ...]) -> list[str]:
    """Which of ``actions`` an IAM statement may allow (an action or effect unknown at synth may be any)."""
    effect = resource.resolver.strings(statement.get("Effect"))
    if "Allow" not in effect and not any(isinstance(value, Unknown) for value in effect):
        return []
    field = "Action" if "Action" in statement else "NotAction"
    patterns = [value for node in _listed(statement.get(field)) for value in resource.resolver.strings(node)]
    if any(isinstance(pattern, Unknown) for pattern in patterns):
        return list(actions)
    listed = [action for action in actions if any(fnmatchcase(action.lower(), pattern.lower()) for pattern in patterns)]  # type: ignore[union-attr]  # an Unknown pattern returned above
    return listed if field == "Action" else [action for action in actions if action not in listed]
