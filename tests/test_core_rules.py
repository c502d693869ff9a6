"""The findings themselves (RULES.md, *Rules*): which rule, where it is anchored, and what its message says.

GIVEN small templates whose reach is worked out by hand from RULES.md and ``tests/spec.py``
WHEN  the core checks them (``check_templates``)
THEN  each finding names the group or interface, the port and service, the sources, the rules that admit
      them and how much of the internet that is, exactly as documented.
"""

from __future__ import annotations

import pytest

from constructs_lib.policy import GuardPolicy, Location, Template, Thresholds, check_templates
from constructs_lib.policy.readers import LATE, READERS, reads
from guard_cases import group, ingress
from spec import public_blocks

SSH = {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22}
PL = "pl-0123456789abcdef0"
WHOLE_IPV4_PUBLIC = sum(block.num_addresses for block in public_blocks(4))


def instance(*groups: str) -> dict:
    return {"Type": "AWS::EC2::Instance", "Properties": {"SecurityGroupIds": [{"Ref": name} for name in groups]}}


def check(resources: dict, policy: GuardPolicy | None = None, **sections: object) -> list:
    return check_templates([Template("S", "S.json", {"Resources": resources, **sections})], policy)


def where(logical_id: str) -> Location:
    return Location("S", logical_id, None, "S.json")


def test_a_world_open_port_names_group_port_sources_and_rules() -> None:
    [finding] = check({"Sg": group({**SSH, "CidrIp": "0.0.0.0/0"}, {**SSH, "CidrIp": "10.0.0.0/8"}, {**SSH, "CidrIpv6": "2600::/64"})})
    assert finding == (
        where("Sg"), finding.rule,
        "security group Sg allows tcp/22 (SSH) from the whole IPv4 internet via 0.0.0.0/0 (rule Sg.SecurityGroupIngress[0])",
        22, "tcp", ("0.0.0.0/0",), ("Sg.SecurityGroupIngress[0]",), None, None, None)
    assert (finding.rule_id, finding.check_name, finding.rule_name) == (
        "WorldOpenAdminPort", "WorldOpenAdminPort[22]", "AdminPortGuard-WorldOpenAdminPort[22]")
    assert finding.fix == finding.rule.fix


def test_both_families_and_all_protocols_are_one_finding_per_port() -> None:
    findings = check({"Sg": group({"IpProtocol": "-1", "CidrIpv6": "::/0"}, {**SSH, "CidrIp": "0.0.0.0/0"})},
                     GuardPolicy(admin_ports={22: "SSH", 2222: None}))
    assert [(f.port, f.message, f.protocol, f.sources) for f in findings] == [
        (22, "security group Sg allows tcp/22 (SSH) from the whole IPv4 and IPv6 internet via 0.0.0.0/0, ::/0 "
             "(rules Sg.SecurityGroupIngress[0]; Sg.SecurityGroupIngress[1])", "all,tcp", ("0.0.0.0/0", "::/0")),
        (2222, "security group Sg allows tcp/2222 (admin) from the whole IPv6 internet via ::/0 (rule Sg.SecurityGroupIngress[0])",
         "all", ("::/0",)),
    ]


