"""Custom resources (RULES.md, *Resource types read*, ``Custom::*``): API calls made at deploy time.

GIVEN ``AwsCustomResource`` SDK calls written as CDK writes them (a JSON string, tokens spliced in with ``Fn::Join``),
      and other custom resources whose handler's role is written in the template (inline, managed and attached
      policies, provider frameworks that invoke further functions)
WHEN  the core reads them (``read_inventory``) and checks them (``check_templates``)
THEN  the EC2 calls are read as the rules and attachments they make, with the call as the rule's label, and any
      other handler that may make such a call (or that the input does not show) is unverifiable, saying why.
"""

from __future__ import annotations

import json

import pytest

from constructs_lib.policy import Template, check_templates, read_inventory
from guard_cases import SDK_HANDLER, WORLD_SSH_PERMISSION, custom, function, group, halves, ingress, role, sdk_call

SSH = {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22}
SG = "sg-0123456789abcdef0"
OTHER_SG = "sg-0fedcba9876543210"
PL = "pl-0123456789abcdef0"
AUTHORIZE = "Call.Create (authorizeSecurityGroupIngress)"
MODIFY = "Call.Create (modifySecurityGroupRules)"
GRANTING = "ec2:AuthorizeSecurityGroupIngress, ec2:ModifySecurityGroupRules, ec2:ModifyInstanceAttribute, ec2:ModifyNetworkInterfaceAttribute"
MAY_OPEN = "its handler may open ports at deploy time: "


def found(resources: dict, **sections: object) -> list[tuple[str, str, str]]:
    """``(rule, logical id, message)`` of every finding, sorted."""
    return sorted((f.rule_id, f.location.logical_id, f.message)
                  for f in check_templates([Template("S", "S.json", {"Resources": resources, **sections})]))


def read(resources: dict):
    return read_inventory([Template("S", "S.json", {"Resources": resources})])


def permits(resources: dict) -> list[tuple]:
    """``(group, protocol, ports, source kind, source, rule label)`` of every permission read."""
    return [(p.group, p.protocol, p.ports, p.source.kind, p.source.label, p.rule_label) for p in read(resources).permissions]


def world_ssh(group_name: str, label: str, where: str = "Call") -> tuple[str, str, str]:
    return ("WorldOpenAdminPort", where, f"{group_name} allows tcp/22 (SSH) from the whole IPv4 internet via 0.0.0.0/0 (rule {label})")


def joined_call(*parts: object) -> dict:
    """An AwsCustomResource whose Create is ``Fn::Join`` of exactly ``parts`` (text and tokens as CDK splices them)."""
    resources = sdk_call("EC2", "describeSecurityGroups", {})
    resources["Call"]["Properties"]["Create"] = {"Fn::Join": ["", list(parts)]}
    return resources


# --- authorizeSecurityGroupIngress ------------------------------------------------------------------


def test_every_source_list_of_an_ip_permission_is_a_rule_labelled_with_the_call() -> None:
    call = sdk_call("EC2", "authorizeSecurityGroupIngress", {"GroupId": SG, "IpPermissions": [
        {**SSH, "IpRanges": [{"CidrIp": "0.0.0.0/0"}], "Ipv6Ranges": [{"CidrIpv6": "::/0"}], "PrefixListIds": [{"PrefixListId": PL}],
         "UserIdGroupPairs": [{"GroupId": OTHER_SG}, {"GroupName": "bastion"}]}]})
    label = f"{AUTHORIZE} IpPermissions[0]"
    assert permits(call) == [
        (f"id:{SG}", "tcp", (22, 22), "cidr", "0.0.0.0/0", label), (f"id:{SG}", "tcp", (22, 22), "cidr", "::/0", label),
        (f"id:{SG}", "tcp", (22, 22), "prefix-list", PL, label),
        (f"id:{SG}", "tcp", (22, 22), "security-group", f"id:{OTHER_SG}", label),
        (f"id:{SG}", "tcp", (22, 22), "security-group", "name:bastion", label)]


