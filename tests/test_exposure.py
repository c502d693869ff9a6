"""The exposure report on small hand-written templates: internet, named CIDRs, security-group edges."""

from __future__ import annotations

import json
from pathlib import Path


from constructs_lib.exposure import main, reach_items, to_mermaid
from constructs_lib.policy import Template
from constructs_lib.policy.exposure import analyse


def sg(*ingress: dict) -> dict:
    return {"Type": "AWS::EC2::SecurityGroup", "Properties": {"GroupDescription": "g", "SecurityGroupIngress": list(ingress)}}


def tcp(port: int | tuple[int, int], **source: str) -> dict:
    low, high = port if isinstance(port, tuple) else (port, port)
    return {"IpProtocol": "tcp", "FromPort": low, "ToPort": high, **source}


def instance(*groups: str, path: str | None = None, interfaces: bool = False) -> dict:
    ids = [{"Fn::GetAtt": [group, "GroupId"]} for group in groups]
    properties = {"NetworkInterfaces": [{"DeviceIndex": "0", "GroupSet": ids}]} if interfaces else {"SecurityGroupIds": ids}
    resource = {"Type": "AWS::EC2::Instance", "Properties": properties}
    if path:
        resource["Metadata"] = {"aws:cdk:path": path}
    return resource


def template(resources: dict, parameters: dict | None = None) -> list[Template]:
    body = {"Resources": resources, **({"Parameters": parameters} if parameters else {})}
    return [Template("S", Path("S.template.json"), body)]


def tier() -> list[Template]:
    return template({
        "BastionSG": sg(tcp(22, CidrIp="203.0.113.10/32")),
        "WebSG": sg(tcp(80, CidrIp="0.0.0.0/0"), tcp(443, CidrIp="0.0.0.0/0"), tcp(80, CidrIpv6="::/0"), tcp(443, CidrIpv6="::/0")),
        "WebFromBastion": {"Type": "AWS::EC2::SecurityGroupIngress", "Properties": {
            "GroupId": {"Fn::GetAtt": ["WebSG", "GroupId"]}, "IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
            "SourceSecurityGroupId": {"Fn::GetAtt": ["BastionSG", "GroupId"]}}},
        "Bastion1234": instance("BastionSG", path="S/Bastion/Resource"),
        "Web5678": instance("WebSG", path="S/web/Resource", interfaces=True),
    })


def test_reference_like_tier_matches_the_expected_graph():
    report = analyse(tier())
    web, bastion = report.target("web"), report.target("Bastion")
    assert reach_items(web.internet[4]) == reach_items(web.internet[6]) == ["tcp/80", "tcp/443"]
    assert bastion.internet == {}
    assert [(c.cidr, c.scope, reach_items(c.beyond_internet)) for c in bastion.cidrs] == [
        ("203.0.113.10/32", "non-public", ["tcp/22"])
    ]
    assert [(g.name, reach_items(g.reach)) for g in web.security_groups] == [("Bastion", ["tcp/22"])]
    # 0.0.0.0/0 and ::/0 are the internet row: they add nothing beyond it
    assert [(c.cidr, c.scope, reach_items(c.beyond_internet)) for c in web.cidrs] == [("0.0.0.0/0", "world", []), ("::/0", "world", [])]
    mermaid = to_mermaid(report)
    assert 'internet -->|"80, 443"|' in mermaid
    lines = mermaid.splitlines()
    node = {line.split("[")[0].strip(): line for line in lines if '["' in line or '[/"' in line}
    ids = {label: key for key, line in node.items() for label in ("Bastion", "web", "203.0.113.10/32") if f'"{label}' in line}
    assert f'    {ids["203.0.113.10/32"]} -->|"22"| {ids["Bastion"]}' in lines
    assert f'    {ids["Bastion"]} -->|"22"| {ids["web"]}' in lines
    assert f'    internet -->|"80, 443"| {ids["web"]}' in lines


