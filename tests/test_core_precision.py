"""Precision on real templates (issue 18): what CloudFormation reads is read, what EC2 deploys is judged.

Each case is a minimal template of a shape AWS's own templates use; RULES.md names the documentation.
"""

from __future__ import annotations

import itertools
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from constructs_lib.policy import Template, check_templates
from constructs_lib.policy.templates import parse_template
from guard_cases import CASES, group, ingress, rule

WORLD4 = "0.0.0.0/0"


def findings(resources: dict, **sections: Any) -> list:
    return check_templates([Template("S", "S.json", {"Resources": resources, **sections})])


def verdicts(resources: dict, **sections: Any) -> set[tuple[str, str, int | None]]:
    return {(f.rule_id, f.location.logical_id, f.port) for f in findings(resources, **sections)}


def yaml_findings(text: str) -> list:
    body, problems = parse_template(text, "t.yaml")
    return check_templates([Template("S", "t.yaml", body, problems=problems)])


# --- deploy-time ports and sources -----------------------------------------------------------------------------

DB = {"Db": {"Type": "AWS::RDS::DBInstance", "Properties": {"Engine": "postgres"}}}
DB_PORT = {"Fn::GetAtt": ["Db", "Endpoint.Port"]}


@pytest.mark.parametrize(("source", "expected"), [
    ({"SourceSecurityGroupId": {"Fn::GetAtt": ["App", "GroupId"]}}, set()),  # a group is never internet addresses
    ({"SourceSecurityGroupId": {"Fn::ImportValue": "app-sg"}}, set()),
    ({"CidrIp": "10.0.0.0/16"}, set()),  # whatever the port, no public address
    ({"CidrIp": "203.0.113.10/32"}, set()),
    ({"CidrIp": WORLD4}, {("UnverifiableIngress", "DbIngress", 22)}),  # the port may be an admin port
    ({"CidrIp": "0.0.0.0/1"}, {("UnverifiableIngress", "DbIngress", 22)}),  # broad
])
def test_a_port_known_only_at_deploy_time_is_judged_by_what_it_could_be(source: dict, expected: set) -> None:
    resources = {**DB, "App": group(), "DbSg": group(),
                 "DbIngress": ingress({"Fn::GetAtt": ["DbSg", "GroupId"]}, rule("tcp", DB_PORT, DB_PORT, **source))}
    assert verdicts(resources) == expected
    imported = {"Fn::ImportValue": "db-port"}
    resources["DbIngress"] = ingress({"Ref": "DbSg"}, rule("tcp", imported, imported, **source))
    assert verdicts(resources) == expected


def test_an_unknown_port_from_the_world_says_why_in_template_terms() -> None:
    resources = {**DB, "DbSg": group(rule("tcp", DB_PORT, DB_PORT, CidrIp=WORLD4))}
    (finding,) = findings(resources)
    assert finding.rule_id == "UnverifiableIngress" and "its protocol or ports are unknown at synth time" in finding.message


#: What a message must never show: the guard's own objects (tuples of template, logical id, attribute; reprs).
INTERNAL = re.compile(r"ResourceRef|Unknown\(|Network\(|_NoValue|object at 0x|\('[^']*', '[^']*'|\[\"S\", \"")


def test_no_message_shows_the_guard_s_internal_values() -> None:
    """Every value a property may hold that the guard resolves to one of its own objects, in every field."""
    deploy_time = [DB_PORT, {"Ref": "Db"}, {"Fn::ImportValue": "x"}, {"Ref": "AWS::NoValue"}, {"Ref": "AWS::Region"},
                   {"Fn::GetAtt": ["Db", "Endpoint.Address"]}, [DB_PORT], {"Bogus": 1}]
    messages = []
    for value in deploy_time:
        for field in ("IpProtocol", "FromPort", "ToPort", "CidrIp", "CidrIpv6", "SourcePrefixListId", "SourceSecurityGroupId"):
            entry = {**rule("tcp", 22, 22, CidrIp="10.0.0.0/8"), field: value}
            resources = {**DB, "Sg": group(entry), "In": ingress(value, entry), "Ni": {"Type": "AWS::EKS::Nodegroup", "Properties": {
                "RemoteAccess": {"Ec2SshKey": "k", "SourceSecurityGroups": [value]}, "AmiType": value}},
                "Fleet": {"Type": "AWS::GameLift::Fleet", "Properties": {"EC2InboundPermissions": [
                    {"FromPort": value, "ToPort": 22, "IpRange": value, "Protocol": value}]}},
                "Box": {"Type": "AWS::Lightsail::Instance", "Properties": {"Networking": {"Ports": [
                    {"FromPort": value, "ToPort": value, "Protocol": value, "Cidrs": [value], "CidrListAliases": [value]}]}}},
                "Env": {"Type": "AWS::ElasticBeanstalk::Environment", "Properties": {"OptionSettings": [
                    {"Namespace": "aws:autoscaling:launchconfiguration", "OptionName": "SSHSourceRestriction", "Value": value},
                    {"Namespace": "aws:autoscaling:launchconfiguration", "OptionName": "SecurityGroups", "Value": value}]}}}
            messages += [f.message for f in findings(resources)]
    for case in CASES:
        messages += [f.message for f in check_templates([Template("S", "S.json", case.template())])]
    assert messages and [message for message in messages if INTERNAL.search(message)] == []