def test_a_source_group_pair_by_name_is_a_group_name_and_one_naming_nothing_is_malformed() -> None:
    pairs = sdk_call("EC2", "authorizeSecurityGroupIngress", {"GroupId": SG, "IpPermissions": [
        {**SSH, "UserIdGroupPairs": [{"GroupName": OTHER_SG}, OTHER_SG]}]})
    # an SDK GroupName is a name whatever it looks like; a bare entry is the group itself
    assert [p[4] for p in permits(pairs)] == [f"id:{OTHER_SG}", f"id:{OTHER_SG}"]
    nothing = sdk_call("EC2", "authorizeSecurityGroupIngress", {"GroupId": SG, "IpPermissions": [{**SSH, "UserIdGroupPairs": [{"Description": "x"}]}]})
    assert found(nothing) == [("MalformedIngress", "Call", f"{AUTHORIZE} IpPermissions[0]: SourceSecurityGroupName null is not a security group")]


def test_a_range_without_its_address_is_malformed_naming_the_missing_field() -> None:
    call = sdk_call("EC2", "authorizeSecurityGroupIngress", {"GroupId": SG, "IpPermissions": [
        {**SSH, "IpRanges": [{"Description": "office"}], "Ipv6Ranges": ["::/0"]}]})
    assert found(call) == sorted([("MalformedIngress", "Call", f"{AUTHORIZE} IpPermissions[0]: CidrIp null is not a CIDR string"),
                                  ("WorldOpenAdminPort", "Call", f"security group {SG} (not defined in the templates) allows tcp/22 (SSH) "
                                                                 f"from the whole IPv6 internet via ::/0 (rule {AUTHORIZE} IpPermissions[0])")])


def test_a_single_permission_or_range_not_in_a_list_is_read_as_a_list_of_one() -> None:
    single = sdk_call("EC2", "authorizeSecurityGroupIngress", {"GroupId": SG, "IpPermissions": WORLD_SSH_PERMISSION})
    assert found(single) == [world_ssh(f"security group {SG} (not defined in the templates)", f"{AUTHORIZE} IpPermissions[0]")]
    ranges = sdk_call("EC2", "authorizeSecurityGroupIngress", {"GroupId": SG, "IpPermissions": [{**SSH, "IpRanges": {"CidrIp": "0.0.0.0/0"}}]})
    assert found(ranges) == [world_ssh(f"security group {SG} (not defined in the templates)", f"{AUTHORIZE} IpPermissions[0]")]


def test_a_permission_unknown_at_synth_is_unverifiable_and_the_others_are_still_read() -> None:
    call = sdk_call("EC2", "authorizeSecurityGroupIngress", {"GroupId": SG, "IpPermissions": [
        {"Token": {"Fn::ImportValue": "perm"}}, "x", SSH, WORLD_SSH_PERMISSION, {"Token": {"Ref": "Perm"}}]})
    assert found(call, Parameters={"Perm": {"Type": "String", "Default": "tcp"}}) == sorted([
        ("UnverifiableIngress", "Call", f"{AUTHORIZE}: IpPermissions[0] is unknown at synth time (Fn::ImportValue 'perm' comes from a stack outside this input)"),
        ("MalformedIngress", "Call", f'{AUTHORIZE}: IpPermissions[1] is "x", not an IpPermission object'),
        ("MalformedIngress", "Call", f"{AUTHORIZE}: IpPermissions[2] names no source"),
        world_ssh(f"security group {SG} (not defined in the templates)", f"{AUTHORIZE} IpPermissions[3]"),
        ("UnverifiableIngress", "Call", f'{AUTHORIZE}: IpPermissions[4] is unknown at synth time ({{"Ref": "Perm"}} is spliced into the call\'s JSON as "tcp")')])
    whole_list = sdk_call("EC2", "authorizeSecurityGroupIngress", {"GroupId": SG, "IpPermissions": {"Token": {"Fn::ImportValue": "perms"}}})
    assert found(whole_list) == [("UnverifiableIngress", "Call", f"{AUTHORIZE}: IpPermissions[0] is unknown at synth time "
                                                                  "(Fn::ImportValue 'perms' comes from a stack outside this input)")]