def test_a_broad_source_says_how_many_public_addresses_against_the_limit() -> None:
    [ipv4] = check({"Sg": group({**SSH, "CidrIp": "0.0.0.0/1"})})
    # RULES.md: 0.0.0.0/1 is 2,092,957,696 public addresses, 57 % of the public IPv4 internet
    assert round(2_092_957_696 * 100 / WHOLE_IPV4_PUBLIC) == 57
    assert (ipv4.rule_id, ipv4.message) == ("BroadAdminSource", "security group Sg allows tcp/22 (SSH) from 0.0.0.0/1: 2,092,957,696 public "
                                            "IPv4 addresses (57 % of them), more than the limit of 65,536 addresses (a /16) (rule Sg.SecurityGroupIngress[0])")
    [ipv6] = check({"Sg": group({**SSH, "CidrIpv6": "2001:db8::/31"}, {**SSH, "CidrIpv6": "2600::/47"}, {**SSH, "CidrIpv6": "2700::/48"})})
    assert ipv6.message == ("security group Sg allows tcp/22 (SSH) from 2001:db8::/31, 2600::/47, 2700::/48: public IPv6 space larger than "
                            "a /32, more than the limit of a /48 (rules Sg.SecurityGroupIngress[0]; Sg.SecurityGroupIngress[1]; "
                            "Sg.SecurityGroupIngress[2])")
    [both] = check({"Sg": group({**SSH, "CidrIp": "8.0.0.0/7"}, {**SSH, "CidrIpv6": "2600::/16"})}, GuardPolicy(thresholds=Thresholds(1000, 20)))
    assert both.message == ("security group Sg allows tcp/22 (SSH) from 2600::/16, 8.0.0.0/7: 33,554,432 public IPv4 addresses (0.91 % of them), "
                            "more than the limit of 1,000 addresses; public IPv6 space the size of a /16, more than the limit of a /20 "
                            "(rules Sg.SecurityGroupIngress[0]; Sg.SecurityGroupIngress[1])")
    assert round(33_554_432 * 10_000 / WHOLE_IPV4_PUBLIC) == 91 and round(131_072 * 1_000_000 / WHOLE_IPV4_PUBLIC) == 35


def test_groups_the_templates_only_refer_to_are_named_and_anchored_at_a_rule() -> None:
    findings = check({
        "Z": ingress("sg-0123456789abcdef0", {**SSH, "CidrIp": "128.0.0.0/1"}),
        "A": ingress("sg-0123456789abcdef0", {**SSH, "CidrIp": "0.0.0.0/1"}),
        "Named": ingress("web", {**SSH, "CidrIp": "0.0.0.0/0"}, "GroupName"),
        "Imported": ingress({"Fn::ImportValue": "net-sg"}, {**SSH, "CidrIp": "0.0.0.0/0"}),
    })
    assert [(f.location.logical_id, f.message) for f in findings] == [
        ("A", "security group sg-0123456789abcdef0 (not defined in the templates) allows tcp/22 (SSH) from the whole IPv4 internet "
              "via 0.0.0.0/1, 128.0.0.0/1 (rules A; Z)"),
        ("Imported", "the security group named by GroupId of Imported (Fn::ImportValue 'net-sg' comes from a stack outside this input) "
                     "allows tcp/22 (SSH) from the whole IPv4 internet via 0.0.0.0/0 (rule Imported)"),
        ("Named", "security group named 'web' (not defined in the templates) allows tcp/22 (SSH) from the whole IPv4 internet via 0.0.0.0/0 (rule Named)"),
    ]


def test_a_named_group_of_the_templates_gets_the_rules_on_its_name() -> None:
    [finding] = check({"Web": group(GroupName="web"), "Open": ingress("web", {**SSH, "CidrIp": "0.0.0.0/0"}, "GroupName"),
                       "Other": ingress("sg-1", {**SSH, "CidrIp": "10.0.0.0/8"}, "GroupName")})
    assert (finding.location, finding.message) == (
        where("Web"), "security group Web allows tcp/22 (SSH) from the whole IPv4 internet via 0.0.0.0/0 (rule Open)")


def test_check_paths_applies_the_policy_given(tmp_path) -> None:
    import json

    from constructs_lib.policy import check_paths

    path = tmp_path / "t.json"
    path.write_text(json.dumps({"Resources": {"Sg": group({**SSH, "CidrIp": "0.0.0.0/1"})}}))
    assert [f.rule_id for f in check_paths([path])] == ["BroadAdminSource"]
    assert check_paths([path], GuardPolicy(thresholds=None)) == []


def test_groups_named_with_colons_keep_their_whole_name() -> None:
    findings = check({"A": group({**SSH, "CidrIp": "0.0.0.0/1"}), "Open": ingress("team:web", {**SSH, "CidrIp": "128.0.0.0/1"}, "GroupName"),
                      "Host": {"Type": "AWS::EC2::Instance", "Properties": {"SecurityGroupIds": [{"Ref": "A"}], "SecurityGroups": ["team:web"]}}})
    assert [f.message.split(" allows ")[0] for f in findings if f.rule_id == "WorldOpenAdminPort"] == [
        "instance Host (security groups A and team:web on one network interface)"]


