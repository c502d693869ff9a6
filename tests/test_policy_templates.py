"""Reading templates: YAML short forms, several templates analysed together, transforms, bad input.

GIVEN template files as users write them (not synthesized by CDK)
WHEN  the policy core reads them
THEN  the findings are the same as for the equivalent JSON, and across files they add up.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from constructs_lib.policy import TemplateError, check_paths

YAML_TEMPLATE = """
AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  Office: {Type: String, Default: 203.0.113.0/24}
  Bits: {Type: Number, Default: 0}
Conditions:
  Prod: !Equals [!Ref "AWS::AccountId", "123456789012"]
Resources:
  Web:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: web
      SecurityGroupIngress:
        - {IpProtocol: tcp, FromPort: 443, ToPort: 443, CidrIp: 0.0.0.0/0}
        - IpProtocol: tcp
          FromPort: 22
          ToPort: 22
          CidrIp: !Sub "0.0.0.0/${Bits}"
  Rdp:
    Type: AWS::EC2::SecurityGroupIngress
    Properties:
      GroupId: !GetAtt Web.GroupId
      IpProtocol: tcp
      FromPort: 3389
      ToPort: 3389
      CidrIpv6: !If [Prod, "::/0", "2001:db8::/32"]
  Office:
    Type: AWS::EC2::SecurityGroupIngress
    Properties:
      GroupId: !Ref Web
      IpProtocol: tcp
      FromPort: 22
      ToPort: 22
      CidrIp: !Ref Office
