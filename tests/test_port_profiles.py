"""Port profiles: the policy's admin ports may name a profile (RULES.md, *Port profiles*).

GIVEN the profiles ``default``, ``cis`` and ``securityhub-ec2.19``, alone, in a list, or with more ports
WHEN  each front end reads them: the core, the CLI (``--admin-ports``, which the Action passes on), the
      plugin, the Config rule's construct and handler, and the live audit
THEN  each checks exactly the profile's ports (and the explicit ones), and messages name each port's service.
"""

from __future__ import annotations

import json

import pytest

from constructs_lib.guard.__main__ import main as guard_main
from constructs_lib.policy import GuardPolicy, PolicyError, check_templates
from constructs_lib.policy.ports import PROFILES, parse_admin_ports
from spec import ADMIN_PORTS

#: The ports AWS Security Hub control EC2.19 lists (its documentation, cited in RULES.md), written out again here.
EC2_19 = (20, 21, 22, 23, 25, 110, 135, 143, 445, 1433, 1434, 3000, 3306, 3389, 4333, 5000, 5432, 5500, 5601, 8080, 8088,
          8888, 9200, 9300)
ALL_TRAFFIC = {"Resources": {"Open": {"Type": "AWS::EC2::SecurityGroup", "Properties": {
    "GroupDescription": "everything from anywhere", "SecurityGroupIngress": [{"IpProtocol": "-1", "CidrIp": "0.0.0.0/0"}]}}}}


@pytest.mark.parametrize(("declared", "ports"), [
    ("default", ADMIN_PORTS),
    ("cis", (22, 3389)),
    ("securityhub-ec2.19", EC2_19),
    (["cis", 8443], (22, 3389, 8443)),
    (["cis", "default"], ADMIN_PORTS),
    (["securityhub-ec2.19", 5900, 22], tuple(sorted({*EC2_19, 5900}))),
])
def test_a_profile_is_its_ports_and_combines_with_others(declared, ports) -> None:
    policy = GuardPolicy.from_mapping({"adminPorts": declared}, "cdk.json")
    assert sorted(policy.admin_ports) == list(ports)
    assert policy.to_mapping()["adminPorts"] == list(ports)  # what the plugin records and the Config rule receives


def test_the_profiles_are_the_documented_ones() -> None:
    assert PROFILES["default"] == ADMIN_PORTS and PROFILES["cis"] == (22, 3389) and PROFILES["securityhub-ec2.19"] == EC2_19


def test_an_unknown_profile_is_refused() -> None:
    with pytest.raises(PolicyError, match="admin port profile 'nist' is unknown; known: default, cis, securityhub-ec2.19"):
        GuardPolicy.from_mapping({"adminPorts": ["nist", 22]}, "cdk.json")
    with pytest.raises(ValueError, match="not a TCP port number 1-65535 or a profile"):
        parse_admin_ports("cis,ssh")


def test_messages_name_each_ports_service() -> None:
    from constructs_lib.policy import Template

    findings = check_templates([Template("t", "t.json", ALL_TRAFFIC)], GuardPolicy(admin_ports="securityhub-ec2.19"))
    assert sorted(finding.port for finding in findings) == list(EC2_19)
    by_port = {finding.port: finding.message for finding in findings}
    assert "tcp/3306 (MySQL)" in by_port[3306] and "tcp/9200 (Elasticsearch)" in by_port[9200] and "tcp/445 (SMB)" in by_port[445]


def test_the_cli_and_so_the_action_take_profiles(tmp_path) -> None:
    template = tmp_path / "t.json"
    template.write_text(json.dumps(ALL_TRAFFIC))
    report = tmp_path / "r.json"
    assert guard_main([str(template), "--admin-ports", "cis,8443", "--format", "json", "--output", str(report)]) == 1
    assert sorted(record["port"] for record in json.loads(report.read_text())["findings"]) == [22, 3389, 8443]


def test_the_plugin_and_the_config_rule_take_profiles_from_the_context_or_their_arguments() -> None:
    import aws_cdk as cdk

    from constructs_lib import AdminPortGuard, AdminPortGuardConfigRule

    app = cdk.App(context={"admin-port-guard": {"adminPorts": "cis"}})
    assert sorted(AdminPortGuard(app).policy.admin_ports) == [22, 3389]
    assert sorted(AdminPortGuard(app, admin_ports=["securityhub-ec2.19"]).policy.admin_ports) == list(EC2_19)
    stack = cdk.Stack(app, "Rule")
    rule = AdminPortGuardConfigRule(stack, "Guard", admin_ports=["cis", 5900])
    parameters = stack.resolve(rule.config_rule.input_parameters)
    assert json.loads(parameters["policy"])["adminPorts"] == [22, 3389, 5900]


def test_the_config_rule_handler_and_the_live_audit_take_profiles() -> None:
    from constructs_lib.config_rule.handler import rule_policy
    from constructs_lib.guard.live import live_template

    assert sorted(rule_policy(json.dumps({"policy": json.dumps({"adminPorts": "securityhub-ec2.19"})})).admin_ports) == list(EC2_19)
    group = {"GroupId": "sg-0123456789abcdef0", "GroupName": "db", "IpPermissions": [
        {"IpProtocol": "tcp", "FromPort": 3306, "ToPort": 3306, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]}
    assert check_templates([live_template([group])]) == []  # MySQL is not a default admin port
    (finding,) = check_templates([live_template([group])], GuardPolicy(admin_ports="securityhub-ec2.19"))
    assert finding.check_name == "WorldOpenAdminPort[3306]" and "(MySQL)" in finding.message