# --- host bits -----------------------------------------------------------------------------------------------


def test_ssh_location_s_default_in_aws_s_samples_is_the_whole_internet() -> None:
    """EC2 keeps the network part of 192.168.1.0/0: 0.0.0.0/0 (API_IpRange)."""
    parameters = {"SSHLocation": {"Type": "String", "Default": "192.168.1.0/0", "MinLength": 9}}
    resources = {"InstanceSecurityGroup": group(rule("tcp", "22", "22", CidrIp={"Ref": "SSHLocation"}))}
    (finding,) = findings(resources, Parameters=parameters)
    assert (finding.rule_id, finding.check_name) == ("WorldOpenAdminPort", "WorldOpenAdminPort[22]")
    assert "via 192.168.1.0/0 (EC2 keeps its network part, 0.0.0.0/0)" in finding.message
    assert finding.sources == ("192.168.1.0/0 (EC2 keeps its network part, 0.0.0.0/0)",)


@pytest.mark.parametrize(("entry", "expected"), [
    (rule("tcp", 443, 443, CidrIp="1.2.3.5/16"), set()),
    (rule("tcp", 22, 22, CidrIp="1.2.3.5/16"), set()),  # 1.2.0.0/16: a public /16, at the limit
    (rule("tcp", 22, 22, CidrIp="1.2.3.5/15"), {("BroadAdminSource", "Sg", 22)}),
    (rule("tcp", 22, 22, CidrIpv6="fd00::/0"), {("WorldOpenAdminPort", "Sg", 22)}),
    (rule("tcp", 443, 443, CidrIpv6="fd00::/0"), set()),
    (rule("tcp", 22, 22, CidrIpv6="2001:db8::1/128"), set()),
])
def test_a_block_with_host_bits_is_the_block_ec2_keeps(entry: dict, expected: set) -> None:
    assert verdicts({"Sg": group(entry)}) == expected


# --- correlated values ---------------------------------------------------------------------------------------