def test_an_interface_is_reported_only_for_what_no_group_reports_alone() -> None:
    findings = check({
        "Low": group({**SSH, "CidrIp": "0.0.0.0/1"}), "High": group({**SSH, "CidrIp": "128.0.0.0/1"}),
        "A": group({**SSH, "CidrIp": "8.8.0.0/16"}), "B": group({**SSH, "CidrIp": "9.9.0.0/16"}), "World": group({**SSH, "CidrIp": "0.0.0.0/0"}),
        "Host": instance("Low", "High"), "Pair": instance("A", "B"), "Covered": instance("World", "Low"), "Broad": instance("Low", "A"),
        "Foreign": {"Type": "AWS::EC2::Instance", "Properties": {"SecurityGroupIds": ["sg-0123456789abcdef0", {"Ref": "A"}]}},
        "Open": ingress("sg-0123456789abcdef0", {**SSH, "CidrIp": "9.9.0.0/16"}),
    })
    united = "; no group alone does, but EC2 unites the rules of the groups on an interface"
    assert [(f.location.logical_id, f.rule_id, f.message) for f in findings if f.location.logical_id in ("Host", "Pair", "Foreign")] == [
        ("Foreign", "BroadAdminSource", "instance Foreign (security groups A and sg-0123456789abcdef0 on one network interface) allows tcp/22 (SSH) "
                                        "from 8.8.0.0/16, 9.9.0.0/16: 131,072 public IPv4 addresses (0.0035 % of them), more than the limit of "
                                        f"65,536 addresses (a /16) (rules A.SecurityGroupIngress[0]; Open){united}"),
        ("Host", "WorldOpenAdminPort", "instance Host (security groups High and Low on one network interface) allows tcp/22 (SSH) from the whole "
                                       "IPv4 internet via 0.0.0.0/1, 128.0.0.0/1 (rules High.SecurityGroupIngress[0]; Low.SecurityGroupIngress[0])"
                                       + united),
        ("Pair", "BroadAdminSource", "instance Pair (security groups A and B on one network interface) allows tcp/22 (SSH) from 8.8.0.0/16, "
                                     "9.9.0.0/16: 131,072 public IPv4 addresses (0.0035 % of them), more than the limit of 65,536 addresses (a /16) "
                                     f"(rules A.SecurityGroupIngress[0]; B.SecurityGroupIngress[0]){united}"),
    ]
    assert not [f for f in findings if f.location.logical_id in ("Covered", "Broad")]
    assert [f.advice for f in findings if f.location.logical_id == "Host"] == [None]


def test_an_interface_is_judged_port_by_port_on_certain_rules_only() -> None:
    rdp = {"IpProtocol": "tcp", "FromPort": 3389, "ToPort": 3389}
    findings = check({"Low": group({**SSH, "CidrIp": "0.0.0.0/0"}, {**rdp, "CidrIp": "0.0.0.0/1"}), "High": group({**rdp, "CidrIp": "128.0.0.0/1"}),
                      "Host": instance("Low", "High")})
    assert [(f.location.logical_id, f.rule_id, f.port) for f in findings] == [
        ("High", "BroadAdminSource", 3389), ("Host", "WorldOpenAdminPort", 3389), ("Low", "BroadAdminSource", 3389), ("Low", "WorldOpenAdminPort", 22)]
    uncertain = check({"Low": group({**SSH, "CidrIp": "0.0.0.0/1"}), "High": group({"IpProtocol": "tcp", "FromPort": {"Ref": "P"}, "ToPort": 22,
                                                                            "CidrIp": "128.0.0.0/1"}), "Host": instance("Low", "High")},
                      GuardPolicy(admin_ports=[22]), Parameters={"P": {"Type": "Number"}})
    assert [(f.location.logical_id, f.rule_id) for f in uncertain] == [("High", "UnverifiableIngress"), ("Low", "BroadAdminSource")]


