"""Prefix lists managed outside the app: one declaration, read by the constructs, the plugin, the CLI and the live audit.

GIVEN the README's example (a bastion admitting SSH from an admin CIDR and a managed prefix list)
WHEN  the app declares the prefix list trusted in its ``admin-port-guard`` context, or does not
THEN  the constructs and the plugin agree: it synthesizes with the plugin on, or it is refused with a
      message that names the declaration; the CLI and the live audit read the same declaration.
"""

from __future__ import annotations

import json
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2

from constructs_lib import BastionSecurityGroup, WebServerSecurityGroup, add_admin_port_guard
from constructs_lib.guard.__main__ import main as guard_main
from constructs_lib.policy import GuardPolicy, Template, check_templates

PREFIX_LIST = "pl-0123456789abcdef0"
DECLARATION = {"admin-port-guard": {"trustedPrefixLists": {PREFIX_LIST: "corporate VPN egress, managed by NetOps (NET-12)"}}}


def readme_app(context: dict, outdir: Path) -> cdk.App:
    app = cdk.App(outdir=str(outdir), context=context)
    stack = cdk.Stack(app, "MyWebTier")
    vpc = ec2.Vpc.from_vpc_attributes(stack, "Vpc", vpc_id="vpc-0123456789abcdef0", availability_zones=["us-east-1a"])
    bastion = BastionSecurityGroup(stack, "Bastion", vpc=vpc, admin_sources=["203.0.113.10/32", PREFIX_LIST])
    WebServerSecurityGroup(stack, "Web", vpc=vpc, bastion=bastion)
    add_admin_port_guard(app)
    return app


def test_the_readme_example_synthesizes_with_the_plugin_once_the_prefix_list_is_declared(tmp_path: Path, capsys) -> None:
    app = readme_app(DECLARATION, tmp_path)
    app.synth()  # raises (under pytest) if the plugin reports anything
    report = json.loads((tmp_path / "admin-port-guard-report.json").read_text())
    assert report["findings"] == [] and report["policy"]["trustedPrefixLists"] == DECLARATION["admin-port-guard"]["trustedPrefixLists"]
    # AND the CLI judges the assembly under the policy it recorded, from any folder, with or without the same cdk.json
    (tmp_path / "cdk.json").write_text(json.dumps({"app": "python app.py", "context": DECLARATION}))
    assert guard_main([str(tmp_path), "--config", str(tmp_path / "cdk.json")]) == 0
    assert guard_main([str(tmp_path)]) == 0  # the working directory (the repository) declares nothing
    (tmp_path / "no-trust.json").write_text("{}")  # a policy that declares nothing: the prefix list is unknown
    capsys.readouterr()
    assert guard_main([str(tmp_path), "--config", str(tmp_path / "no-trust.json")]) == 2  # a mismatch, never resolved silently
    assert "was synthesized and judged under the policy" in capsys.readouterr().err
    assert guard_main([str(tmp_path), "--config", str(tmp_path / "manifest.json")]) == 2  # not a policy at all
    # AND without the recorded policy (a template outside any assembly) the declaration decides
    template = next(tmp_path.glob("*.template.json"))
    assert guard_main([str(template), "--config", str(tmp_path / "cdk.json")]) == 0
    assert guard_main([str(template), "--config", str(tmp_path / "no-trust.json")]) == 1


def test_without_the_declaration_the_construct_refuses_naming_it(tmp_path: Path) -> None:
    with pytest.raises(ValueError) as error:
        readme_app({}, tmp_path)
    assert f'"trustedPrefixLists": {{"{PREFIX_LIST}": "<who manages it, and why it is safe>"}}' in str(error.value)


def test_the_plugin_and_the_live_audit_read_the_same_trust_for_rules_written_by_hand() -> None:
    rule = {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "SourcePrefixListId": PREFIX_LIST}
    body = {"Resources": {"Sg": {"Type": "AWS::EC2::SecurityGroup", "Properties": {"GroupDescription": "x", "SecurityGroupIngress": [rule]}}}}
    trusted = GuardPolicy.from_mapping(DECLARATION["admin-port-guard"], "test")
    assert [f.rule_id for f in check_templates([Template("t", "t.json", body)])] == ["UnverifiableIngress"]
    assert check_templates([Template("t", "t.json", body)], trusted) == []
    from constructs_lib.guard import live

    group = {"GroupId": "sg-0123456789abcdef0", "GroupName": "bastion", "IpPermissions": [
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "PrefixListIds": [{"PrefixListId": PREFIX_LIST}]}]}
    assert [f.rule_id for f in check_templates([live.live_template([group])])] == ["UnverifiableIngress"]
    assert check_templates([live.live_template([group])], trusted) == []


def test_the_reports_show_the_trust_they_were_judged_under(tmp_path: Path, capsys) -> None:
    rule = {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "SourcePrefixListId": PREFIX_LIST}
    template = tmp_path / "t.json"
    template.write_text(json.dumps({"Resources": {"Sg": {"Type": "AWS::EC2::SecurityGroup", "Properties": {"SecurityGroupIngress": [rule]}}}}))
    trust = ["--trust-prefix-list", f"{PREFIX_LIST}=corporate VPN egress (NET-12)"]
    assert guard_main([str(template), *trust]) == 0
    assert f"TRUSTED prefix list {PREFIX_LIST} (defaults and command-line flags): corporate VPN egress (NET-12)" in capsys.readouterr().out
    assert guard_main([str(template), *trust, "--format", "json", "--output", str(tmp_path / "r.json")]) == 0
    assert json.loads((tmp_path / "r.json").read_text())["policy"]["trustedPrefixLists"] == {PREFIX_LIST: "corporate VPN egress (NET-12)"}
    assert guard_main([str(template), *trust, "--format", "sarif", "--output", str(tmp_path / "r.sarif")]) == 0
    run = json.loads((tmp_path / "r.sarif").read_text())["runs"][0]
    assert run["properties"]["policy"]["trustedPrefixLists"] == {PREFIX_LIST: "corporate VPN egress (NET-12)"}