"""


def _findings(paths) -> set:
    return {(f.rule_id, f.location.logical_id, f.port) for f in check_paths(paths)}


def test_yaml_short_forms_are_evaluated(tmp_path: Path) -> None:
    path = tmp_path / "web.yaml"
    path.write_text(YAML_TEMPLATE)
    assert _findings([path]) == {("WorldOpenAdminPort", "Web", 22), ("WorldOpenAdminPort", "Web", 3389)}


def test_cross_stack_import_of_the_group_unites_the_rules_of_both_files(tmp_path: Path) -> None:
    owner = {
        "Resources": {"Shared": {"Type": "AWS::EC2::SecurityGroup", "Properties": {"GroupDescription": "x",
                     "SecurityGroupIngress": [{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIpv6": "2000::/4"}]}}},
        "Outputs": {"Id": {"Value": {"Fn::GetAtt": ["Shared", "GroupId"]},
                           "Export": {"Name": {"Fn::Sub": ["${Team}-shared-sg", {"Team": "net"}]}}}},
    }
    adder = {"Resources": {"Half": {"Type": "AWS::EC2::SecurityGroupIngress", "Properties": {
        "GroupId": {"Fn::ImportValue": "net-shared-sg"}, "IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIpv6": "3000::/4"}}}}
    (tmp_path / "owner.json").write_text(json.dumps(owner))
    (tmp_path / "adder.json").write_text(json.dumps(adder))
    # Each file alone opens SSH to an eighth of IPv6 (too broad); together (a directory of templates, the export
    # name computed by Fn::Sub) the group is open to the whole IPv6 internet.
    assert _findings([tmp_path / "owner.json"]) == {("BroadAdminSource", "Shared", 22)}
    assert _findings([tmp_path]) == {("WorldOpenAdminPort", "Shared", 22)}


@pytest.mark.parametrize("transform", ["MyCompany::Macro", ["AWS::Serverless-2016-10-31", "MyCompany::Macro"]])
def test_unknown_macros_make_the_template_unverifiable(tmp_path: Path, transform) -> None:
    body = {"Transform": transform, "Resources": {"Sg": {"Type": "AWS::EC2::SecurityGroup", "Properties": {"GroupDescription": "x"}}}}
    (tmp_path / "t.json").write_text(json.dumps(body))
    assert _findings([tmp_path / "t.json"]) == {("UnverifiableIngress", "Transform", None)}


def test_aws_transforms_alone_are_not_findings(tmp_path: Path) -> None:
    body = {"Transform": "AWS::Serverless-2016-10-31", "Resources": {"Sg": {"Type": "AWS::EC2::SecurityGroup", "Properties": {}}}}
    (tmp_path / "t.json").write_text(json.dumps(body))
    assert _findings([tmp_path / "t.json"]) == set()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "neither valid JSON nor valid YAML"),
        ("Description: no resources\n", "no Resources section"),
        ("- a list\n", "no Resources section"),
    ],
)
def test_unreadable_templates_raise_a_clear_error(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(content)
    with pytest.raises(TemplateError, match=message):
        check_paths([path])


def test_weak_cross_stack_references_are_followed_by_stack_name(tmp_path: Path) -> None:
    # GIVEN a cloud assembly whose second stack opens SSH on the first stack's group through Fn::GetStackOutput
    # (CDK's "weak" cross-stack references), the producing stack named differently from its artifact id
    owner = {"Resources": {"Shared": {"Type": "AWS::EC2::SecurityGroup", "Properties": {"GroupDescription": "x"}}},
             "Outputs": {"SharedId": {"Value": {"Fn::GetAtt": ["Shared", "GroupId"]}}}}
    adder = {"Resources": {"Open": {"Type": "AWS::EC2::SecurityGroupIngress", "Properties": {
        "GroupId": {"Fn::GetStackOutput": {"StackName": "prod-network", "OutputName": "SharedId", "Region": {"Ref": "AWS::Region"}}},
        "IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIpv6": "::/0"}}}}
    manifest = {"version": "48.0.0", "artifacts": {
        "Network": {"type": "aws:cloudformation:stack", "properties": {"templateFile": "Network.template.json", "stackName": "prod-network"}},
        "Adder": {"type": "aws:cloudformation:stack", "properties": {"templateFile": "Adder.template.json"}},
    }}
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    (tmp_path / "Network.template.json").write_text(json.dumps(owner))
    (tmp_path / "Adder.template.json").write_text(json.dumps(adder))
    # THEN the rule lands on the group it names: world-open, on the owner's group
    assert _findings([tmp_path]) == {("WorldOpenAdminPort", "Shared", 22)}
    # AND with the producing stack not in the input, the group is unknown but what the rule opens is not
    manifest["artifacts"].pop("Network")
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    assert _findings([tmp_path]) == {("WorldOpenAdminPort", "Open", 22)}


def test_nested_stacks_see_the_parameters_their_parent_passes(tmp_path: Path) -> None:
    # GIVEN a CDK-style nested stack that opens SSH on its parent's group, which it receives as a parameter
    parent = {"Resources": {
        "Shared": {"Type": "AWS::EC2::SecurityGroup", "Properties": {"GroupDescription": "x"}},
        "Child": {"Type": "AWS::CloudFormation::Stack", "Metadata": {"aws:asset:path": "ParentChild.nested.template.json"},
                  "Properties": {"TemplateURL": "https://example.invalid/child.json",
                                 "Parameters": {"referencetoParentSharedGroupId": {"Fn::GetAtt": ["Shared", "GroupId"]}}}},
    }}
    child = {"Parameters": {"referencetoParentSharedGroupId": {"Type": "String"}},
             "Resources": {"Open": {"Type": "AWS::EC2::SecurityGroupIngress", "Properties": {
                 "GroupId": {"Ref": "referencetoParentSharedGroupId"}, "IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
                 "CidrIp": "0.0.0.0/0"}}}}
    manifest = {"version": "48.0.0", "artifacts": {"Parent": {"type": "aws:cloudformation:stack", "properties": {"templateFile": "Parent.template.json"}}}}
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    (tmp_path / "Parent.template.json").write_text(json.dumps(parent))
    (tmp_path / "ParentChild.nested.template.json").write_text(json.dumps(child))
    # THEN the rule is the parent group's: world-open, anchored on it
    assert _findings([tmp_path]) == {("WorldOpenAdminPort", "Shared", 22)}


def test_a_rule_on_a_group_known_only_at_deploy_time_is_still_judged(tmp_path: Path) -> None:
    # GIVEN a world-SSH rule whose GroupId is imported from a stack outside the input
    template = {"Resources": {"Open": {"Type": "AWS::EC2::SecurityGroupIngress", "Properties": {
        "GroupId": {"Fn::ImportValue": "elsewhere-sg"}, "IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIp": "0.0.0.0/0"}}}}
    (tmp_path / "t.json").write_text(json.dumps(template))
    # THEN whichever group it is, SSH on it is open to the world
    [finding] = check_paths([tmp_path / "t.json"])
    assert (finding.rule_id, finding.port, finding.location.logical_id) == ("WorldOpenAdminPort", 22, "Open")
    assert "Fn::ImportValue 'elsewhere-sg' comes from a stack outside this input" in finding.message


def test_groups_from_two_stacks_on_one_instance_are_united(tmp_path: Path) -> None:
    # GIVEN a cloud assembly: one stack exports a group open to half of IPv4, another defines the other half
    # and an instance that carries both groups
    network = {"Resources": {"Low": {"Type": "AWS::EC2::SecurityGroup", "Properties": {"GroupDescription": "x", "SecurityGroupIngress": [
                   {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIp": "0.0.0.0/1"}]}}},
               "Outputs": {"LowId": {"Value": {"Fn::GetAtt": ["Low", "GroupId"]}, "Export": {"Name": "network-low"}}}}
    app = {"Resources": {
        "High": {"Type": "AWS::EC2::SecurityGroup", "Properties": {"GroupDescription": "x", "SecurityGroupIngress": [
            {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIp": "128.0.0.0/1"}]}},
        "Host": {"Type": "AWS::EC2::Instance", "Properties": {"ImageId": "ami-1", "SecurityGroupIds": [
            {"Fn::ImportValue": "network-low"}, {"Fn::GetAtt": ["High", "GroupId"]}]}},
    }}
    manifest = {"version": "48.0.0", "artifacts": {
        name: {"type": "aws:cloudformation:stack", "properties": {"templateFile": f"{name}.template.json"}} for name in ("Network", "App")}}
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    (tmp_path / "Network.template.json").write_text(json.dumps(network))
    (tmp_path / "App.template.json").write_text(json.dumps(app))
    # THEN each group alone is too broad, and the instance, which unites them, is open to the whole internet
    findings = check_paths([tmp_path])
    assert {(f.rule_id, f.location.template, f.location.logical_id, f.port) for f in findings} == {
        ("BroadAdminSource", "Network", "Low", 22), ("BroadAdminSource", "App", "High", 22), ("WorldOpenAdminPort", "App", "Host", 22)}
    [union] = [f for f in findings if f.rule_id == "WorldOpenAdminPort"]
    assert "instance Host (security groups High and Low on one network interface)" in union.message