def test_unknown_sources_and_ports_are_unverifiable_on_the_ports_they_may_open() -> None:
    findings = check({
        "Sg": group({"IpProtocol": "tcp", "FromPort": 20, "ToPort": 25, "CidrIp": {"Fn::ImportValue": "AdminCidr"}},
                 {**SSH, "SourcePrefixListId": PL},
                 {"IpProtocol": "tcp", "FromPort": {"Ref": "Port"}, "ToPort": {"Ref": "Port"}, "CidrIpv6": "::/0"}),
    }, Parameters={"Port": {"Type": "Number"}})
    assert [(f.rule_id, f.port, f.message) for f in findings] == [
        ("UnverifiableIngress", 22, "Sg.SecurityGroupIngress[0] may open admin port 22 (SSH), 23 (Telnet) to the internet: CidrIp unknown at "
                                    "synth time: Fn::ImportValue 'AdminCidr' comes from a stack outside this input"),
        ("UnverifiableIngress", 22, f"Sg.SecurityGroupIngress[1] may open admin port 22 (SSH) to the internet: the entries of prefix list {PL} "
                                    "are managed outside the templates; if it holds only your admin networks, declare it trusted "
                                    f"(admin-port-guard.trustedPrefixLists in cdk.json, or --trust-prefix-list {PL}=REASON)"),
        ("UnverifiableIngress", 22, "Sg.SecurityGroupIngress[2] may open admin port 22 (SSH), 23 (Telnet), 3389 (RDP), 5900 (VNC), "
                                    "5985 (WinRM over HTTP), 5986 (WinRM over HTTPS) to the internet: its protocol or ports are unknown at "
                                    "synth time (source ::/0)"),
    ]
    assert findings[0].check_name == "UnverifiableIngress" and findings[0].rule.per_port is False
    either_half = check({"Sg": group({"IpProtocol": "tcp", "FromPort": {"Ref": "Port"}, "ToPort": 22, "CidrIp": {"Ref": "Half"}})},
                        GuardPolicy(admin_ports=[22]),
                        Parameters={"Port": {"Type": "Number"}, "Half": {"Type": "String", "AllowedValues": ["0.0.0.0/1", "128.0.0.0/1"]}})
    assert [f.message for f in either_half] == ["Sg.SecurityGroupIngress[0] may open admin port 22 (SSH) to the internet: its protocol or "
                                                "ports are unknown at synth time (sources 0.0.0.0/1, 128.0.0.0/1)"]
    trusted = GuardPolicy(trusted_prefix_lists={PL: "corporate VPN egress (NET-12)"})
    assert [f.location.logical_id for f in check({"Sg": group({**SSH, "SourcePrefixListId": PL})}, trusted)] == []


@pytest.mark.parametrize(("certain", "uncertain", "expected"), [
    ("128.0.0.0/1", "0.0.0.0/1", {("BroadAdminSource", 22), ("UnverifiableIngress", 22)}),  # together they could be the world
    ("128.0.0.0/1!", "0.0.0.0/1", {("BroadAdminSource", 22), ("UnverifiableIngress", 22)}),  # the same, the certain rule first
    (None, "0.0.0.0/1", {("UnverifiableIngress", 22)}),  # at its widest too broad, and nothing else is
    ("0.0.0.0/1", "64.0.0.0/2", {("BroadAdminSource", 22)}),  # already too broad, and it cannot make it the world
    (None, "8.8.8.0/24", set()),  # at its widest a public /24: within the limit
    ("0.0.0.0/0", "8.8.8.0/24", {("WorldOpenAdminPort", 22)}),  # nothing to add to the world
])
def test_an_uncertain_rule_matters_only_if_at_its_widest_it_changes_the_verdict(certain, uncertain, expected) -> None:
    rules = [{"IpProtocol": "tcp", "FromPort": {"Ref": "Port"}, "ToPort": 22, "CidrIp": uncertain}]
    if certain:
        first = certain.endswith("!")
        rules.insert(0 if first else 1, {**SSH, "CidrIp": certain.rstrip("!")})
    findings = check({"Sg": group(*rules)}, GuardPolicy(admin_ports=[22]), Parameters={"Port": {"Type": "Number"}})
    assert {(f.rule_id, f.port) for f in findings} == expected


