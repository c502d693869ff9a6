"""The live audit (``constructs_lib.guard.live`` and ``--live``) against moto in-process (``moto.mock_aws``).

Each case creates real-looking security groups through the EC2 API and checks that the live audit reports
exactly what the core reports for the equivalent CloudFormation template at synth time (same rule ids,
same ports), and that findings name the group by id. moto answers every describe call in one page, so
pagination is tested on a real boto3 client whose answers come in pages from botocore's ``Stubber``.
boto3 and moto are in requirements-dev.txt (``make test`` installs them): without them these tests fail.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from needs import needs

boto3 = needs("boto3", "the live-audit tests")
moto = needs("moto", "the live-audit tests")
from botocore.stub import Stubber  # noqa: E402

from constructs_lib.guard import __main__ as guard_cli
from constructs_lib.guard import live
from constructs_lib.policy import Template, check_templates

ROOT = Path(__file__).resolve().parent.parent
REGION = "us-east-1"


@pytest.fixture
def ec2(monkeypatch: pytest.MonkeyPatch):
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with moto.mock_aws():
        client = boto3.client("ec2", region_name=REGION)
        vpc_id = client.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        client.vpc_id = vpc_id  # type: ignore[attr-defined]
        yield client


def _group(ec2, name: str) -> str:
    return ec2.create_security_group(GroupName=name, Description=name, VpcId=ec2.vpc_id)["GroupId"]


def _synth_findings(ingress: list[dict]) -> set[tuple[str, int | None]]:
    """What the core finds at synth time for one group with ``ingress`` (plus the resources it references)."""
    resources: dict = {
        "Group": {"Type": "AWS::EC2::SecurityGroup", "Properties": {"GroupDescription": "g", "SecurityGroupIngress": ingress}},
        "Other": {"Type": "AWS::EC2::SecurityGroup", "Properties": {"GroupDescription": "o"}},
        "Admins": {
            "Type": "AWS::EC2::PrefixList",
            "Properties": {"PrefixListName": "admins", "AddressFamily": "IPv4", "MaxEntries": 2,
                           "Entries": [{"Cidr": "0.0.0.0/0"}]},
        },
    }
    findings = check_templates([Template("synth", Path("synth.json"), {"Resources": resources})])
    return {(f.rule_id, f.port) for f in findings}


def _live_findings(ec2) -> tuple[set[tuple[str, int | None]], list]:
    findings = live.audit(region=REGION, client=ec2)
    return {(f.rule_id, f.port) for f in findings}, findings


def test_conversion_maps_every_source_kind(ec2) -> None:
    group = _group(ec2, "web")
    other = _group(ec2, "bastion")
    prefix_list = ec2.create_managed_prefix_list(
        PrefixListName="office", AddressFamily="IPv4", MaxEntries=2, Entries=[{"Cidr": "198.51.100.0/24"}]
    )["PrefixList"]["PrefixListId"]
    ec2.authorize_security_group_ingress(
        GroupId=group,
        IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "0.0.0.0/0", "Description": "https"}],
             "Ipv6Ranges": [{"CidrIpv6": "::/0"}]},
            {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "UserIdGroupPairs": [{"GroupId": other}],
             "PrefixListIds": [{"PrefixListId": prefix_list}]},
        ],
    )
    groups = live.read_security_groups(ec2)
    body = live.template_body(groups, live.read_prefix_lists(ec2, live.referenced_prefix_lists(groups)))
    web = next(r for logical, r in body["Resources"].items() if logical.startswith(f"{group} ("))
    assert web["Type"] == "AWS::EC2::SecurityGroup"
    ingress = web["Properties"]["SecurityGroupIngress"]
    sources = {next(k for k in e if k.startswith(("Cidr", "Source"))): e for e in ingress}
    assert sources["CidrIp"] == {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": "0.0.0.0/0", "Description": "https"}
    assert sources["CidrIpv6"]["CidrIpv6"] == "::/0"
    assert sources["SourceSecurityGroupId"]["SourceSecurityGroupId"] == other
    reference = sources["SourcePrefixListId"]["SourcePrefixListId"]
    assert reference == {"Ref": f"{prefix_list} (office)"}
    assert body["Resources"][reference["Ref"]]["Properties"]["Entries"] == [{"Cidr": "198.51.100.0/24"}]
    assert live.audit(region=REGION, client=ec2) == []


@pytest.mark.parametrize(
    ("name", "permissions", "ingress"),
    [
        (
            "ipv6-world-ssh",
            [{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "Ipv6Ranges": [{"CidrIpv6": "::/0"}]}],
            [{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIpv6": "::/0"}],
        ),
        (
            "all-traffic-world",
            [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
            [{"IpProtocol": "-1", "CidrIp": "0.0.0.0/0"}],
        ),
        (
            "port-range-split-halves",
            [{"IpProtocol": "tcp", "FromPort": 0, "ToPort": 4000,
              "IpRanges": [{"CidrIp": "0.0.0.0/1"}, {"CidrIp": "128.0.0.0/1"}]}],
            [{"IpProtocol": "tcp", "FromPort": 0, "ToPort": 4000, "CidrIp": "0.0.0.0/1"},
             {"IpProtocol": "tcp", "FromPort": 0, "ToPort": 4000, "CidrIp": "128.0.0.0/1"}],
        ),
        (
            "security-group-pair-only",
            [{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "UserIdGroupPairs": [{"GroupId": "OTHER"}]}],
            [{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "SourceSecurityGroupId": {"Fn::GetAtt": ["Other", "GroupId"]}}],
        ),
        (
            "prefix-list-of-the-world",
            [{"IpProtocol": "tcp", "FromPort": 3389, "ToPort": 3389, "PrefixListIds": [{"PrefixListId": "PL"}]}],
            [{"IpProtocol": "tcp", "FromPort": 3389, "ToPort": 3389, "SourcePrefixListId": {"Ref": "Admins"}}],
        ),
        (
            "admin-cidr-and-https",
            [{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "203.0.113.10/32"}]},
             {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
            [{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIp": "203.0.113.10/32"},
             {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": "0.0.0.0/0"}],
        ),
        (
            "icmp-world",
            [{"IpProtocol": "icmp", "FromPort": -1, "ToPort": -1, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
            [{"IpProtocol": "icmp", "FromPort": -1, "ToPort": -1, "CidrIp": "0.0.0.0/0"}],
        ),
    ],
)
def test_live_findings_equal_synth_findings(ec2, name: str, permissions: list[dict], ingress: list[dict]) -> None:
    group = _group(ec2, name)
    other = _group(ec2, f"{name}-other")
    prefix_list = ec2.create_managed_prefix_list(
        PrefixListName="admins", AddressFamily="IPv4", MaxEntries=2, Entries=[{"Cidr": "0.0.0.0/0"}]
    )["PrefixList"]["PrefixListId"]
    text = json.dumps(permissions).replace('"OTHER"', json.dumps(other)).replace('"PL"', json.dumps(prefix_list))
    ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=json.loads(text))

    live_set, findings = _live_findings(ec2)
    assert live_set == _synth_findings(ingress)
    for finding in findings:
        assert finding.location.logical_id == f"{group} ({name})"
        assert finding.location.template == f"live:{REGION}"
        if finding.rule_id == "WorldOpenAdminPort":
            assert group in finding.message


def test_unreadable_prefix_list_is_unverifiable_like_an_external_one_at_synth(ec2) -> None:
    group = _group(ec2, "pl")
    ingress = [{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "PrefixListIds": [{"PrefixListId": "pl-0123456789abcdef0"}]}]
    groups = [{"GroupId": group, "GroupName": "pl", "IpPermissions": ingress}]
    findings = check_templates([live.live_template(groups, {}, REGION)])
    synth = _synth_findings([{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "SourcePrefixListId": "pl-0123456789abcdef0"}])
    assert {(f.rule_id, f.port) for f in findings} == synth == {("UnverifiableIngress", 22)}


PREFIX_LIST = "pl-0123456789abcdef0"


@pytest.fixture
def paged_ec2(monkeypatch: pytest.MonkeyPatch):
    """A real boto3 EC2 client answered in pages by botocore's Stubber (nothing is sent), and the parameters
    of every request it made."""
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    client = boto3.client("ec2", region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing")
    stubber = Stubber(client)
    ssh_from_prefix_list = {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "PrefixListIds": [{"PrefixListId": PREFIX_LIST}]}
    for operation, response in [
        ("describe_security_groups", {"SecurityGroups": [{"GroupId": "sg-1", "GroupName": "first"}], "NextToken": "groups-2"}),
        ("describe_security_groups", {"SecurityGroups": [{"GroupId": "sg-2", "GroupName": "second",
                                                          "IpPermissions": [ssh_from_prefix_list]}]}),
        ("describe_managed_prefix_lists", {"PrefixLists": [{"PrefixListId": PREFIX_LIST, "PrefixListName": "admins"}]}),
        ("get_managed_prefix_list_entries", {"Entries": [{"Cidr": "0.0.0.0/1"}], "NextToken": "entries-2"}),
        ("get_managed_prefix_list_entries", {"Entries": [{"Cidr": "128.0.0.0/1"}]}),
    ]:
        stubber.add_response(operation, response)
    requests: list[tuple[str, str | None]] = []
    client.meta.events.register("before-parameter-build.ec2", lambda params, model, **_: requests.append((model.name, params.get("NextToken"))))
    with stubber:
        yield client, requests, stubber
        stubber.assert_no_pending_responses()


def test_every_page_of_groups_and_of_prefix_list_entries_is_read(paged_ec2) -> None:
    client, requests, _ = paged_ec2
    groups = live.read_security_groups(client)
    assert [group["GroupId"] for group in groups] == ["sg-1", "sg-2"]
    assert live.read_prefix_lists(client, live.referenced_prefix_lists(groups)) == {PREFIX_LIST: ("admins", ["0.0.0.0/1", "128.0.0.0/1"])}
    assert [token for operation, token in requests if operation != "DescribeManagedPrefixLists"] == [None, "groups-2", None, "entries-2"]


def test_audit_judges_what_only_the_second_pages_hold(paged_ec2) -> None:
    # The group is on the second page of groups, and the second half of IPv4 on the second page of entries.
    client, _, stubber = paged_ec2
    stubber.add_response("describe_network_interfaces", {"NetworkInterfaces": []})
    findings = live.audit(client=client)
    assert [(f.rule_id, f.port, f.location.logical_id) for f in findings] == [("WorldOpenAdminPort", 22, "sg-2 (second)")]


def test_cli_live_exit_codes_and_formats(ec2, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    group = _group(ec2, "drifted")
    assert guard_cli.main(["--live", "--region", REGION]) == 0
    assert "No findings." in capsys.readouterr().out

    ec2.authorize_security_group_ingress(
        GroupId=group, IpPermissions=[{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]
    )
    assert guard_cli.main(["--live", "--region", REGION, "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert [(r["rule"], r["logicalId"], r["port"]) for r in report["findings"]] == [
        ("WorldOpenAdminPort", f"{group} (drifted)", 22)
    ]
    sarif = tmp_path / "live.sarif"
    assert guard_cli.main(["--live", "--region", REGION, "--format", "sarif", "--output", str(sarif)]) == 1
    assert json.loads(sarif.read_text())["runs"][0]["results"][0]["ruleId"] == "WorldOpenAdminPort"
    assert guard_cli.main(["--live", "--region", REGION, "--admin-ports", "3389"]) == 0


@pytest.mark.parametrize(
    "arguments",
    [["--live", "cdk.out"], [], ["cdk.out", "--region", REGION], ["cdk.out", "--endpoint-url", "http://127.0.0.1:1"]],
)
def test_cli_usage_errors(arguments: list[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        guard_cli.main(arguments)
    assert exit_info.value.code == 2


def test_cli_live_unreachable_endpoint_is_exit_2() -> None:
    command = [sys.executable, "-m", "constructs_lib.guard", "--live", "--region", REGION, "--endpoint-url", "http://127.0.0.1:9"]
    env = {"PATH": "/usr/bin:/bin", "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "AWS_MAX_ATTEMPTS": "1",
           "AWS_EC2_METADATA_DISABLED": "true"}
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "cannot read security groups" in result.stderr


def test_cli_without_live_imports_neither_boto3_nor_cdk() -> None:
    code = (
        "import sys; from constructs_lib.guard import __main__ as m; "
        "bad = [n for n in ('boto3', 'botocore', 'aws_cdk', 'jsii') if n in sys.modules]; print(bad); sys.exit(bool(bad))"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_two_groups_on_one_network_interface_are_judged_together(ec2) -> None:
    # GIVEN two groups that each admit half of IPv4 to SSH, on one network interface
    low, high = _group(ec2, "low"), _group(ec2, "high")
    for group, cidr in ((low, "0.0.0.0/1"), (high, "128.0.0.0/1")):
        ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": cidr}]}])
    subnet = ec2.create_subnet(VpcId=ec2.vpc_id, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    interface = ec2.create_network_interface(SubnetId=subnet, Groups=[low, high])["NetworkInterface"]["NetworkInterfaceId"]
    # WHEN the live audit reads the region THEN each group is too broad, and the interface is open to the world
    findings = {(f.rule_id, f.location.logical_id, f.port) for f in live.audit(region=REGION, client=ec2)}
    assert findings == {("BroadAdminSource", f"{low} (low)", 22), ("BroadAdminSource", f"{high} (high)", 22),
                        ("WorldOpenAdminPort", interface, 22)}