def test_a_permission_chosen_by_a_condition_is_read_in_each_branch() -> None:
    choice = {"Fn::If": ["Wide", WORLD_SSH_PERMISSION, {"Ref": "AWS::NoValue"}]}
    call = sdk_call("EC2", "authorizeSecurityGroupIngress", {"GroupId": SG, "IpPermissions": [{"Token": choice}]})
    conditions = {"Wide": {"Fn::Equals": [{"Ref": "AWS::Region"}, "us-east-1"]}}
    assert found(call, Conditions=conditions) == [world_ssh(f"security group {SG} (not defined in the templates)", f"{AUTHORIZE} IpPermissions[0]")]


def test_the_older_form_is_one_rule_in_the_parameters_themselves() -> None:
    cidr = sdk_call("EC2", "authorizeSecurityGroupIngress", {"GroupId": SG, **SSH, "CidrIp": "0.0.0.0/0"})
    assert found(cidr) == [world_ssh(f"security group {SG} (not defined in the templates)", AUTHORIZE)]
    assert permits(cidr) == [(f"id:{SG}", "tcp", (22, 22), "cidr", "0.0.0.0/0", AUTHORIZE)]
    by_name = sdk_call("EC2", "authorizeSecurityGroupIngress", {"GroupId": SG, **SSH, "SourceSecurityGroupName": "bastion"})
    assert permits(by_name) == [(f"id:{SG}", "tcp", (22, 22), "security-group", "name:bastion", AUTHORIZE)]


def test_the_group_is_named_by_id_or_by_name_and_a_call_naming_neither_is_malformed() -> None:
    by_name = {"Web": group(GroupName="web"), **sdk_call("EC2", "authorizeSecurityGroupIngress", {"GroupName": "web", "IpPermissions": [WORLD_SSH_PERMISSION]})}
    assert found(by_name) == [world_ssh("security group Web", f"{AUTHORIZE} IpPermissions[0]", "Web")]
    elsewhere = sdk_call("EC2", "authorizeSecurityGroupIngress", {"GroupName": "web", "IpPermissions": [WORLD_SSH_PERMISSION]})
    assert found(elsewhere) == [world_ssh("security group named 'web' (not defined in the templates)", f"{AUTHORIZE} IpPermissions[0]")]
    for parameters in ({"IpPermissions": [WORLD_SSH_PERMISSION]}, None):
        neither = sdk_call("EC2", "authorizeSecurityGroupIngress", parameters)
        assert found(neither) == [("MalformedIngress", "Call", f"{AUTHORIZE} names no GroupId or GroupName")]


def test_a_group_known_only_at_deploy_time_is_still_judged_and_named_by_the_call() -> None:
    call = sdk_call("EC2", "authorizeSecurityGroupIngress", {"GroupId": {"Token": {"Fn::GetAZs": ""}}, "IpPermissions": [WORLD_SSH_PERMISSION]})
    assert found(call) == [world_ssh(f"the security group named by GroupId of {AUTHORIZE} (Fn::GetAZs is evaluated only at deploy time)",
                                     f"{AUTHORIZE} IpPermissions[0]")]


# --- how the call is written ------------------------------------------------------------------------


def test_a_token_written_outside_a_json_string_is_read_as_its_value() -> None:
    resources = {"Sg": group(), **joined_call('{"service":"EC2","action":"authorizeSecurityGroupIngress","parameters":{"GroupId":"', {"Ref": "Sg"},
                                              '","Description":"\\"admin\\"","IpProtocol":"tcp","FromPort":', {"Ref": "Port"},
                                              ',"ToPort":22,"CidrIp":"0.0.0.0/0"}}')}
    assert found(resources, Parameters={"Port": {"Type": "Number", "Default": 22}}) == [world_ssh("security group Sg", AUTHORIZE, "Sg")]


def test_a_token_inside_a_string_with_text_around_it_is_joined_to_that_text() -> None:
    resources = {"Sg": group(), **joined_call('{"service":"EC2","action":"authorizeSecurityGroupIngress","parameters":{"Description":"say \\"',
                                              {"Ref": "Sg"}, '\\" \\\\","GroupId":"', {"Ref": "Sg"},
                                              '","IpProtocol":"tcp","FromPort":22,"ToPort":22,"CidrIp":"', {"Ref": "Prefix"}, '/0"}}')}
    assert found(resources, Parameters={"Prefix": {"Type": "String", "Default": "0.0.0.0"}}) == [world_ssh("security group Sg", AUTHORIZE, "Sg")]