def test_service_groups_say_what_opened_the_port_and_their_own_fix() -> None:
    nodes = {"Type": "AWS::EKS::Nodegroup", "Properties": {"RemoteAccess": {"Ec2SshKey": "ops"}}}
    [finding] = check({"Nodes": nodes})
    assert finding.message == ("EKS node group remote access Nodes allows tcp/22 (SSH) from the whole IPv4 internet via 0.0.0.0/0 "
                               "(rule RemoteAccess.Ec2SshKey without RemoteAccess.SourceSecurityGroups)")
    assert finding.advice is not None and finding.fix == finding.advice and "RemoteAccess.SourceSecurityGroups" in finding.fix


def test_rules_with_a_group_source_do_not_hide_the_rules_after_them() -> None:
    findings = check({"Sg": group({**SSH, "SourceSecurityGroupId": "sg-0123456789abcdef0"}, {**SSH, "CidrIp": "0.0.0.0/0"})})
    assert [(f.rule_id, f.port) for f in findings] == [("WorldOpenAdminPort", 22)]


def test_findings_of_one_resource_are_sorted_by_port_number() -> None:
    findings = check({"Sg": group({"IpProtocol": "-1", "CidrIp": "0.0.0.0/0"})}, GuardPolicy(admin_ports=[100, 22]))
    assert [f.port for f in findings] == [22, 100]


def test_findings_are_sorted_by_template_resource_rule_and_port_and_never_repeated() -> None:
    template = {"Resources": {"B": group({"IpProtocol": "-1", "CidrIp": "0.0.0.0/0"}), "A": group({**SSH, "CidrIp": "0.0.0.0/1"})}}
    findings = check_templates([Template("T2", "b.json", template), Template("T1", "a.json", template)], GuardPolicy(admin_ports=[3389, 22]))
    assert [(f.location.template, f.location.logical_id, f.rule_id, f.port) for f in findings] == [
        ("T1", "A", "BroadAdminSource", 22), ("T1", "B", "WorldOpenAdminPort", 22), ("T1", "B", "WorldOpenAdminPort", 3389),
        ("T2", "A", "BroadAdminSource", 22), ("T2", "B", "WorldOpenAdminPort", 22), ("T2", "B", "WorldOpenAdminPort", 3389),
    ]


def test_a_reader_that_crashes_is_a_finding_not_a_pass() -> None:
    # GIVEN a reader registered for a new type (as a new reader is added), which crashes
    @reads("Test::Crashing::Thing")
    def crashing(resource) -> None:
        raise KeyError("boom")

    try:
        with pytest.raises(ValueError, match="^Test::Crashing::Thing already has a reader: crashing$"):
            reads("Test::Crashing::Thing")(crashing)
        [finding] = check({"Thing": {"Type": "Test::Crashing::Thing", "Properties": {}}})
    finally:
        del READERS["Test::Crashing::Thing"]
    assert (finding.rule_id, finding.location, finding.message) == (
        "ValidationFailed", where("Thing"),
        "the guard could not read this Test::Crashing::Thing (KeyError: 'boom'); this is a bug in the guard, please report it; "
        "the resource is unchecked")


def test_late_readers_run_after_every_other_resource_is_read() -> None:
    seen: dict[str, int] = {}

    def counting(resource) -> None:
        seen[resource.type] = len(resource.context.inventory.permissions)

    reads("Test::Late::Thing", late=True)(counting)
    reads("Test::Early::Thing")(counting)
    try:
        check({"Late": {"Type": "Test::Late::Thing"}, "Early": {"Type": "Test::Early::Thing"}, "Sg": group({**SSH, "CidrIp": "10.0.0.0/8"})})
    finally:
        del READERS["Test::Late::Thing"], READERS["Test::Early::Thing"]
        LATE.discard("Test::Late::Thing")
    assert seen == {"Test::Late::Thing": 1, "Test::Early::Thing": 0}


def test_rules_are_per_port_only_when_declared_so() -> None:
    from constructs_lib.policy import Rule

    rule = Rule("Test", "a test rule", "summary", "fix")
    assert (rule.id, rule.value, rule.name, rule.summary, rule.fix, rule.per_port, repr(rule)) == (
        "Test", "Test", "a test rule", "summary", "fix", False, "Rule.Test")
    assert Rule("Test", "n", "s", "f", per_port=True).per_port is True


