"""The exact text of one message per rule: it names what the user wrote and says nothing twice.

GIVEN a template (or a validation report) that breaks one rule
WHEN  the guard checks it
THEN  the finding's message is exactly the one below.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from constructs_lib.guard.validation_report import read_validation_reports
from constructs_lib.policy import check_paths


def _group(*rules: dict) -> dict:
    return {"Type": "AWS::EC2::SecurityGroup", "Properties": {"GroupDescription": "web", "SecurityGroupIngress": list(rules)}}


def _ssh(**source: str) -> dict:
    return {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, **source}


CASES = {
    "WorldOpenAdminPort[22]": (
        {"Web": _group(_ssh(CidrIp="0.0.0.0/0"))},
        "security group Web allows tcp/22 (SSH) from the whole IPv4 internet via 0.0.0.0/0 (rule Web.SecurityGroupIngress[0])",
    ),
    "BroadAdminSource[22]": (
        {"Web": _group(_ssh(CidrIp="52.0.0.0/8"))},
        "security group Web allows tcp/22 (SSH) from 52.0.0.0/8: 16,777,216 public IPv4 addresses (0.45 % of them), "
        "more than the limit of 65,536 addresses (a /16) (rule Web.SecurityGroupIngress[0])",
    ),
    "UnverifiableIngress": (
        {"Web": _group(_ssh(SourcePrefixListId="pl-0123456789abcdef0"))},
        "Web.SecurityGroupIngress[0] may open admin port 22 (SSH) to the internet: the entries of prefix list "
        "pl-0123456789abcdef0 are managed outside the templates; if it holds only your admin networks, declare it trusted "
        "(admin-port-guard.trustedPrefixLists in cdk.json, or --trust-prefix-list pl-0123456789abcdef0=REASON)",
    ),
    "MalformedIngress": (
        {"Web": _group(_ssh(CidrIp="203.0.113.10/33"))},
        "Web.SecurityGroupIngress[0]: CidrIp '203.0.113.10/33' is not a valid CIDR block: /33 is longer than an IPv4 address",
    ),
    "MalformedTemplate": (
        {"Web": {**_group(), "Tags": []}},
        "Resources.Web.Tags: 'Tags' is not a resource attribute CloudFormation knows",
    ),
}
IMPORTED_GROUP = (
    {"Rule": {"Type": "AWS::EC2::SecurityGroupIngress", "Properties": {"GroupId": "sg-0123456789abcdef0", **_ssh(CidrIpv6="::/0")}}},
    "security group sg-0123456789abcdef0 (not defined in the templates) allows tcp/22 (SSH) from the whole IPv6 internet "
    "via ::/0 (rule Rule)",
)


def _repeated_phrase(message: str, words: int = 4) -> str | None:
    """A run of ``words`` words that occurs twice in ``message``, if any."""
    tokens = message.split()
    seen = set()
    for start in range(len(tokens) - words + 1):
        phrase = " ".join(tokens[start : start + words])
        if phrase in seen:
            return phrase
        seen.add(phrase)
    return None


@pytest.mark.parametrize(
    ("check", "resources", "message"),
    [(check, *case) for check, case in CASES.items()] + [("WorldOpenAdminPort[22]", *IMPORTED_GROUP)],
    ids=[*CASES, "WorldOpenAdminPort-imported-group"],
)
def test_message_of_each_rule(tmp_path: Path, check: str, resources: dict, message: str) -> None:
    template = tmp_path / "web.template.json"
    template.write_text(json.dumps({"Resources": resources}))
    (finding,) = check_paths([template])
    assert (finding.check_name, finding.message) == (check, message)
    assert _repeated_phrase(finding.message) is None


def test_message_of_a_crashed_validation_plugin(tmp_path: Path) -> None:
    report = {"pluginReports": [{"pluginName": "PlainPlugin", "conclusion": "failure", "violations": [],
                                 "metadata": {"error": "Validation plugin 'PlainPlugin' failed: boom"}}]}
    (tmp_path / "validation-report.json").write_text(json.dumps(report))
    (crash,) = read_validation_reports([str(tmp_path)]).crashes
    assert crash.check_name == "ValidationFailed"
    assert crash.message == (
        "validation plugin 'PlainPlugin' crashed during cdk synth, so its checks did not run: boom"
    )