def test_predictions_per_source():
    web = analyse(tier()).target("web")
    assert web.allows("tcp", 80) and not web.allows("tcp", 22) and not web.allows("udp", 80)
    assert web.allows("tcp", 22, source="host", address="10.0.0.5", source_groups=["S:BastionSG"])
    assert not web.allows("tcp", 22, source="host", address="10.0.0.5")
    assert web.allows("tcp", 80, source="host", address="10.0.0.5")  # 0.0.0.0/0 contains every IPv4 address


def test_halves_of_the_internet_together_are_the_internet_but_one_half_is_not():
    report = analyse(template({
        "A": sg(tcp(22, CidrIp="0.0.0.0/1"), tcp(22, CidrIp="128.0.0.0/1"), tcp(3389, CidrIp="0.0.0.0/1")),
    }))
    target = report.target("A")
    assert target.kind == "security group" and not target.attached  # attached to nothing: listed on its own
    assert reach_items(target.internet[4]) == ["tcp/22"]
    half = next(c for c in target.cidrs if c.cidr == "0.0.0.0/1")
    assert half.scope == "public" and reach_items(half.beyond_internet) == ["tcp/3389"]


def test_port_ranges_are_split_where_the_sources_change():
    report = analyse(template({
        "A": sg(tcp((1000, 2000), CidrIp="0.0.0.0/0"), tcp((1500, 2500), CidrIp="0.0.0.0/1"),
                tcp((1500, 3000), CidrIp="128.0.0.0/1")),
    }))
    assert reach_items(report.target("A").internet[4]) == ["tcp/1000-2500"]


def test_all_traffic_and_non_port_protocols():
    report = analyse(template({
        "A": sg({"IpProtocol": "-1", "CidrIpv6": "::/0"}, {"IpProtocol": "icmp", "FromPort": -1, "ToPort": -1, "CidrIp": "0.0.0.0/0"}),
    }))
    target = report.target("A")
    assert reach_items(target.internet[6]) == ["all traffic"]
    assert reach_items(target.internet[4]) == ["icmp"]
    assert target.allows("udp", 53) and target.allows("tcp", 22)


def test_private_and_world_cidrs_are_classified():
    report = analyse(template({"A": sg(tcp(22, CidrIp="10.0.0.0/8"), tcp(22, CidrIp="8.8.8.0/24"), tcp(80, CidrIp="0.0.0.0/0"))}))
    scopes = {c.cidr: c.scope for c in report.target("A").cidrs}
    assert scopes == {"10.0.0.0/8": "non-public", "8.8.8.0/24": "public", "0.0.0.0/0": "world"}


def test_unknown_sources_are_listed_not_guessed():
    report = analyse(template(
        {"A": sg(tcp(22, CidrIp={"Ref": "Who"}))}, parameters={"Who": {"Type": "String"}}
    ))
    target = report.target("A")
    assert target.internet == {} and report.notes == []
    assert target.uncertain == [
        "A.SecurityGroupIngress[0]: tcp 22 from CidrIp unknown at synth time: parameter Who has no Default and no AllowedValues"
    ]


def test_markdown_and_json_cli(tmp_path):
    path = tmp_path / "t.json"
    path.write_text(json.dumps(tier()[0].body))
    assert main([str(path), "--format", "json", "--output", str(tmp_path / "r.json")]) == 0
    data = json.loads((tmp_path / "r.json").read_text())
    web = next(t for t in data["targets"] if t["name"] == "web")
    assert {"protocol": "tcp", "from_port": 80, "to_port": 80} in web["internet"]["ipv4"]
    assert web["from_security_groups"][0]["name"] == "Bastion"
    assert main([str(path), "--output", str(tmp_path / "r.md")]) == 0
    markdown = (tmp_path / "r.md").read_text()
    assert "| **web** |" in markdown and "```mermaid\ngraph LR" in markdown
    assert 'internet -->|"80, 443"|' in markdown


def test_cli_reports_unreadable_input(tmp_path, capsys):
    assert main([str(tmp_path / "missing.json")]) == 2
    assert "does not exist" in capsys.readouterr().err