def test_a_template_that_cannot_be_read_at_all_is_a_finding_on_each_template() -> None:
    name: object = "x"
    for _ in range(5000):  # an export name nested beyond any template
        name = {"Fn::Join": ["", [name]]}
    body = {"Resources": {}, "Outputs": {"O": {"Value": "v", "Export": {"Name": name}}}}
    findings = check_templates([Template("S", "S.json", body), Template("T", "T.json", {"Resources": {}})])
    assert [(f.rule_id, f.location) for f in findings] == [
        ("ValidationFailed", Location("S", "(template)", None, "S.json")), ("ValidationFailed", Location("T", "(template)", None, "T.json"))]
    assert findings[0].message.startswith("the guard could not read this template (RecursionError: maximum recursion depth exceeded")
    assert findings[0].message.endswith("); this is a bug in the guard, please report it; the template is unchecked")


def test_a_crash_while_listing_or_checking_a_template_is_a_finding_on_that_template_only(monkeypatch) -> None:
    from constructs_lib.policy import readers

    def crash_on(name: str, function):
        def crashing(template, context):
            if template.name == name:
                raise RuntimeError(f"{function.__name__} failed")
            return function(template, context)
        return crashing

    monkeypatch.setattr(readers, "_check_transforms", crash_on("S", readers._check_transforms))
    monkeypatch.setattr(readers, "_report_template_problems", crash_on("T", readers._report_template_problems))
    world_ssh = {"Resources": {"Sg": group({**SSH, "CidrIp": "0.0.0.0/0"})}}
    findings = check_templates([Template("S", "S.json", world_ssh), Template("T", "T.json", world_ssh)])
    unchecked = "); this is a bug in the guard, please report it; the template is unchecked"
    assert [(f.rule_id, f.location, f.message) for f in findings] == [
        ("ValidationFailed", Location("S", "(template)", None, "S.json"),
         "the guard could not read this template (RuntimeError: _check_transforms failed" + unchecked),
        ("ValidationFailed", Location("T", "(template)", None, "T.json"),
         "the guard could not read this template (RuntimeError: _report_template_problems failed" + unchecked),
        ("WorldOpenAdminPort", Location("T", "Sg", None, "T.json"), findings[2].message),
    ]


# --- found by mutation testing, and fixed (docs/mutation.md) ------------------------------------------------


def test_an_interface_with_one_unknown_group_still_unites_the_groups_it_names() -> None:
    findings = check({"Low": group({**SSH, "CidrIp": "0.0.0.0/1"}), "High": group({**SSH, "CidrIp": "128.0.0.0/1"}),
                      "Host": {"Type": "AWS::EC2::Instance", "Properties": {"SecurityGroupIds": [
                          {"Ref": "Low"}, {"Ref": "High"}, {"Fn::ImportValue": "shared-sg"}]}}})
    assert {(f.rule_id, f.location.logical_id, f.port) for f in findings} == {
        ("BroadAdminSource", "Low", 22), ("BroadAdminSource", "High", 22), ("WorldOpenAdminPort", "Host", 22)}


def test_an_unknown_protocol_may_open_every_admin_port() -> None:
    findings = check({"Sg": group({"IpProtocol": {"Ref": "Proto"}, "FromPort": 22, "ToPort": 22, "CidrIp": "0.0.0.0/0"})},
                     Parameters={"Proto": {"Type": "String"}})
    assert [(f.rule_id, f.port) for f in findings] == [("UnverifiableIngress", 22)]
    assert "3389 (RDP)" in findings[0].message


def test_a_lightsail_port_of_unknown_protocol_may_open_every_admin_port() -> None:
    box = {"Type": "AWS::Lightsail::Instance", "Properties": {"Networking": {"Ports": [{"Protocol": {"Ref": "Proto"}, "FromPort": 80, "ToPort": 80}]}}}
    findings = check({"Box": box}, Parameters={"Proto": {"Type": "String"}})
    assert [(f.rule_id, f.port) for f in findings] == [("UnverifiableIngress", 22)]
    assert "3389 (RDP)" in findings[0].message