@pytest.mark.parametrize(("create", "why"), [
    ({"Fn::Sub": "${Call}"}, "the call is produced by an intrinsic"),
    ("[1, 2]", "the call is not a JSON object"),
    ("{not json", "the call is not JSON (Expecting property name enclosed in double quotes: line 1 column 2 (char 1))"),
])
def test_a_call_that_cannot_be_read_is_unverifiable_saying_why(create: object, why: str) -> None:
    resources = sdk_call("EC2", "authorizeSecurityGroupIngress", {})
    resources["Call"]["Properties"]["Create"] = create
    assert found(resources) == [("UnverifiableIngress", "Call", f"its Create SDK call cannot be read: {why}")]


@pytest.mark.parametrize(("service", "action"), [("EC2", {"Token": {"Ref": "Action"}}), ({"Token": {"Ref": "Service"}}, "authorizeSecurityGroupIngress")])
def test_a_call_whose_service_or_action_is_a_token_is_unverifiable(service: object, action: object) -> None:
    assert found(sdk_call(service, action, {"GroupId": SG}, field="Update")) == [
        ("UnverifiableIngress", "Call", "its Update SDK call names no literal service and action")]


def test_calls_of_other_services_and_other_ec2_actions_open_nothing() -> None:
    assert found(sdk_call("@aws-sdk/client-ssm", "GetParameter", {"Name": "/admin/cidr", **SSH, "CidrIp": "0.0.0.0/0"})) == []
    both_halves = {**halves(), **sdk_call("EC2", "describeSecurityGroups", {"Groups": [{"Token": {"Ref": "Low"}}, {"Token": {"Ref": "High"}}]})}
    assert read(both_halves).attachments == []
    no_groups = {**halves(), **sdk_call("EC2", "modifyInstanceAttribute", {"InstanceId": "i-0123456789abcdef0", "SourceDestCheck": {"Value": False}})}
    assert read(no_groups).attachments == []


# --- modifySecurityGroupRules -----------------------------------------------------------------------


def test_modified_rules_are_read_as_they_become_each_source_field_as_its_rule_field() -> None:
    call = sdk_call("ec2", "modifySecurityGroupRules", {"GroupId": SG, "SecurityGroupRules": [
        {"SecurityGroupRuleId": f"sgr-{n}", "SecurityGroupRule": {**SSH, field: value}}
        for n, (field, value) in enumerate((("CidrIpv4", "0.0.0.0/0"), ("CidrIpv6", "::/0"), ("PrefixListId", PL), ("ReferencedGroupId", OTHER_SG)))]})
    assert permits(call) == [
        (f"id:{SG}", "tcp", (22, 22), "cidr", "0.0.0.0/0", f"{MODIFY} SecurityGroupRules[0]"),
        (f"id:{SG}", "tcp", (22, 22), "cidr", "::/0", f"{MODIFY} SecurityGroupRules[1]"),
        (f"id:{SG}", "tcp", (22, 22), "prefix-list", PL, f"{MODIFY} SecurityGroupRules[2]"),
        (f"id:{SG}", "tcp", (22, 22), "security-group", f"id:{OTHER_SG}", f"{MODIFY} SecurityGroupRules[3]")]


def test_a_modified_rule_unknown_at_synth_is_unverifiable_and_the_others_are_still_read() -> None:
    call = sdk_call("ec2", "modifySecurityGroupRules", {"GroupId": SG, "SecurityGroupRules": [
        "sgr-0", {"Token": {"Ref": "Rule"}}, {"SecurityGroupRule": {**SSH, "CidrIpv4": "0.0.0.0/0"}}]})
    assert found(call) == sorted([
        ("UnverifiableIngress", "Call", f"{MODIFY}: SecurityGroupRules[0] is unknown at synth time"),
        ("UnverifiableIngress", "Call", f"{MODIFY}: SecurityGroupRules[1] is unknown at synth time"),
        world_ssh(f"security group {SG} (not defined in the templates)", f"{MODIFY} SecurityGroupRules[2]")])


