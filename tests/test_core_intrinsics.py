"""Every value an intrinsic may deploy as (RULES.md, *How templates are read*).

GIVEN an SSH rule whose ``CidrIp`` is an intrinsic function (over parameters, mappings, conditions,
      resources and other stacks' outputs)
WHEN  the core reads the template (``read_inventory``)
THEN  the rule's sources are every CIDR the function may deploy as, and what cannot be known at synth
      time is an unknown source that says why (or a malformed-template finding where CloudFormation refuses it).
"""

from __future__ import annotations

import pytest

from constructs_lib.policy import Template, read_inventory

VPC = {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.1.0.0/16"}}


def deploys_as(cidr: object, *, resources: dict | None = None, outputs: dict | None = None, others: tuple = (), **sections: object) -> list[str]:
    """The sources of ``{tcp 22, CidrIp: cidr}`` (CIDRs, ``? reason`` for unknown ones) and the findings made while reading."""
    rule = {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIp": cidr}
    body = {"Resources": {"Sg": {"Type": "AWS::EC2::SecurityGroup", "Properties": {"SecurityGroupIngress": [rule]}}, **(resources or {})},
            **sections}
    if outputs:
        body["Outputs"] = outputs
    inventory = read_inventory([Template("S", "S.json", body), *others])
    sources = [p.source.label if p.source.kind == "cidr" else f"? {p.source.label}" for p in inventory.permissions]
    return sources + [f"{f.rule_id} {f.location.logical_id}: {f.message}" for f in inventory.findings]


def unknown(reason: str) -> list[str]:
    return [f"? CidrIp unknown at synth time: {reason}"]


# --- parameters and references ------------------------------------------------------------------------


def test_a_parameter_deploys_as_its_default_and_every_allowed_value() -> None:
    parameters = {"Cidr": {"Type": "String", "Default": "10.0.0.0/8", "AllowedValues": ["0.0.0.0/0", "10.0.0.0/8"]},
                  "Free": {"Type": "String", "Default": "8.8.8.0/24"}, "Only": {"AllowedValues": ["1.0.0.0/8"]},
                  "None": {"Type": "String"}, "Ssm": {"Type": "AWS::SSM::Parameter::Value<String>", "Default": "/admin/cidr"}}
    assert deploys_as({"Ref": "Cidr"}, Parameters=parameters) == ["10.0.0.0/8", "0.0.0.0/0"]
    assert deploys_as({"Ref": "Free"}, Parameters=parameters) == ["8.8.8.0/24"]
    assert deploys_as({"Ref": "Only"}, Parameters=parameters) == ["1.0.0.0/8"]
    assert deploys_as({"Ref": "None"}, Parameters=parameters) == unknown("parameter None has no Default and no AllowedValues")
    assert deploys_as({"Ref": "Ssm"}, Parameters=parameters) == unknown("parameter Ssm is read from SSM Parameter Store at deploy time")


@pytest.mark.parametrize(("kind", "default"), [("CommaDelimitedList", "10.0.0.0/8,0.0.0.0/0"),
                                               ("List<String>", "10.0.0.0/8,0.0.0.0/0"), ("CommaDelimitedList", ["10.0.0.0/8", "0.0.0.0/0"])])
def test_list_parameters_split_on_commas(kind: str, default: object) -> None:
    assert deploys_as({"Fn::Select": [1, {"Ref": "Nets"}]}, Parameters={"Nets": {"Type": kind, "Default": default}}) == ["0.0.0.0/0"]


def test_references_that_are_not_values_at_synth_time() -> None:
    assert deploys_as({"Ref": "AWS::Region"}) == unknown("pseudo parameter AWS::Region is known only at deploy time")
    assert deploys_as({"Ref": "Nope"}) == unknown("Ref to 'Nope', which is neither a parameter nor a resource of this template")
    assert deploys_as({"Ref": ["Nope"]}) == unknown('Ref to ["Nope"] is malformed')
    assert deploys_as({"Ref": "Vpc"}, resources={"Vpc": VPC}) == ["? CidrIp is the deploy-time value of resource Vpc"]
    assert deploys_as({"Fn::Base64": "x"}) == unknown("Fn::Base64 is evaluated only at deploy time")
    assert deploys_as({"Ref": "AWS::NoValue"}) == [
        "MalformedIngress Sg: Sg.SecurityGroupIngress[0]: it names no source (CidrIp, CidrIpv6, SourcePrefixListId or SourceSecurityGroupId/Name)"]


def test_a_vpc_s_cidr_block_is_known_and_other_attributes_are_not() -> None:
    resources = {"Vpc": VPC, "Ipam": {"Type": "AWS::EC2::VPC", "Properties": {}}, "Sub": {"Type": "AWS::EC2::Subnet"}}
    assert deploys_as({"Fn::GetAtt": ["Vpc", "CidrBlock"]}, resources=resources) == ["10.1.0.0/16"]
    assert deploys_as({"Fn::GetAtt": "Vpc.CidrBlock"}, resources=resources) == ["10.1.0.0/16"]
    assert deploys_as({"Fn::GetAtt": ["Ipam", "CidrBlock"]}, resources=resources) == unknown("VPC CIDR from IPAM")
    assert deploys_as({"Fn::GetAtt": ["Sub", "CidrBlock"]}, resources=resources) == ["? CidrIp is the deploy-time value of resource Sub"]
    assert deploys_as({"Fn::GetAtt": ["Gone", "CidrBlock"]}) == unknown("Fn::GetAtt of 'Gone', which is not a resource of this template")
    assert deploys_as({"Fn::GetAtt": ["Vpc"]}, resources=resources) == unknown('Fn::GetAtt ["Vpc"] is malformed')
    assert deploys_as({"Fn::GetAtt": "Vpc"}, resources=resources) == unknown('Fn::GetAtt "Vpc" is malformed')


# --- functions ------------------------------------------------------------------------------------------


def test_join_select_split_and_sub_build_the_values() -> None:
    parameters = {"Bits": {"Type": "Number", "Default": 8, "AllowedValues": [8, 16]}}
    assert deploys_as({"Fn::Join": ["/", ["10.0.0.0", {"Ref": "Bits"}]]}, Parameters=parameters) == ["10.0.0.0/8", "10.0.0.0/16"]
    assert deploys_as({"Fn::Join": ["", ["10.0.0.0/", 8, {"Ref": "AWS::NoValue"}]]}) == ["10.0.0.0/8"]
    assert deploys_as({"Fn::Select": ["1", ["10.0.0.0/8", "0.0.0.0/0"]]}) == ["0.0.0.0/0"]
    assert deploys_as({"Fn::Select": [0, {"Fn::Split": ["|", "8.8.8.0/24|x"]}]}) == ["8.8.8.0/24"]
    assert deploys_as({"Fn::Sub": "${Net}/${Bits}", "x": 1}) == [
        "MalformedIngress Sg: Sg.SecurityGroupIngress[0]: CidrIp {\"Fn::Sub\": \"${Net}/${Bits}\", \"x\": 1} is not a CIDR string"]
    assert deploys_as({"Fn::Sub": ["${Net}/${Bits}", {"Net": "10.0.0.0"}]}, Parameters=parameters) == ["10.0.0.0/8", "10.0.0.0/16"]
    assert deploys_as({"Fn::Sub": "${Vpc.CidrBlock}"}, resources={"Vpc": VPC}) == ["10.1.0.0/16"]
    assert deploys_as({"Fn::Sub": "10.0.0.0/8${!Literal}"}) == [
        "MalformedIngress Sg: Sg.SecurityGroupIngress[0]: CidrIp '10.0.0.0/8${Literal}' is not a CIDR block of the form address/length "
        "(e.g. 203.0.113.10/32)"]
    assert deploys_as({"Fn::Sub": "10.0.0.0/8${unclosed"}) == [
        "MalformedIngress Sg: Sg.SecurityGroupIngress[0]: CidrIp '10.0.0.0/8${unclosed' is not a CIDR block of the form address/length "
        "(e.g. 203.0.113.10/32)"]


@pytest.mark.parametrize(("cidr", "reason"), [
    ({"Fn::Join": ["/"]}, 'Fn::Join ["/"] is malformed'),
    ({"Fn::Join": ["", ["10.0.0.0/", {"Ref": "Vpc"}]]}, "the physical id of resource Vpc is only known at deploy time"),
    ({"Fn::Join": ["", ["10.0.0.0/", {"a": 1}]]}, '{"a": 1} is not a string'),
    ({"Fn::Join": ["", ["10.0.0.0/", True]]}, "true is not a string"),
    ({"Fn::Join": ["", ["10.0.0.0/", None]]}, "null is not a string"),
    ({"Fn::Join": ["", ["10.0.0.0/", ["8"]]]}, '["8"] is not a string'),
    ({"Fn::Join": ["", "10.0.0.0/8"]}, '"10.0.0.0/8" is not a list'),
    ({"Fn::Join": ["", {"Fn::GetAZs": ""}]}, "Fn::GetAZs is evaluated only at deploy time"),
    ({"Fn::Select": [5, ["10.0.0.0/8"]]}, "Fn::Select index 5 is outside the list"),
    ({"Fn::Select": [-1, ["10.0.0.0/8"]]}, "Fn::Select index -1 is outside the list"),
    ({"Fn::Select": [1]}, "Fn::Select [1] is malformed"),
    ({"Fn::Select": [{"Ref": "AWS::AccountId"}, ["10.0.0.0/8"]]}, "pseudo parameter AWS::AccountId is known only at deploy time"),
    ({"Fn::Select": [0, {"Fn::Split": ["", "10.0.0.0/8"]}]}, 'Fn::Split ["", "10.0.0.0/8"] is malformed'),
    ({"Fn::Select": [0, {"Fn::Split": [",", {"Ref": "AWS::Region"}]}]}, "pseudo parameter AWS::Region is known only at deploy time"),
    ({"Fn::Sub": 5}, "Fn::Sub 5 is malformed"),
    ({"Fn::Sub": "${AWS::Region}/8"}, "pseudo parameter AWS::Region is known only at deploy time"),
    ({"Fn::If": ["Flag", "10.0.0.0/8"]}, 'Fn::If ["Flag", "10.0.0.0/8"] is malformed'),
    ({"Fn::Cidr": ["10.0.0.0/16", 4]}, 'Fn::Cidr ["10.0.0.0/16", 4] is malformed'),
    ({"Fn::Select": [0, {"Fn::Cidr": ["10.0.0.0/16", 257, 8]}]}, "Fn::Cidr [\"10.0.0.0/16\", \"257\", \"8\"] is invalid: cannot cut /24 subnets from 10.0.0.0/16"),
    ({"Fn::Select": [0, {"Fn::Cidr": ["10.0.0.0/16", 0, 8]}]}, "Fn::Cidr [\"10.0.0.0/16\", \"0\", \"8\"] is invalid: cannot cut /24 subnets from 10.0.0.0/16"),
    ({"Fn::Select": [0, {"Fn::Cidr": ["10.0.0.0/16", 1, 17]}]}, "Fn::Cidr [\"10.0.0.0/16\", \"1\", \"17\"] is invalid: cannot cut /15 subnets from 10.0.0.0/16"),
    ({"Fn::Select": [0, {"Fn::Cidr": ["10.0.0.0/16", 1, 33]}]}, "Fn::Cidr [\"10.0.0.0/16\", \"1\", \"33\"] is invalid: cannot cut /-1 subnets from 10.0.0.0/16"),
    ({"Fn::Select": [0, {"Fn::Cidr": ["10.0.0.0/16", "x", 8]}]},
     "Fn::Cidr [\"10.0.0.0/16\", \"x\", \"8\"] is invalid: count and host bits must be whole numbers"),
    ({"Fn::Select": [0, {"Fn::Cidr": ["10.0.0.0/16", 1, "-8"]}]},
     "Fn::Cidr [\"10.0.0.0/16\", \"1\", \"-8\"] is invalid: count and host bits must be whole numbers"),
    ({"Fn::Select": [0, {"Fn::Cidr": ["10.0.0.1/16", 1, 8]}]},
     "Fn::Cidr [\"10.0.0.1/16\", \"1\", \"8\"] is invalid: '10.0.0.1/16' has host bits set: EC2 keeps only its network part, "
     "10.0.0.0/16, every address of it; write 10.0.0.0/16 for the block, or the address with /32 for one host"),
    ({"Fn::FindInMap": ["Nets", "Admin"]}, 'Fn::FindInMap ["Nets", "Admin"] is malformed'),
    ({"Fn::FindInMap": ["Nets", "Office", "Cidr"]}, "Fn::FindInMap key 'Office' is not in the mapping"),
    ({"Fn::FindInMap": ["Empty", {"Ref": "AWS::Region"}, "Cidr"]}, "Fn::FindInMap found no value"),
    ({"Fn::ImportValue": "AdminCidr"}, "Fn::ImportValue 'AdminCidr' comes from a stack outside this input"),
    ({"Fn::ImportValue": {"Ref": "AWS::StackName"}}, "pseudo parameter AWS::StackName is known only at deploy time"),
    ({"Fn::GetStackOutput": {"StackName": "net", "OutputName": "Cidr"}},
     "Fn::GetStackOutput of output 'Cidr' of stack 'net', which is not part of this input"),
    ({"Fn::GetStackOutput": {"StackName": "net"}}, 'Fn::GetStackOutput {"StackName": "net"} is malformed'),
    ({"Fn::GetStackOutput": ["StackName", "OutputName"]}, 'Fn::GetStackOutput ["StackName", "OutputName"] is malformed'),
    ({"Fn::GetStackOutput": {"StackName": {"Ref": "AWS::Region"}, "OutputName": "Cidr"}}, "pseudo parameter AWS::Region is known only at deploy time"),
    ({"Fn::GetStackOutput": {"StackName": "net", "OutputName": {"Ref": "AWS::Region"}}}, "pseudo parameter AWS::Region is known only at deploy time"),
    ({"Fn::Join": ["", [{"Fn::FindInMap": ["Bits", {"Ref": "AWS::Region"}, "Bit"]}] * 7]},  # a key known at deploy time: 2^7 values
     "more than 64 combinations of conditional values"),
])
def test_what_cannot_be_evaluated_says_why(cidr: object, reason: str) -> None:
    mappings = {"Nets": {"Admin": {"Cidr": "10.0.0.0/8"}}, "Empty": {}, "Bits": {"a": {"Bit": "1"}, "b": {"Bit": "2"}}}
    conditions = {"Flag": {"Fn::Equals": [{"Ref": "AWS::Region"}, "eu-west-1"]}}
    assert deploys_as(cidr, resources={"Vpc": VPC}, Mappings=mappings, Conditions=conditions) == unknown(reason)


def test_cidr_cuts_subnets_from_a_block() -> None:
    subnets = {"Fn::Cidr": ["10.0.0.0/16", 3, 8]}
    assert [deploys_as({"Fn::Select": [index, subnets]}) for index in range(3)] == [["10.0.0.0/24"], ["10.0.1.0/24"], ["10.0.2.0/24"]]
    assert deploys_as({"Fn::Select": [3, {"Fn::Cidr": ["10.0.0.0/30", 8, 0]}]}) == ["10.0.0.3/32"]
    assert deploys_as({"Fn::Select": [4, {"Fn::Cidr": ["10.0.0.0/30", 8, 0]}]}) == unknown("Fn::Select index 4 is outside the list")
    assert deploys_as({"Fn::Select": [0, {"Fn::Cidr": ["10.0.0.0/16", 1, 16]}]}) == ["10.0.0.0/16"]


def test_find_in_map_reads_every_entry_a_key_unknown_at_synth_may_pick() -> None:
    mappings = {"Nets": {"eu-west-1": {"Cidr": "10.0.0.0/8"}, "us-east-1": {"Cidr": "0.0.0.0/0"}}}
    assert deploys_as({"Fn::FindInMap": ["Nets", {"Ref": "AWS::Region"}, "Cidr"]}, Mappings=mappings) == ["10.0.0.0/8", "0.0.0.0/0"]
    assert deploys_as({"Fn::FindInMap": ["Nets", "us-east-1", "Cidr"]}, Mappings=mappings) == ["0.0.0.0/0"]
    with_default = {"Fn::FindInMap": ["Nets", "ap-south-1", "Cidr", {"DefaultValue": "8.8.8.0/24"}]}
    assert deploys_as(with_default, Mappings=mappings) == ["8.8.8.0/24"]
    assert deploys_as({"Fn::FindInMap": ["Nets", "eu-west-1", "Cidr", {"DefaultValue": "8.8.8.0/24"}]}, Mappings=mappings) == ["10.0.0.0/8"]


# --- conditions -------------------------------------------------------------------------------------------


def test_if_takes_each_branch_its_condition_may_take() -> None:
    parameters = {"Env": {"Type": "String", "Default": "dev", "AllowedValues": ["dev", "prod"]},
                  "Dev": {"Type": "String", "Default": "dev", "AllowedValues": ["dev"]}}
    conditions = {"IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]}, "AlwaysDev": {"Fn::Equals": ["dev", {"Ref": "Dev"}]},
                  "NeverDev": {"Fn::Not": [{"Condition": "AlwaysDev"}]},
                  "Either": {"Fn::Or": [{"Condition": "IsProd"}, {"Condition": "NeverDev"}]},
                  "Both": {"Fn::And": [{"Condition": "IsProd"}, {"Condition": "AlwaysDev"}]},
                  "ListsEqual": {"Fn::Equals": [["a", "b"], ["a", "b"]]}, "ListsDiffer": {"Fn::Equals": [["a"], ["a", "b"]]}}

    def branches(condition: str) -> list[str]:
        return deploys_as({"Fn::If": [condition, "1.0.0.0/8", "2.0.0.0/8"]}, Parameters=parameters, Conditions=conditions)

    assert branches("IsProd") == ["1.0.0.0/8", "2.0.0.0/8"]
    assert branches("AlwaysDev") == ["1.0.0.0/8"]
    assert branches("NeverDev") == ["2.0.0.0/8"]
    assert branches("Either") == ["1.0.0.0/8", "2.0.0.0/8"]
    assert branches("Both") == ["1.0.0.0/8", "2.0.0.0/8"]
    assert branches("ListsEqual") == ["1.0.0.0/8"]
    assert branches("ListsDiffer") == ["2.0.0.0/8"]


def test_parameters_in_one_condition_are_enumerated_together() -> None:
    parameters = {"Env": {"Type": "String", "Default": "dev", "AllowedValues": ["dev", "test", "prod"]},
                  "Free": {"Type": "String", "Default": "x"}}
    conditions = {"IsDev": {"Fn::Equals": [{"Ref": "Env"}, "dev"]}, "IsTest": {"Fn::Equals": [{"Ref": "Env"}, "test"]},
                  "DevAndTest": {"Fn::And": [{"Condition": "IsDev"}, {"Condition": "IsTest"}]},
                  "DevOrFree": {"Fn::Or": [{"Condition": "IsDev"}, {"Fn::Equals": [{"Ref": "Free"}, "y"]}]},
                  "NotDevAndFree": {"Fn::And": [{"Fn::Not": [{"Condition": "IsDev"}]}, {"Fn::Equals": [{"Ref": "Free"}, "y"]}]}}

    def branches(condition: str) -> list[str]:
        return deploys_as({"Fn::If": [condition, "1.0.0.0/8", "2.0.0.0/8"]}, Parameters=parameters, Conditions=conditions)

    assert branches("DevAndTest") == ["2.0.0.0/8"]  # Env is never dev and test at once
    assert branches("DevOrFree") == ["1.0.0.0/8", "2.0.0.0/8"]
    assert branches("NotDevAndFree") == ["1.0.0.0/8", "2.0.0.0/8"]


def test_many_allowed_values_are_not_enumerated_and_the_condition_may_hold_either_way() -> None:
    values = [str(n) for n in range(9)]
    parameters = {name: {"Type": "String", "Default": "0", "AllowedValues": values} for name in ("A", "B")}
    conditions = {"Same": {"Fn::And": [{"Fn::Equals": [{"Ref": "A"}, "9"]}, {"Fn::Equals": [{"Ref": "B"}, "0"]}]},
                  "Wide": {"Fn::Equals": [{"Fn::Join": ["", [{"Ref": "A"}, {"Ref": "B"}]]}, "00"]}}
    assert deploys_as({"Fn::If": ["Same", "1.0.0.0/8", "2.0.0.0/8"]}, Parameters=parameters, Conditions=conditions) == ["2.0.0.0/8"]
    assert deploys_as({"Fn::If": ["Wide", "1.0.0.0/8", "2.0.0.0/8"]}, Parameters=parameters, Conditions=conditions) == [
        "1.0.0.0/8", "2.0.0.0/8"]


@pytest.mark.parametrize(("conditions", "problems"), [
    ({}, ['Fn::If: condition "Nope" is not defined in Conditions']),
    ({"Nope": "yes"}, ['Conditions.Nope: "yes" is not a condition function']),
    ({"Nope": {"Fn::Not": [{"Condition": "A"}, {"Condition": "A"}]}, "A": {"Fn::Equals": [1, 1]}},
     ['Conditions.Nope: Fn::Not [{"Condition": "A"}, {"Condition": "A"}] is not a valid condition function']),
    ({"Nope": {"Fn::And": [{"Fn::Equals": [1, 1]}]}}, ['Conditions.Nope: Fn::And [{"Fn::Equals": [1, 1]}] is not a valid condition function']),
    ({"Nope": {"Fn::Equals": [1]}}, ['Conditions.Nope: Fn::Equals [1] is not a valid condition function']),
    ({"Nope": {"Fn::Not": [{"Fn::Or": [{"Condition": "Gone"}, {"Condition": "Gone"}]}]}},
     ['Conditions.Nope.Fn::Not.Fn::Or[0]: condition "Gone" is not defined in Conditions',
      'Conditions.Nope.Fn::Not.Fn::Or[1]: condition "Gone" is not defined in Conditions']),
])
def test_a_condition_cloudformation_refuses_is_malformed_and_may_hold_either_way(conditions: dict, problems: list[str]) -> None:
    # the finding is anchored at the place (outside Resources, the place is the anchor), the message says what is wrong
    assert deploys_as({"Fn::If": ["Nope", "1.0.0.0/8", "2.0.0.0/8"]}, Conditions=conditions) == [
        "1.0.0.0/8", "2.0.0.0/8", *(f"MalformedTemplate {problem}" for problem in problems)]


def test_a_condition_that_refers_to_itself_decides_nothing() -> None:
    conditions = {"Loop": {"Fn::Not": [{"Condition": "Loop"}]}, "Fixed": {"Fn::And": [{"Condition": "Loop"}, {"Fn::Equals": ["a", "b"]}]}}
    assert deploys_as({"Fn::If": ["Loop", "1.0.0.0/8", "2.0.0.0/8"]}, Conditions=conditions) == ["1.0.0.0/8", "2.0.0.0/8"]
    assert deploys_as({"Fn::If": ["Fixed", "1.0.0.0/8", "2.0.0.0/8"]}, Conditions=conditions) == ["2.0.0.0/8"]


# --- other stacks ---------------------------------------------------------------------------------------


def test_imports_and_stack_outputs_are_followed_into_the_templates_that_export_them() -> None:
    network = {"Parameters": {"Office": {"Type": "String", "Default": "8.8.8.0/24"}}, "Resources": {},
               "Outputs": {"Broken": "x", "Office": {"Value": {"Ref": "Office"}, "Export": {"Name": {"Fn::Sub": "${AWS::NoValue}net-office"}}},
                           "World": {"Value": "0.0.0.0/0", "Export": {"Name": "net-world"}},
                           "Hidden": {"Value": "1.0.0.0/8", "Export": "not-a-mapping"}, "NoValue": {"Export": {"Name": "y"}}}}
    others = (Template("Network", "n.json", network, stack_name="prod-network"),)
    assert deploys_as({"Fn::ImportValue": "net-world"}, others=others) == ["0.0.0.0/0"]
    assert deploys_as({"Fn::GetStackOutput": {"StackName": "prod-network", "OutputName": "Office"}}, others=others) == ["8.8.8.0/24"]
    assert deploys_as({"Fn::ImportValue": "not-a-mapping"}, others=others) == unknown(
        "Fn::ImportValue 'not-a-mapping' comes from a stack outside this input")
    assert deploys_as({"Fn::ImportValue": "y"}, others=others) == unknown("Fn::ImportValue 'y' comes from a stack outside this input")
    unnamed = (Template("Network", "n.json", network),)
    assert deploys_as({"Fn::GetStackOutput": {"StackName": "Network", "OutputName": "World"}}, others=unnamed) == ["0.0.0.0/0"]


@pytest.mark.parametrize(("cidr", "reason"), [
    ({"Fn::If": [b"x"]}, "Fn::If [\"b'x'\"] is malformed"),
    ({"Fn::Join": [b"x"]}, "Fn::Join [\"b'x'\"] is malformed"),
    ({"Fn::Select": [b"x"]}, "Fn::Select [\"b'x'\"] is malformed"),
    ({"Fn::Select": [0, {"Fn::Split": [b"x"]}]}, "Fn::Split [\"b'x'\"] is malformed"),
    ({"Fn::FindInMap": [b"x"]}, "Fn::FindInMap [\"b'x'\"] is malformed"),
    ({"Fn::Sub": [b"x"]}, "Fn::Sub [\"b'x'\"] is malformed"),
    ({"Fn::Select": [0, {"Fn::Cidr": [b"x"]}]}, "Fn::Cidr [\"b'x'\"] is malformed"),
    ({"Fn::GetStackOutput": {"StackName": b"x"}}, "Fn::GetStackOutput {\"StackName\": \"b'x'\"} is malformed"),
    ({"Fn::GetAtt": [b"x"]}, "Fn::GetAtt [\"b'x'\"] is malformed"),
    ({"Ref": [b"x"]}, "Ref to [\"b'x'\"] is malformed"),
    ({"Fn::Join": ["", [{"a": b"1"}]]}, "{\"a\": \"b'1'\"} is not a string"),
    ({"Fn::Join": ["", b"x"]}, "\"b'x'\" is not a list"),
    ({"Fn::Sub": ["${X}/8", {"X": {"Ref": "AWS::NoValue"}}]}, '{"Ref": "AWS::NoValue"} is not a string'),
])
def test_a_value_json_cannot_write_is_still_named_in_the_reason(cidr: object, reason: str) -> None:
    # check_templates takes Python bodies too: the reasons never depend on the value being JSON
    assert deploys_as(cidr) == unknown(reason)


def test_sub_names_parameters_resources_and_attributes() -> None:
    assert deploys_as({"Fn::Sub": "${Vpc}/8"}, resources={"Vpc": VPC}) == unknown("the physical id of resource Vpc is only known at deploy time")
    assert deploys_as({"Fn::Sub": "${Vpc.A.B}/8"}, resources={"Vpc": VPC}) == unknown(
        "the physical id of resource Vpc is only known at deploy time")
    assert deploys_as({"Fn::Sub": "${}/8"}) == unknown("Ref to '', which is neither a parameter nor a resource of this template")


def test_known_candidates_are_kept_beside_unknown_ones() -> None:
    conditions = {"Flag": {"Fn::Equals": [{"Ref": "AWS::Region"}, "x"]}}
    parameters = {"Parts": {"Type": "CommaDelimitedList"}}
    joined = {"Fn::Join": ["", {"Fn::If": ["Flag", {"Ref": "Parts"}, ["10.0.0.0/", "8"]]}]}
    assert deploys_as(joined, Conditions=conditions, Parameters=parameters) == [
        "? CidrIp unknown at synth time: parameter Parts has no Default and no AllowedValues", "10.0.0.0/8"]
    mappings = {"A": {"k": {"c": "1.0.0.0/8"}}, "B": {"z": {}}, "C": {"k": {"c": "2.0.0.0/8"}}}
    assert deploys_as({"Fn::FindInMap": [{"Ref": "AWS::Region"}, "k", "c"]}, Mappings=mappings) == [
        "1.0.0.0/8", "? CidrIp unknown at synth time: Fn::FindInMap key 'k' is not in the mapping", "2.0.0.0/8"]


def test_up_to_64_combinations_are_enumerated() -> None:
    bit = {"Fn::FindInMap": ["Bits", {"Ref": "AWS::Region"}, "Bit"]}  # "1" or "2", whichever region it deploys in
    cidr = {"Fn::Join": ["", [bit, bit, bit, ".", bit, ".", bit, ".", bit, "/32"]]}  # 2^6 = 64 addresses
    sources = deploys_as(cidr, Mappings={"Bits": {"a": {"Bit": "1"}, "b": {"Bit": "2"}}})
    assert len(sources) == 64 and sources[0] == "111.1.1.1/32" and sources[-1] == "222.2.2.2/32"
    flag = {"Fn::If": ["Flag", "1", "2"]}  # one condition: all its branches agree
    paired = deploys_as({"Fn::Join": ["", [flag, flag, flag, ".", flag, ".", flag, ".", flag, "/32"]]},
                        Conditions={"Flag": {"Fn::Equals": [{"Ref": "AWS::Region"}, "x"]}})
    assert paired == ["111.1.1.1/32", "222.2.2.2/32"]


def test_get_att_of_a_dotted_attribute() -> None:
    resources = {"Sub": {"Type": "AWS::EC2::Subnet"}}
    assert deploys_as({"Fn::GetAtt": "Sub.A.B"}, resources=resources) == ["? CidrIp is the deploy-time value of resource Sub"]


def test_cidr_cuts_at_most_256_subnets() -> None:
    assert deploys_as({"Fn::Select": [255, {"Fn::Cidr": ["10.0.0.0/16", 256, 8]}]}) == ["10.0.255.0/24"]


@pytest.mark.parametrize(("condition", "branches"), [
    ({"Fn::Or": [{"Fn::Equals": ["a", "b"]}] * 9 + [{"Fn::Equals": ["a", "a"]}]}, ["1.0.0.0/8"]),  # ten conditions: the most allowed
    ({"Fn::Equals": [[{"Ref": "AWS::Region"}], ["eu-west-1"]]}, ["1.0.0.0/8", "2.0.0.0/8"]),  # a list with an unknown element
    ({"Fn::Equals": [{"Fn::FindInMap": ["Eight", {"Ref": "AWS::Region"}, "L"]},
                     {"Fn::FindInMap": ["Eight", {"Ref": "AWS::Region"}, "R"]}]}, ["2.0.0.0/8"]),  # 8 x 8 values: compared
    ({"Fn::Equals": [{"Fn::FindInMap": ["Nine", {"Ref": "AWS::Region"}, "L"]},
                     {"Fn::FindInMap": ["Eight", {"Ref": "AWS::Region"}, "R"]}]}, ["1.0.0.0/8", "2.0.0.0/8"]),  # 9 x 8: not compared
])
def test_conditions_at_their_limits(condition: dict, branches: list[str]) -> None:
    mappings = {"Eight": {f"k{n}": {"L": f"l{n}", "R": f"r{n}"} for n in range(8)}, "Nine": {f"k{n}": {"L": f"l{n}"} for n in range(9)}}
    assert deploys_as({"Fn::If": ["C", "1.0.0.0/8", "2.0.0.0/8"]}, Conditions={"C": condition}, Mappings=mappings) == branches


def test_eleven_conditions_are_too_many_for_or() -> None:
    conditions = {"C": {"Fn::Or": [{"Fn::Equals": ["a", "a"]}] * 11}}
    assert deploys_as({"Fn::If": ["C", "1.0.0.0/8", "2.0.0.0/8"]}, Conditions=conditions) == [
        "1.0.0.0/8", "2.0.0.0/8", "MalformedTemplate Conditions.C: Fn::Or " + str([{"Fn::Equals": ["a", "a"]}] * 11).replace("'", '"')
        + " is not a valid condition function"]
    assert deploys_as({"Fn::If": ["C", "1.0.0.0/8", "2.0.0.0/8"]}, Conditions={"C": ["x"]}) == [
        "1.0.0.0/8", "2.0.0.0/8", 'MalformedTemplate Conditions.C: ["x"] is not a condition function']


@pytest.mark.parametrize(("sizes", "branches"), [
    ((33,), ["2.0.0.0/8"]),  # 33 values: enumerated
    ((8, 8), ["2.0.0.0/8"]),  # 64 combinations: enumerated
    ((8, 9), ["1.0.0.0/8", "2.0.0.0/8"]),  # 72: not enumerated, so v0 and v1 may both seem to hold
])
def test_conditions_are_enumerated_up_to_64_combinations(sizes: tuple[int, ...], branches: list[str]) -> None:
    names = ["A", "B"][:len(sizes)]
    parameters = {name: {"Type": "String", "Default": "v0", "AllowedValues": [f"v{n}" for n in range(size)]} for name, size in zip(names, sizes)}
    parts = [{"Fn::Equals": [{"Ref": "A"}, "v0"]}, {"Fn::Equals": [{"Ref": "A"}, "v1"]}] + [{"Fn::Equals": [{"Ref": name}, "v0"]} for name in names[1:]]
    conditions = {"Never": {"Fn::And": parts}}
    assert deploys_as({"Fn::If": ["Never", "1.0.0.0/8", "2.0.0.0/8"]}, Parameters=parameters, Conditions=conditions) == branches


def test_an_enumerated_condition_leaves_parameters_as_they_were() -> None:
    parameters = {"Env": {"Type": "String", "Default": "dev", "AllowedValues": ["dev", "prod"]}, "Cidr": {"Type": "String", "Default": "8.8.8.0/24"}}
    conditions = {"IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]}, "Gone": {"Fn::And": [{"Condition": "IsProd"}, {"Condition": "Inner"}]},
                  "Inner": {"Fn::Not": [{"Condition": "Missing"}]}, "Direct": {"Fn::And": [{"Fn::Equals": [{"Ref": "Env"}, "prod"]}, {"Condition": "Gone2"}]}}
    assert deploys_as({"Fn::If": ["IsProd", {"Ref": "Cidr"}, "10.0.0.0/8"]}, Parameters=parameters, Conditions=conditions) == ["8.8.8.0/24", "10.0.0.0/8"]
    assert deploys_as({"Fn::If": ["Gone", "1.0.0.0/8", "2.0.0.0/8"]}, Parameters=parameters, Conditions=conditions) == [
        "1.0.0.0/8", "2.0.0.0/8", 'MalformedTemplate Conditions.Inner.Fn::Not: condition "Missing" is not defined in Conditions']
    assert deploys_as({"Fn::If": ["Direct", "1.0.0.0/8", "2.0.0.0/8"]}, Parameters=parameters, Conditions=conditions) == [
        "1.0.0.0/8", "2.0.0.0/8", 'MalformedTemplate Conditions.Direct.Fn::And[1]: condition "Gone2" is not defined in Conditions']


def test_a_nested_stack_s_conditions_use_what_its_parent_passes() -> None:
    parent = Template("P", "p.json", {"Resources": {"Child": {"Type": "AWS::CloudFormation::Stack", "Properties": {"Parameters": {"Env": "dev"}}}}})
    child = {"Parameters": {"Env": {"Type": "String", "AllowedValues": ["dev", "prod"]}},
             "Conditions": {"IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]}},
             "Resources": {"Sg": {"Type": "AWS::EC2::SecurityGroup", "Properties": {"SecurityGroupIngress": [
                 {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIp": {"Fn::If": ["IsProd", "0.0.0.0/0", "10.0.0.0/8"]}}]}}}}
    inventory = read_inventory([parent, Template("P/Child", "c.json", child, parent=("P", "Child"))])
    assert [p.source.label for p in inventory.permissions] == ["10.0.0.0/8"]


def test_conditions_json_cannot_write_are_still_named() -> None:
    assert deploys_as({"Fn::If": [b"x", "1.0.0.0/8", "2.0.0.0/8"]}) == [
        "1.0.0.0/8", "2.0.0.0/8", "MalformedTemplate Fn::If: condition \"b'x'\" is not defined in Conditions"]
    assert deploys_as({"Fn::If": ["C", "1.0.0.0/8", "2.0.0.0/8"]}, Conditions={"C": b"x"}) == [
        "1.0.0.0/8", "2.0.0.0/8", "MalformedTemplate Conditions.C: \"b'x'\" is not a condition function"]
    assert deploys_as({"Fn::If": ["C", "1.0.0.0/8", "2.0.0.0/8"]}, Conditions={"C": {"Fn::Not": b"x"}}) == [
        "1.0.0.0/8", "2.0.0.0/8", "MalformedTemplate Conditions.C: Fn::Not \"b'x'\" is not a valid condition function"]


def test_unknown_values_are_equal_when_their_reasons_are() -> None:
    from constructs_lib.policy.intrinsics import NO_VALUE, ResourceRef, Unknown

    assert Unknown("a") == Unknown("a") and hash(Unknown("a")) == hash(Unknown("a")) and Unknown("a") != Unknown("b")
    assert Unknown("a") != "a" and repr(Unknown("a")) == "Unknown('a')"
    assert repr(ResourceRef("S", "Vpc", "CidrBlock")) == "ResourceRef('S', 'Vpc', 'CidrBlock')" and repr(NO_VALUE) == "AWS::NoValue"


def test_a_default_a_condition_rules_out_deploys_as_whatever_is_passed_and_says_why() -> None:
    # GIVEN parameter Cidr (Default 10.0.0.0/8, no AllowedValues) and a rule whose CidrIp is Cidr where the
    #       condition on Cidr holds, 10.0.0.0/8 elsewhere
    # WHEN  condition Public (Cidr is not 10.0.0.0/8) rules the Default out / condition Private (it is) keeps it
    # THEN  where Public holds the value is unknown, with the reason; where Private holds it is the Default only
    parameters = {"Cidr": {"Type": "String", "Default": "10.0.0.0/8"}}
    is_default = {"Fn::Equals": [{"Ref": "Cidr"}, "10.0.0.0/8"]}
    public = deploys_as({"Fn::If": ["Public", {"Ref": "Cidr"}, "10.0.0.0/8"]}, Parameters=parameters, Conditions={"Public": {"Fn::Not": [is_default]}})
    assert public == [*unknown('parameter Cidr is passed at deploy time: its Default "10.0.0.0/8" is ruled out where condition Public is true'),
                      "10.0.0.0/8"]
    private = deploys_as({"Fn::If": ["Private", {"Ref": "Cidr"}, "8.8.8.8/32"]}, Parameters=parameters, Conditions={"Private": is_default})
    assert private == ["10.0.0.0/8", "8.8.8.8/32"]