def test_a_top_level_include_transform_is_unverifiable_not_a_crash() -> None:
    include = {"Name": "AWS::Include", "Parameters": {"Location": "s3://bucket/rules.yaml"}}
    findings = check({"Sg": group({**SSH, "CidrIp": "10.0.0.0/8"})}, Transform=include)
    assert [(f.rule_id, f.location.logical_id, f.message) for f in findings] == [
        ("UnverifiableIngress", "Transform", "the template transform 'AWS::Include' may rewrite its resources at deploy time")]


def test_groups_named_inside_group_id_entries_of_a_names_list_are_united_on_the_interface() -> None:
    # SecurityGroups of an instance holds names; an entry written {GroupId: ...} is read the same way, so the two
    # halves of IPv4 still unite on the instance (the field must reach the inner value: read as an id, both
    # groups would be unknown external ones and the union would be lost).
    findings = check({"Low": group({**SSH, "CidrIp": "0.0.0.0/1"}, GroupName="low"), "High": group({**SSH, "CidrIp": "128.0.0.0/1"}, GroupName="high"),
                      "Host": {"Type": "AWS::EC2::Instance", "Properties": {"SecurityGroups": [{"GroupId": "low"}, {"GroupId": "high"}]}}})
    assert {(f.rule_id, f.location.logical_id, f.port) for f in findings} == {
        ("BroadAdminSource", "Low", 22), ("BroadAdminSource", "High", 22), ("WorldOpenAdminPort", "Host", 22)}


def promising(body: dict, value: object = "security-groups") -> dict:
    """``body`` (a security group) with the WebServerSecurityGroup's promise in its Metadata."""
    return {**body, "Metadata": {"admin-port-guard": {"sshFrom": value}}}


def test_a_group_that_promises_ssh_only_from_groups_is_reported_for_each_other_ssh_source() -> None:
    # GIVEN a web group that promises SSH only from security groups, with SSH from a private /8, from a group,
    # from a prefix list (within a range), HTTP from the world, and SSH from one address by a standalone rule
    findings = check({
        "Web": promising(group({**SSH, "CidrIp": "10.0.0.0/8"}, {**SSH, "SourceSecurityGroupId": "sg-0123456789abcdef0"},
                               {"IpProtocol": "tcp", "FromPort": 0, "ToPort": 100, "SourcePrefixListId": PL},
                               {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "CidrIp": "0.0.0.0/0"})),
        "Extra": ingress({"Ref": "Web"}, {"IpProtocol": "-1", "CidrIp": "198.51.100.7/32"}),
        "Plain": group({**SSH, "CidrIp": "10.0.0.0/8"}),  # no promise: a private /8 is no finding
    }, GuardPolicy(trusted_prefix_lists={PL: "corporate VPN egress, NET-12"}))
    # THEN each rule admitting tcp/22 from anything but a group is one WebServerSshSource at the group, naming it
    assert [(f.rule_id, f.location, f.message, f.contributors) for f in findings] == [
        ("WebServerSshSource", where("Web"), f"security group Web takes SSH only from security groups, but allows tcp/22 from {source} "
         f"(rule {label})", (label,))
        for source, label in [("10.0.0.0/8", "Web.SecurityGroupIngress[0]"), ("198.51.100.7/32", "Extra"), (PL, "Web.SecurityGroupIngress[2]")]
    ]


def test_a_world_open_rule_on_a_promising_group_is_reported_once_and_a_bad_promise_still_holds() -> None:
    # GIVEN world SSH on a promising group, and a promise of another value
    [world] = check({"Web": promising(group({**SSH, "CidrIp": "0.0.0.0/0"}))})
    assert world.rule_id == "WorldOpenAdminPort"  # THEN the open-port finding names the rule; no second finding
    malformed, broken = check({"Web": promising(group({**SSH, "CidrIp": "10.0.0.0/8"}), "cidrs")})
    assert (malformed.rule_id, malformed.message) == (
        "MalformedIngress", 'Metadata.admin-port-guard.sshFrom must be security-groups (SSH only from security groups), not "cidrs"')
    assert broken.rule_id == "WebServerSshSource"