def test_rules_given_whole_by_a_token_are_unverifiable_not_ignored() -> None:
    # Fixed: a SecurityGroupRules list from a token was read as no rule at all (fail open).
    call = sdk_call("ec2", "modifySecurityGroupRules", {"GroupId": SG, "SecurityGroupRules": {"Token": {"Ref": "Rules"}}})
    assert found(call) == [("UnverifiableIngress", "Call", f"{MODIFY}: SecurityGroupRules[0] is unknown at synth time")]


def test_a_call_without_rules_changes_nothing() -> None:
    # SecurityGroupRules is required: without it the call fails at deploy time
    assert found(sdk_call("ec2", "modifySecurityGroupRules", {"GroupId": SG})) == []


def test_rules_of_a_call_that_names_no_group_are_not_read() -> None:
    call = sdk_call("ec2", "modifySecurityGroupRules", {"SecurityGroupRules": [{"SecurityGroupRule": {**SSH, "CidrIpv4": "0.0.0.0/0"}}, "x"]})
    assert found(call) == [("MalformedIngress", "Call", f"{MODIFY} names no GroupId or GroupName")]


# --- modifyInstanceAttribute / modifyNetworkInterfaceAttribute ----------------------------------------


UNITED = ("(security groups High and Low on one network interface) allows tcp/22 (SSH) from the whole IPv4 internet via 0.0.0.0/1, 128.0.0.0/1 "
          "(rules High.SecurityGroupIngress[0]; Low.SecurityGroupIngress[0]); no group alone does, but EC2 unites the rules of the groups on an interface")


@pytest.mark.parametrize(("action", "target", "value", "kind", "name"), [
    ("modifyInstanceAttribute", "InstanceId", "i-0123456789abcdef0", "instance", "i-0123456789abcdef0"),
    ("ModifyInstanceAttributeCommand", "InstanceId", {"Token": {"Fn::ImportValue": "web-instance"}}, "instance", "Call (InstanceId)"),
    ("modifyNetworkInterfaceAttribute", "NetworkInterfaceId", "eni-0123456789abcdef0", "network interface", "eni-0123456789abcdef0"),
    ("ModifyNetworkInterfaceAttributeCommand", "NetworkInterfaceId", {"Token": {"Fn::ImportValue": "web-eni"}}, "network interface",
     "Call (NetworkInterfaceId)"),
])
def test_groups_put_on_an_instance_or_interface_sit_together_on_it(action: str, target: str, value: object, kind: str, name: str) -> None:
    resources = {**halves(), **sdk_call("EC2", action, {target: value, "Groups": [{"Token": {"Ref": "Low"}}, {"Token": {"Ref": "High"}}]})}
    assert ("WorldOpenAdminPort", "Call", f"{kind} {name} {UNITED}") in found(resources)
    [attachment] = read(resources).attachments
    assert (attachment.kind, attachment.name, attachment.groups, attachment.unresolved, attachment.key) == (
        kind, name, ("S:Low", "S:High"), (), "S:Call#Create")


def test_an_interface_named_two_ways_is_named_by_the_call() -> None:
    resources = {**halves(), **sdk_call("EC2", "modifyInstanceAttribute", {
        "InstanceId": {"Token": {"Fn::If": ["Blue", "i-0123456789abcdef0", "i-0fedcba9876543210"]}}, "Groups": [{"Token": {"Ref": "Low"}}, SG, "web"]},
        field="Update")}
    [attachment] = read(resources).attachments
    assert (attachment.kind, attachment.name, attachment.groups, attachment.key) == ("instance", "Call (InstanceId)", ("S:Low", f"id:{SG}", "id:web"), "S:Call#Update")


def test_literal_group_ids_put_together_unite_the_rules_written_for_them() -> None:
    resources = {"A": ingress(SG, {**SSH, "CidrIp": "0.0.0.0/1"}), "B": ingress(OTHER_SG, {**SSH, "CidrIp": "128.0.0.0/1"}),
                 **sdk_call("EC2", "modifyNetworkInterfaceAttribute", {"NetworkInterfaceId": "eni-0123456789abcdef0", "Groups": [SG, OTHER_SG]})}
    assert ("WorldOpenAdminPort", "Call") in [finding[:2] for finding in found(resources)]