IS_PROD = {"IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]}, "IsDev": {"Fn::Not": [{"Condition": "IsProd"}]}}
ENV = {"Env": {"Type": "String", "Default": "dev", "AllowedValues": ["dev", "prod"]}}


def by(condition: str, yes: Any, no: Any) -> dict:
    return {"Fn::If": [condition, yes, no]}


def test_ports_chosen_by_one_condition_pair_true_with_true() -> None:
    entry = rule("tcp", by("IsProd", 8000, 80), by("IsProd", 8080, 80), CidrIp=WORLD4)
    assert verdicts({"Sg": group(entry)}, Parameters=ENV, Conditions=IS_PROD) == set()  # never "8000 > 80"
    other = rule("tcp", by("IsProd", 8000, 80), by("IsDev", 80, 8080), CidrIp=WORLD4)  # IsDev is never IsProd: 8000-8080, 80-80
    assert verdicts({"Sg": group(other)}, Parameters=ENV, Conditions=IS_PROD) == set()
    crossed = rule("tcp", by("IsProd", 8000, 80), by("IsDev", 81, 80), CidrIp=WORLD4)  # in prod 8000-80
    assert verdicts({"Sg": group(crossed)}, Parameters=ENV, Conditions=IS_PROD) == {("MalformedIngress", "Sg", None)}
    port = {"Ref": "Port"}  # one parameter has one value in a deployment
    one_port = {"Port": {"Type": "Number", "Default": 8080, "AllowedValues": [8080, 443]}}
    assert verdicts({"Sg": group(rule("tcp", port, port, CidrIp=WORLD4))}, Parameters=one_port) == set()
    ssh = rule("tcp", by("IsProd", 22, 80), by("IsProd", 22, 80), CidrIp=by("IsProd", "10.0.0.0/8", WORLD4))
    assert verdicts({"Sg": group(ssh)}, Parameters=ENV, Conditions=IS_PROD) == set()  # SSH only where the CIDR is private


def test_resources_decided_by_one_condition_are_judged_together() -> None:
    halves = {"Sg": group(rule(CidrIp=by("IsProd", "0.0.0.0/1", "10.0.0.0/8"))),
              "Other": ingress({"Ref": "Sg"}, rule(CidrIp=by("IsProd", "10.0.0.0/8", "128.0.0.0/1")))}
    assert verdicts(halves, Parameters=ENV, Conditions=IS_PROD) == {("BroadAdminSource", "Sg", 22)}  # never both halves
    halves["Other"] = ingress({"Ref": "Sg"}, rule(CidrIp=by("IsProd", "128.0.0.0/1", "10.0.0.0/8")))
    assert verdicts(halves, Parameters=ENV, Conditions=IS_PROD) == {("WorldOpenAdminPort", "Sg", 22)}
    gated = {"Sg": group(), "Prod": {**ingress({"Ref": "Sg"}, rule(CidrIp="0.0.0.0/1")), "Condition": "IsProd"},
             "Dev": {**ingress({"Ref": "Sg"}, rule(CidrIp="128.0.0.0/1")), "Condition": "IsDev"}}
    assert verdicts(gated, Parameters=ENV, Conditions=IS_PROD) == {("BroadAdminSource", "Sg", 22)}
    gated["Dev"]["Condition"] = "IsProd"
    assert verdicts(gated, Parameters=ENV, Conditions=IS_PROD) == {("WorldOpenAdminPort", "Sg", 22)}


def test_a_default_the_resource_s_condition_rules_out_is_not_used() -> None:
    parameters = {"SSHPort": {"Type": "String", "Default": ""}}
    conditions = {"HasSSH": {"Fn::Not": [{"Fn::Equals": [{"Ref": "SSHPort"}, ""]}]}}
    def ssh(cidr: str) -> dict:
        port = {"Ref": "SSHPort"}
        return {"Sg": group(), "Ssh": {**ingress({"Ref": "Sg"}, rule("tcp", port, port, CidrIp=cidr)), "Condition": "HasSSH"}}
    (finding,) = findings(ssh(WORLD4), Parameters=parameters, Conditions=conditions)  # never 'FromPort ""'
    assert finding.rule_id == "UnverifiableIngress" and finding.location.logical_id == "Ssh"
    assert findings(ssh("10.0.0.0/8"), Parameters=parameters, Conditions=conditions) == []
    allowed = {"SSHPort": {"Type": "String", "Default": "", "AllowedValues": ["", "22", "2222"]}}
    assert verdicts(ssh(WORLD4), Parameters=allowed, Conditions=conditions) == {("WorldOpenAdminPort", "Sg", 22)}


def test_an_attachment_exists_only_where_its_condition_holds() -> None:
    resources = {"Low": group(rule(CidrIp="0.0.0.0/1")), "High": group(rule(CidrIp="128.0.0.0/1")),
                 "Host": {"Type": "AWS::EC2::Instance", "Properties": {"SecurityGroupIds": [
                     {"Ref": "Low"}, by("IsProd", {"Ref": "High"}, {"Ref": "AWS::NoValue"})]}}}
    alone = {("BroadAdminSource", "Low", 22), ("BroadAdminSource", "High", 22)}
    assert verdicts(resources, Parameters=ENV, Conditions=IS_PROD) == alone | {("WorldOpenAdminPort", "Host", 22)}
    resources["High"] = group()  # its rule exists only where High is not on the host
    resources["HighSsh"] = {**ingress({"Ref": "High"}, rule(CidrIp="128.0.0.0/1")), "Condition": "IsDev"}
    assert verdicts(resources, Parameters=ENV, Conditions=IS_PROD) == alone


# The property: a template whose values conditions choose has the findings of all its fixed variants together.

PARAMETERS = ("P0", "P1")
FIRST_CONDITION = st.sampled_from([{"Fn::Equals": [{"Ref": "P0"}, "on"]}, {"Fn::Not": [{"Fn::Equals": [{"Ref": "P1"}, "on"]}]}])
CONDITION = st.sampled_from([
    {"Fn::Equals": [{"Ref": "P0"}, "on"]}, {"Fn::Equals": [{"Ref": "P1"}, "on"]}, {"Fn::Not": [{"Condition": "C0"}]},
    {"Fn::And": [{"Condition": "C0"}, {"Fn::Equals": [{"Ref": "P1"}, "on"]}]}, {"Fn::Or": [{"Condition": "C0"}, {"Condition": "C1"}]},
])
PORT = st.sampled_from([22, 80, 3389, 8000])
CIDR = st.sampled_from(["0.0.0.0/1", "128.0.0.0/1", "10.0.0.0/8", WORLD4, "8.8.0.0/15", "::/0"])


@st.composite
def conditional(draw: st.DrawFn, values: st.SearchStrategy, depth: int = 2) -> Any:
    if depth == 0 or draw(st.booleans()):
        return draw(values)
    return by(draw(st.sampled_from(["C0", "C1", "C2"])), draw(conditional(values, depth - 1)), draw(conditional(values, depth - 1)))


@st.composite
def conditional_templates(draw: st.DrawFn) -> dict:
    def entry() -> dict:
        low = draw(conditional(PORT))
        cidr = draw(conditional(CIDR))
        field = "CidrIp"
        if isinstance(cidr, str) and ":" in cidr:
            field = "CidrIpv6"
        elif not isinstance(cidr, str):
            cidr = _only_ipv4(cidr)
        return rule("tcp", low, draw(st.sampled_from([low, draw(conditional(PORT))])), **{field: cidr})

    resources: dict[str, Any] = {"Sg": group(*[entry() for _ in range(draw(st.integers(1, 2)))]),
                                 "Other": group(*[entry() for _ in range(draw(st.integers(0, 1)))])}
    for index in range(draw(st.integers(0, 2))):
        standalone = ingress({"Ref": draw(st.sampled_from(["Sg", "Other"]))}, entry())
        if draw(st.booleans()):
            standalone["Condition"] = draw(st.sampled_from(["C0", "C1", "C2"]))
        resources[f"In{index}"] = standalone
    if draw(st.booleans()):
        resources["Host"] = {"Type": "AWS::EC2::Instance", "Properties": {"SecurityGroupIds": [
            {"Ref": "Sg"}, draw(conditional(st.sampled_from([{"Ref": "Other"}, {"Ref": "AWS::NoValue"}])))]}}
    return {"Parameters": {name: {"Type": "String", "Default": "off", "AllowedValues": ["on", "off"]} for name in PARAMETERS},
            "Conditions": {"C0": draw(FIRST_CONDITION), "C1": {"Fn::Equals": [{"Ref": "P1"}, "on"]}, "C2": draw(CONDITION)},
            "Resources": resources}


def _only_ipv4(node: Any) -> Any:
    if isinstance(node, dict):
        condition, yes, no = node["Fn::If"]
        return by(condition, _only_ipv4(yes), _only_ipv4(no))
    return "10.0.0.0/8" if ":" in node else node


def _truth(node: dict, conditions: dict, values: dict) -> bool:
    (key, argument), = node.items()
    if key == "Condition":
        return _truth(conditions[argument], conditions, values)
    if key == "Fn::Not":
        return not _truth(argument[0], conditions, values)
    if key in ("Fn::And", "Fn::Or"):
        parts = [_truth(item, conditions, values) for item in argument]
        return all(parts) if key == "Fn::And" else any(parts)
    return values[argument[0]["Ref"]] == argument[1]


def _fixed(node: Any, truths: dict) -> Any:
    """``node`` with every ``Fn::If`` replaced by the branch ``truths`` choose (``AWS::NoValue`` removed)."""
    if isinstance(node, dict):
        if set(node) == {"Fn::If"}:
            condition, yes, no = node["Fn::If"]
            return _fixed(yes if truths[condition] else no, truths)
        return {key: _fixed(value, truths) for key, value in node.items()}
    if isinstance(node, list):
        return [item for item in (_fixed(item, truths) for item in node) if item != {"Ref": "AWS::NoValue"}]
    return node


def _variant(body: dict, values: dict) -> dict:
    """The template as it deploys with parameter ``values``: conditions decided, resources they rule out removed."""
    truths = {name: _truth(node, body["Conditions"], values) for name, node in body["Conditions"].items()}
    resources = {}
    for logical_id, resource in body["Resources"].items():
        if truths.get(resource.get("Condition"), True):
            resources[logical_id] = {key: value for key, value in _fixed(resource, truths).items() if key != "Condition"}
    return {"Resources": resources}


@settings(max_examples=100, deadline=None)
@given(conditional_templates())
def test_a_conditional_template_finds_what_its_variants_find_together(body: dict) -> None:
    def found(template: dict) -> set:
        return {(f.rule_id, f.location.logical_id, f.port) for f in check_templates([Template("S", "S.json", template)])}

    variants = set()
    for values in itertools.product(["on", "off"], repeat=len(PARAMETERS)):
        variants |= found(_variant(body, dict(zip(PARAMETERS, values))))
    assert found(body) == variants


# --- what CloudFormation reads -------------------------------------------------------------------------------


def test_the_rules_section_s_functions_are_read_in_short_form() -> None:
    """https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/intrinsic-function-reference-rules.html"""
    text = """
Parameters:
  Subnets: {Type: "List<AWS::EC2::Subnet::Id>"}
  Vpc: {Type: "AWS::EC2::VPC::Id"}
  InstanceType: {Type: String, Default: t3.micro}
Rules:
  SubnetsInVpc:
    Assertions:
      - Assert: !EachMemberEquals [!ValueOfAll ["AWS::EC2::Subnet::Id", VpcId], !Ref Vpc]
      - Assert: !EachMemberIn [!ValueOfAll ["AWS::EC2::Subnet::Id", VpcId], !RefAll "AWS::EC2::VPC::Id"]
      - Assert: !Contains [[t3.micro, t3.small], !Ref InstanceType]
      - Assert: !Not [!Equals [!ValueOf [Vpc, Tags.Department], ""]]
        AssertDescription: all subnets in the VPC
Resources:
  Sg: {Type: "AWS::EC2::SecurityGroup", Properties: {GroupDescription: g, VpcId: !Ref Vpc}}
"""
    assert yaml_findings(text) == []
    assert [f.rule_id for f in yaml_findings(text.replace("!Contains", "!Contain"))] == ["MalformedTemplate"]


def test_a_tab_may_separate_a_plain_scalar_from_its_comment() -> None:
    text = "Resources:\n  Sg:\n    Type: AWS::EC2::SecurityGroup\t# a tab, then a comment\n    Properties:\n" \
           "      GroupDescription: open\t# note\n      SecurityGroupIngress:\n" \
           "        - {IpProtocol: tcp,\tFromPort: 22, ToPort: 22, CidrIp: 0.0.0.0/0}\t\n"
    assert [f.check_name for f in yaml_findings(text)] == ["WorldOpenAdminPort[22]"]
    body, _ = parse_template("Resources:\n  B: {Type: AWS::S3::Bucket, Properties: {Name: a\tb}}\n", "t.yaml")
    assert body["Resources"]["B"]["Properties"]["Name"] == "a\tb"
    with pytest.raises(Exception, match="cannot start any token"):  # a tab in indentation stays an error
        parse_template("Resources:\n\tB: {Type: AWS::S3::Bucket}\n", "t.yaml")


def test_gamelift_ports_may_be_numeric_strings() -> None:
    fleet = {"Type": "AWS::GameLift::Fleet", "Properties": {"EC2InboundPermissions": [
        {"FromPort": "1122", "ToPort": "1122", "IpRange": WORLD4, "Protocol": "TCP"},
        {"FromPort": "22", "ToPort": 22, "IpRange": WORLD4, "Protocol": "TCP"}]}}
    assert verdicts({"Fleet": fleet}) == {("WorldOpenAdminPort", "Fleet", 22)}
    fleet["Properties"]["EC2InboundPermissions"] = [{"FromPort": "22.0", "ToPort": 22, "IpRange": WORLD4, "Protocol": "TCP"}]
    assert verdicts({"Fleet": fleet}) == {("MalformedIngress", "Fleet", None)}


def test_sam_s_ignore_globals_attribute_is_sam_s_only() -> None:
    function = {"Type": "AWS::Serverless::Function", "IgnoreGlobals": "*", "Properties": {"Runtime": "python3.12"}}
    sam = check_templates([Template("S", "S.json", {"Transform": "AWS::Serverless-2016-10-31", "Resources": {"Fn": function}})])
    assert sam == []
    body, problems = parse_template('{"Resources": {"Fn": {"Type": "AWS::Lambda::Function", "IgnoreGlobals": "*"}}}', "t.json")
    assert [f.rule_id for f in check_templates([Template("S", "t.json", body, problems=problems)])] == ["MalformedTemplate"]


def test_properties_chosen_by_a_condition_are_read_branch_by_branch() -> None:
    open_group = group(rule(CidrIp=WORLD4))["Properties"]
    resources = {"Sg": {"Type": "AWS::EC2::SecurityGroup", "Properties": by("IsProd", {"GroupDescription": "closed"}, open_group)}}
    assert verdicts(resources, Parameters=ENV, Conditions=IS_PROD) == {("WorldOpenAdminPort", "Sg", 22)}
    resources["Sg"]["Properties"] = by("IsProd", {"GroupDescription": "closed"}, {"Ref": "AWS::NoValue"})
    assert verdicts(resources, Parameters=ENV, Conditions=IS_PROD) == set()


def test_a_for_each_loop_that_creates_nothing_any_reader_reads_is_no_finding() -> None:
    """https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/intrinsic-function-reference-foreach.html"""
    tables = ["Name", ["A", "B"], {"Table${Name}": {"Type": "AWS::DynamoDB::Table", "Properties": {"TableName": {"Ref": "Name"}}}}]
    nested = ["Outer", ["X"], {"Fn::ForEach::Inner": ["Name", ["A"], {"Bucket${Outer}${Name}": {"Type": "AWS::S3::Bucket"}}]}]
    body = {"Transform": "AWS::LanguageExtensions", "Resources": {"Fn::ForEach::Tables": tables, "Fn::ForEach::Buckets": nested}}
    assert check_templates([Template("S", "S.json", body)]) == []
    for fragment in ({"Sg${Name}": {"Type": "AWS::EC2::SecurityGroup"}}, {"Fn::ForEach::In": ["N", ["A"], {"Sg${N}": {"Type": {"Ref": "T"}}}]}):
        body["Resources"]["Fn::ForEach::Tables"] = ["Name", ["A"], fragment]
        assert [f.rule_id for f in check_templates([Template("S", "S.json", body)])] == ["UnverifiableIngress"]


def test_a_macro_s_own_attributes_are_its_input_and_its_transform_is_unverifiable() -> None:
    """https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/template-macros.html"""
    bucket = {"Type": "AWS::S3::Bucket", "Count": 3}
    body, problems = parse_template('{"Transform": ["Count"], "Resources": {"B": {"Type": "AWS::S3::Bucket", "Count": 3}}}', "t.json")
    assert [(f.rule_id, f.location.logical_id) for f in check_templates([Template("S", "t.json", body, problems=problems)])] == [
        ("UnverifiableIngress", "Transform")]
    body, problems = parse_template('{"Resources": {"B": {"Type": "AWS::S3::Bucket", "Count": 3}}}', "t.json")
    assert bucket and [f.rule_id for f in check_templates([Template("S", "t.json", body, problems=problems)])] == ["MalformedTemplate"]


def test_malformed_conditions_beside_values_chosen_by_conditions_are_reported_not_crashed_on() -> None:
    resources = {"Sg": {**group(rule(CidrIp=by("IsProd", WORLD4, "10.0.0.0/8"))), "Condition": ["IsProd"]},
                 "Odd": group(rule(CidrIp={"Fn::If": [["IsProd"], WORLD4, "10.0.0.0/8"]}))}
    assert verdicts(resources, Parameters=ENV, Conditions=IS_PROD) == {
        ("MalformedTemplate", "Sg", None), ("MalformedTemplate", "Fn::If", None),  # an Fn::If's problem is anchored at it
        ("WorldOpenAdminPort", "Sg", 22), ("WorldOpenAdminPort", "Odd", 22)}