def test_a_template_file_name_with_a_colon_names_the_group_by_its_logical_id() -> None:
    # GIVEN a raw template whose file name holds a colon (the template's name outside an assembly is its file name)
    # WHEN  a group of it is world-open on SSH
    # THEN  the message names the group by its logical id (logical ids are alphanumeric), not by part of the file name
    [finding] = check_templates([Template("a:b.json", "a:b.json", {"Resources": {"Sg": group({**SSH, "CidrIp": "0.0.0.0/0"})}})])
    assert finding.message.split(" allows ")[0] == "security group Sg"


def test_a_port_open_under_several_assignments_is_reported_once_from_the_first() -> None:
    # GIVEN a world-open SSH rule, and an IPv6 world-open one that exists only when condition Six holds
    # WHEN  the core judges both assignments of Six
    # THEN  the group's port 22 is reported once, as the first assignment (Six true) finds it: both families
    findings = check({"Sg": group({**SSH, "CidrIp": "0.0.0.0/0"}, {"Fn::If": ["Six", {**SSH, "CidrIpv6": "::/0"}, {"Ref": "AWS::NoValue"}]})},
                     Parameters={"P": {"Type": "String"}}, Conditions={"Six": {"Fn::Equals": [{"Ref": "P"}, "6"]}})
    assert [(f.rule_id, f.port, f.sources) for f in findings] == [("WorldOpenAdminPort", 22, ("0.0.0.0/0", "::/0"))]


def test_an_interface_is_judged_under_every_assignment_after_one_that_opens_nothing() -> None:
    # GIVEN two groups on one instance that admit only 10.0.0.0/8 when condition Private holds, and halves of the
    #       IPv4 internet when it does not
    # WHEN  the first assignment (Private true) opens nothing public
    # THEN  the second is still judged: the instance is world-open through the two groups together
    def halves(public: str) -> dict:
        return group({**SSH, "CidrIp": {"Fn::If": ["Private", "10.0.0.0/8", public]}})
    findings = check({"Low": halves("0.0.0.0/1"), "High": halves("128.0.0.0/1"), "Host": instance("Low", "High")},
                     Parameters={"P": {"Type": "String"}}, Conditions={"Private": {"Fn::Equals": [{"Ref": "P"}, "yes"]}})
    assert [(f.location.logical_id, f.rule_id) for f in findings] == [
        ("High", "BroadAdminSource"), ("Host", "WorldOpenAdminPort"), ("Low", "BroadAdminSource")]


def test_an_interface_of_three_groups_compares_the_union_with_each_group_alone() -> None:
    # GIVEN three groups on one instance: two halves of the IPv4 internet and a private network
    # WHEN  no group alone is world-open (the private one opens nothing)
    # THEN  the instance is reported world-open through the groups together
    findings = check({"Low": group({**SSH, "CidrIp": "0.0.0.0/1"}), "High": group({**SSH, "CidrIp": "128.0.0.0/1"}),
                      "Lan": group({**SSH, "CidrIp": "10.0.0.0/8"}), "Host": instance("Low", "High", "Lan")})
    assert [(f.location.logical_id, f.rule_id) for f in findings if f.location.logical_id == "Host"] == [("Host", "WorldOpenAdminPort")]


@pytest.mark.parametrize(("thresholds", "rule"), [
    (Thresholds(1 << 32, 48), {**SSH, "CidrIp": "0.0.0.0/0"}),  # the largest maxPublicIpv4Addresses config accepts
    (Thresholds(65536, 1), {**SSH, "CidrIpv6": "2000::/3"}),  # every global unicast address, within a /1
])
def test_a_broad_limit_past_the_whole_internet_still_reports_it_world_open(thresholds: Thresholds, rule: dict) -> None:
    # GIVEN a broad limit at least as large as the whole public space of a family
    # WHEN  a rule admits the whole internet of that family on SSH
    # THEN  it is world-open: the limit decides only what is too broad
    assert [f.rule_id for f in check({"Sg": group(rule)}, GuardPolicy(thresholds=thresholds))] == ["WorldOpenAdminPort"]