# --- any other handler: what its role allows ----------------------------------------------------------


def statement_role(*statements: dict, **properties: object) -> dict:
    return {"Type": "AWS::IAM::Role", "Properties": {"Policies": [{"PolicyName": "handler", "PolicyDocument": {"Statement": list(statements)}}], **properties}}


def allow(action: object, field: str = "Action", effect: object = "Allow") -> dict:
    return {"Effect": effect, field: action, "Resource": "*"}


def handler_may(*statements: dict) -> list[tuple[str, str, str]]:
    return found(custom(Handler=function(), HandlerRole=statement_role(*statements)))


def unverifiable(why: str) -> list[tuple[str, str, str]]:
    return [("UnverifiableIngress", "Thing", MAY_OPEN + why)]


@pytest.mark.parametrize(("statement", "granting"), [
    (allow("ec2:AuthorizeSecurityGroupIngress"), "ec2:AuthorizeSecurityGroupIngress"),
    (allow(["s3:GetObject", "EC2:modifysecuritygrouprules"]), "ec2:ModifySecurityGroupRules"),
    (allow("ec2:Modify*Attribute"), "ec2:ModifyInstanceAttribute, ec2:ModifyNetworkInterfaceAttribute"),
    (allow("ec2:*"), GRANTING),
    (allow("*"), GRANTING),
    (allow({"Ref": "Action"}), GRANTING),
    (allow("ec2:AuthorizeSecurityGroupIngress", effect={"Ref": "Effect"}), "ec2:AuthorizeSecurityGroupIngress"),
    (allow(["ec2:AuthorizeSecurityGroupIngress", "ec2:ModifySecurityGroupRules"], "NotAction"),
     "ec2:ModifyInstanceAttribute, ec2:ModifyNetworkInterfaceAttribute"),
    (allow("s3:*", "NotAction"), GRANTING),
])
def test_a_statement_that_may_allow_a_granting_action_makes_the_handler_unverifiable(statement: dict, granting: str) -> None:
    assert handler_may(allow("s3:GetObject"), statement) == unverifiable(f"the role of its handler Handler allows {granting} (inline policy handler)")


@pytest.mark.parametrize("statement", [
    allow("ec2:*", effect="Deny"),
    allow(["ec2:Describe*", "ec2:RevokeSecurityGroupIngress"]),
    allow("*", "NotAction"),
    allow(["ec2:*", "lambda:*"], "NotAction"),
])
def test_a_statement_that_allows_no_granting_action_is_no_finding(statement: dict) -> None:
    assert handler_may(statement) == []


@pytest.mark.parametrize(("arns", "name"), [
    (["arn:aws:iam::aws:policy/AmazonEC2FullAccess"], "AmazonEC2FullAccess"),
    ([{"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":iam::aws:policy/job-function/NetworkAdministrator"]]}], "NetworkAdministrator"),
    ({"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/AdministratorAccess"}, "AdministratorAccess"),
])
def test_an_aws_managed_policy_that_allows_ec2_changes_makes_the_handler_unverifiable(arns: object, name: str) -> None:
    resources = custom(Handler=function(), HandlerRole=statement_role(allow("s3:GetObject"), ManagedPolicyArns=arns))
    assert found(resources) == unverifiable(f"the role of its handler Handler allows {GRANTING} (AWS managed policy {name})")


def test_aws_managed_policies_that_allow_no_ec2_change_are_no_finding() -> None:
    arns = ["arn:aws:iam::aws:policy/ReadOnlyAccess", "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"]
    assert found(custom(Handler=function(), HandlerRole=statement_role(allow("s3:GetObject"), ManagedPolicyArns=arns))) == []


def test_a_customer_managed_policy_is_read_from_the_template_or_unverifiable_when_outside_it() -> None:
    managed = {"Type": "AWS::IAM::ManagedPolicy", "Properties": {"PolicyDocument": {"Statement": [allow("ec2:AuthorizeSecurityGroupIngress")]}}}
    inside = custom(Handler=function(), Managed=managed, HandlerRole=statement_role(allow("s3:GetObject"), ManagedPolicyArns=[{"Ref": "Managed"}]))
    assert found(inside) == unverifiable("the role of its handler Handler allows ec2:AuthorizeSecurityGroupIngress (managed policy Managed)")
    harmless = custom(Handler=function(), Managed={"Type": "AWS::IAM::ManagedPolicy", "Properties": {"PolicyDocument": {"Statement": [allow("s3:*")]}}},
                      HandlerRole=statement_role(allow("s3:GetObject"), ManagedPolicyArns=[{"Ref": "Managed"}]))
    assert found(harmless) == []
    outside = custom(Handler=function(), HandlerRole=statement_role(ManagedPolicyArns=[
        "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole", "arn:aws:iam::123456789012:policy/ops"]))
    assert found(outside) == unverifiable(f'the role of its handler Handler allows {GRANTING} (managed policy "arn:aws:iam::123456789012:policy/ops", outside the input)')
    imported = custom(Handler=function(), HandlerRole=statement_role(ManagedPolicyArns=[{"Fn::ImportValue": "ops-policy"}]))
    assert found(imported) == unverifiable(f"the role of its handler Handler allows {GRANTING} "
                                           "(managed policy Fn::ImportValue 'ops-policy' comes from a stack outside this input, outside the input)")
    conditional = custom(Handler=function(), HandlerRole=statement_role(ManagedPolicyArns=[{"Fn::If": ["Never", "arn:aws:iam::123456789012:policy/ops", {"Ref": "AWS::NoValue"}]}]))
    assert found(conditional, Conditions={"Never": {"Fn::Equals": ["a", "b"]}}) == []


@pytest.mark.parametrize(("kind", "attached"), [
    ("AWS::IAM::Policy", {"PolicyName": "p", "Roles": [{"Ref": "HandlerRole"}]}),
    ("AWS::IAM::ManagedPolicy", {"Roles": [{"Ref": "HandlerRole"}]}),
    ("AWS::IAM::RolePolicy", {"PolicyName": "p", "RoleName": {"Ref": "HandlerRole"}}),
])
def test_a_policy_resource_attached_to_the_role_counts_and_one_attached_elsewhere_does_not(kind: str, attached: dict) -> None:
    document = {"PolicyDocument": {"Statement": [allow("ec2:ModifySecurityGroupRules")]}}
    attached_here = custom(Handler=function(), HandlerRole=statement_role(allow("s3:GetObject")), Attached={"Type": kind, "Properties": {**attached, **document}})
    assert found(attached_here) == unverifiable("the role of its handler Handler allows ec2:ModifySecurityGroupRules (policy Attached)")
    elsewhere = json.loads(json.dumps(attached).replace("HandlerRole", "OtherRole"))
    attached_there = custom(Handler=function(), HandlerRole=statement_role(allow("s3:GetObject")), OtherRole=statement_role(),
                            Attached={"Type": kind, "Properties": {**elsewhere, **document}}, Nothing="not a resource",
                            Broken={"Type": kind, "Properties": ["not properties"]})
    assert found(attached_there) == []


def test_a_policy_document_or_statement_unknown_at_synth_may_allow_anything() -> None:
    # Fixed: a document or statement written with an intrinsic (Fn::If, Fn::ImportValue) was read as no statement (fail open).
    resources = custom(Handler=function(), HandlerRole=statement_role(allow("s3:GetObject")),
                       Attached={"Type": "AWS::IAM::Policy", "Properties": {"PolicyName": "p", "Roles": [{"Ref": "HandlerRole"}],
                                                                             "PolicyDocument": {"Fn::ImportValue": "document"}}})
    assert found(resources) == unverifiable(f"the role of its handler Handler allows {GRANTING} (policy Attached)")
    chosen = custom(Handler=function(), HandlerRole=statement_role({"Fn::If": ["Wide", allow("ec2:*"), allow("s3:GetObject")]}))
    assert found(chosen, Conditions={"Wide": {"Fn::Equals": [{"Ref": "AWS::Region"}, "us-east-1"]}}) == unverifiable(
        f"the role of its handler Handler allows {GRANTING} (inline policy handler)")
    inline = custom(Handler=function(), HandlerRole={"Type": "AWS::IAM::Role", "Properties": {"Policies": ["not a policy"]}})
    assert found(inline) == unverifiable(f"the role of its handler Handler allows {GRANTING} (inline policy ?)")


# --- any other handler: where it is ------------------------------------------------------------------


def test_a_handler_or_role_outside_the_input_is_unverifiable_saying_which() -> None:
    assert found(custom(token="arn:aws:lambda:us-east-1:123456789012:function:ops")) == unverifiable(
        'its handler "arn:aws:lambda:us-east-1:123456789012:function:ops" is outside the input')
    assert found(custom(token={"Ref": "Topic"}, Topic={"Type": "AWS::SNS::Topic"})) == unverifiable("its handler Topic is outside the input")
    assert found(custom(token={"Fn::GetAtt": ["Broken", "Arn"]}, Broken="not a resource")) == [("UnverifiableIngress", "Thing", MAY_OPEN + "Fn::GetAtt of 'Broken', which is not a resource of this template")]
    assert found(custom(token={"Ref": "AWS::NoValue"})) == unverifiable("it has no ServiceToken")
    assert found({"Thing": {"Type": "Custom::Thing", "Properties": {}}}) == unverifiable("it has no ServiceToken")
    assert found(custom(Handler=function(role="arn:aws:iam::123456789012:role/ops"))) == unverifiable(
        "the role of its handler Handler is outside the input")
    assert found(custom(Handler={"Type": "AWS::Lambda::Function"})) == unverifiable("the role of its handler Handler is outside the input")


def provider(invoked: object, **resources: object) -> dict:
    """A provider framework (CDK's custom_resources.Provider): its function may invoke ``invoked``; Inner may authorize."""
    return custom(Handler=function(logical_id_role="FrameworkRole"),
                  FrameworkRole=statement_role(allow("lambda:InvokeFunction") | {"Resource": invoked}),
                  Inner=function(logical_id_role="InnerRole"), InnerRole=statement_role(allow("ec2:AuthorizeSecurityGroupIngress")), **resources)


@pytest.mark.parametrize("invoked", [
    {"Fn::GetAtt": ["Inner", "Arn"]},
    {"Ref": "Inner"},
    [{"Fn::Join": ["", [{"Fn::GetAtt": ["Inner", "Arn"]}, ":*"]]}],
    [{"Fn::GetAtt": ["Inner", "Arn"]}, {"Fn::GetAtt": ["Handler", "Arn"]}],
])
def test_the_functions_a_provider_framework_invokes_are_its_handlers_too(invoked: object) -> None:
    assert found(provider(invoked)) == unverifiable("the role of its handler Inner allows ec2:AuthorizeSecurityGroupIngress (inline policy handler)")


@pytest.mark.parametrize(("invoked", "shown"), [
    ("*", '"*"'),
    ({"Fn::GetAtt": ["Topic", "Arn"]}, '{"Fn::GetAtt": ["Topic", "Arn"]}'),
    ({"Fn::GetAtt": ["Broken", "Arn"]}, '{"Fn::GetAtt": ["Broken", "Arn"]}'),
])
def test_a_provider_that_may_invoke_a_function_outside_the_input_is_unverifiable(invoked: object, shown: str) -> None:
    assert found(provider(invoked, Topic={"Type": "AWS::SNS::Topic"}, Broken="not a resource")) == unverifiable(f"its handler may invoke {shown}, outside the input")


def test_a_provider_that_invokes_only_itself_is_read_once() -> None:
    assert found(provider({"Fn::GetAtt": ["Handler", "Arn"]})) == []


def test_an_aws_custom_resource_is_read_by_its_calls_not_by_its_handler_role() -> None:
    resources = sdk_call("@aws-sdk/client-ssm", "GetParameter", {"Name": "/admin/cidr"})
    resources["HandlerRole"] = statement_role(allow("*"))
    assert found(resources) == []


def test_the_role_helper_of_the_case_matrix_grants_what_it_lists() -> None:
    assert found(custom(Handler=function(), HandlerRole=role("ec2:ModifyNetworkInterfaceAttribute"))) == unverifiable(
        "the role of its handler Handler allows ec2:ModifyNetworkInterfaceAttribute (inline policy handler)")
