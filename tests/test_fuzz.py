"""Fuzzing the guard CLI with structural mutations of real synthesized templates.

Seeds are templates the real CDK synthesizes: the reference stack, and the test apps in tests/apps.
Each example applies one mutation whose effect on validity is known by construction:

* **invalid**: the result is a template CloudFormation refuses or reads differently from how it looks
  (a resource that is not a mapping, a missing or retyped ``Type``, a duplicate key, a YAML tag or alias
  it does not know, a malformed ingress rule ...): the CLI must exit 1 with a finding the seed did not
  have, of the rule the mutation breaks, at the mutated place, saying what was mutated (a seed may exit 1
  before any mutation, so the exit status alone proves nothing);
* **same**: the result deploys the same thing (resources and keys in another order, an unrelated
  resource added): the findings must be identical, message for message;
* **superset**: a resource or rule is added: every world-open exposure found before is still found.

Every example: the CLI returns (never raises), and reports no ``ValidationFailed`` (a crash contained
inside the guard is still a bug).
"""

from __future__ import annotations

import copy
import json
import os
import runpy
from pathlib import Path
from typing import NamedTuple
from random import Random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from constructs_lib.guard.__main__ import main as guard_main

APPS = Path(__file__).resolve().parent / "apps"
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "2000"))


@pytest.fixture(scope="module")
def seeds(tmp_path_factory) -> list[dict]:
    """Real synthesized templates: the reference stack and the test apps (one jsii process)."""
    import aws_cdk as cdk

    from stacks import ReferenceStack

    outdir = tmp_path_factory.mktemp("seeds")
    app = cdk.App(outdir=str(outdir / "reference"), context={"aws:cdk:enable-path-metadata": True})
    ReferenceStack(app, "Reference", admin_cidrs=["203.0.113.10/32", "2001:db8::/64"])
    app.synth()
    for script in ("world_ssh_override.py", "split_across_stacks.py"):
        os.environ["CDK_OUTDIR"] = str(outdir / script)
        try:
            runpy.run_path(str(APPS / script))
        except RuntimeError as error:  # the guard fails these apps' synth: their templates are written first
            assert "AdminPortGuard" in str(error)
        finally:
            del os.environ["CDK_OUTDIR"]
    templates = sorted(p for p in outdir.rglob("*.template.json") if "nested" not in p.name)
    assert len(templates) >= 4
    return [json.loads(path.read_text()) for path in templates]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


def run_cli(workdir: Path, text: str, suffix: str = ".json") -> tuple[int, list[dict]]:
    """The CLI's exit status and JSON findings for one template text (raises if the CLI does)."""
    template = workdir / f"t{suffix}"
    template.write_text(text)
    report = workdir / "report.json"
    report.unlink(missing_ok=True)
    status = guard_main([str(template), "--format", "json", "--output", str(report)])
    findings = json.loads(report.read_text())["findings"] if report.exists() else []
    return status, findings


# --- mutations: each returns (text, suffix, expectation, what an invalid one must be reported as) --------


class Expected(NamedTuple):
    """The finding an invalid mutation must add: its rule, its logical id (``None``: any) and part of its message."""

    rule: str
    logical_id: str | None
    says: str


def _resource(data, body: dict) -> str:
    return data.draw(st.sampled_from(sorted(body["Resources"])), label="resource")


def _ingress_entries(body: dict) -> list[tuple[dict, str, str]]:
    """Every ingress rule object of the template with the resource holding it and how a message names the
    rule: ``Group.SecurityGroupIngress[i]`` inline, nothing more than the resource's logical id standalone."""
    entries = []
    for logical_id, resource in body["Resources"].items():
        properties = resource.get("Properties", {})
        if resource["Type"] == "AWS::EC2::SecurityGroup":
            entries += [(rule, logical_id, f"{logical_id}.SecurityGroupIngress[{index}]: ")
                        for index, rule in enumerate(properties.get("SecurityGroupIngress", []))]
        elif resource["Type"] == "AWS::EC2::SecurityGroupIngress":
            entries.append((properties, logical_id, ""))
    return entries


SCALARS = st.one_of(st.integers(-5, 70000), st.text(max_size=5), st.booleans(), st.none())
NOT_A_MAPPING = st.one_of(SCALARS, st.lists(SCALARS, max_size=2))
NOT_A_STRING = st.one_of(st.integers(), st.booleans(), st.none(), st.lists(st.text(max_size=3), max_size=2), st.dictionaries(st.text(min_size=1, max_size=3), st.text(max_size=3), max_size=2))


def invalid(data, body: dict) -> tuple[str, str, str, Expected]:
    """A mutation CloudFormation would refuse (or read differently from how it looks)."""
    body = copy.deepcopy(body)
    kind = data.draw(st.sampled_from([
        "resource-not-mapping", "delete-type", "retype-type", "retype-properties", "retype-resources",
        "unknown-section", "unknown-attribute", "bad-logical-id", "undefined-condition", "duplicate-key",
        "unknown-tag", "alias", "rule-retype-cidr", "rule-delete-protocol", "rule-unknown-key", "rule-ports-reversed",
        "rule-port-out-of-range", "rule-bad-cidr", "rule-two-sources",
    ]), label="kind")
    resources = body["Resources"]
    logical_id = _resource(data, body)
    text = None
    expected = Expected("MalformedTemplate", logical_id, "")
    if kind == "resource-not-mapping":
        resources[logical_id] = data.draw(NOT_A_MAPPING)
        expected = expected._replace(says="not a mapping")
    elif kind == "delete-type":
        del resources[logical_id]["Type"]
        expected = expected._replace(says="the resource has no Type")
    elif kind == "retype-type":
        resources[logical_id]["Type"] = data.draw(NOT_A_STRING)
        expected = expected._replace(says=f"Resources.{logical_id}.Type: Type is a")
    elif kind == "retype-properties":
        resources[logical_id]["Properties"] = data.draw(st.one_of(st.integers(), st.text(max_size=5), st.booleans(), st.lists(SCALARS, max_size=2)))
        expected = expected._replace(says=f"Resources.{logical_id}.Properties: Properties is a")
    elif kind == "retype-resources":
        body["Resources"] = data.draw(st.one_of(st.lists(SCALARS, max_size=2), st.text(max_size=4), st.integers()))
        expected = Expected("MalformedTemplate", "Resources", "Resources is a")
    elif kind == "unknown-section":
        section = data.draw(st.sampled_from(["Resource", "resources", "Output", "Parameter", "Globals"]))
        body[section] = {}
        expected = Expected("MalformedTemplate", section, f"{section!r} is not a template section")
    elif kind == "unknown-attribute":
        attribute = data.draw(st.sampled_from(["Propertie", "properties", "Dependson", "Conditions", "Tags"]))
        resources[logical_id][attribute] = {}
        expected = expected._replace(says=f"Resources.{logical_id}.{attribute}: {attribute!r} is not a resource attribute")
    elif kind == "bad-logical-id":
        new_id = data.draw(st.sampled_from(["Bad-Id", "with space", "Under_score", "Dot.ted"]))
        resources[new_id] = resources.pop(logical_id)
        expected = Expected("MalformedTemplate", None, f"logical id {new_id!r} is not alphanumeric")
    elif kind == "undefined-condition":
        resources[logical_id]["Condition"] = "NoSuchConditionAnywhere"
        expected = expected._replace(says='condition "NoSuchConditionAnywhere" is not defined')
    elif kind == "duplicate-key":
        text, key = _with_duplicate_key(data, body)
        expected = Expected("MalformedTemplate", None, f"duplicate key {key!r}")
    elif kind in ("unknown-tag", "alias"):
        text, says = _with_yaml_marker(data, body, kind)
        expected = Expected("MalformedTemplate", None, says)
    else:
        entries = _ingress_entries(body)
        if not entries:
            resources[logical_id] = data.draw(NOT_A_MAPPING)  # no rule in this seed: fall back to a skeleton mutation
            expected = expected._replace(says="not a mapping")
        else:
            rule, owner, place = data.draw(st.sampled_from(entries), label="rule")
            expected = Expected("MalformedIngress", owner, place + _break_rule(data, rule, kind))
    if text is None:
        text = json.dumps(body)
    return text, ".json" if kind != "unknown-tag" and kind != "alias" else ".yaml", "invalid", expected


def _break_rule(data, rule: dict, kind: str) -> str:
    """Break ``rule`` as ``kind`` says; the start of what the guard must say about it."""
    source = next((field for field in ("CidrIp", "CidrIpv6", "SourceSecurityGroupId", "SourcePrefixListId") if field in rule), None)
    if kind == "rule-retype-cidr":
        rule.pop(source, None)
        rule["CidrIp"] = data.draw(st.one_of(st.integers(), st.lists(st.just("0.0.0.0/0"), min_size=1, max_size=2), st.booleans()))
        return "CidrIp "
    if kind == "rule-delete-protocol":
        del rule["IpProtocol"]
        return "IpProtocol is missing"
    if kind == "rule-unknown-key":
        key = data.draw(st.sampled_from(["CidrIP", "cidrIp", "SourceGroup", "Port", "IpProtocols"]))
        rule[key] = "0.0.0.0/0"
        return f"{key} is not a property of an ingress rule"
    if kind == "rule-ports-reversed":
        rule.update(IpProtocol="tcp", FromPort=25, ToPort=20)
        return "FromPort 25 is greater than ToPort 20"
    if kind == "rule-port-out-of-range":
        port = data.draw(st.sampled_from([65536, 70000, -2]))
        rule.update(IpProtocol="tcp", FromPort=22, ToPort=port)
        return f"port range 22-{port} is outside 0-65535"
    if kind == "rule-bad-cidr":
        # Not a CIDR EC2 accepts. A block with host bits (10.0.0.1/8) is no example: EC2 keeps its network part.
        rule.pop(source, None)
        cidr = data.draw(st.sampled_from([" 0.0.0.0/0", "0.0.0.0/00", "0.0.0.0", "1.2.3.4/33", "::/0", "everyone"]))
        rule["CidrIp"] = cidr
        return f"CidrIp {cidr!r} "
    assert kind == "rule-two-sources", kind
    rule["CidrIp"], rule["CidrIpv6"] = "10.0.0.0/8", "2001:db8::/32"
    return "it names more than one source (CidrIp, CidrIpv6"


class _Duplicated(list):
    """A mapping written out with one key twice (``json.dumps`` cannot write that)."""


def _with_duplicate_key(data, body: dict) -> tuple[str, str]:
    mappings = []

    def collect(node):
        if isinstance(node, dict):
            if node:
                mappings.append(node)
            for value in node.values():
                collect(value)
        elif isinstance(node, list):
            for value in node:
                collect(value)

    collect(body)
    target = data.draw(st.sampled_from(range(len(mappings))), label="mapping")
    key = data.draw(st.sampled_from(sorted(mappings[target])), label="key")
    twice = _Duplicated(list(mappings[target].items()) + [(key, data.draw(SCALARS))])
    return _dump(body, id(mappings[target]), twice), key


def _dump(node, target_id: int, replacement: _Duplicated) -> str:
    if isinstance(node, dict):
        pairs = replacement if id(node) == target_id else node.items()
        return "{" + ", ".join(f"{json.dumps(key)}: {_dump(value, target_id, replacement)}" for key, value in pairs) + "}"
    if isinstance(node, list):
        return "[" + ", ".join(_dump(value, target_id, replacement) for value in node) + "]"
    return json.dumps(node)


#: What the guard says about each unknown tag the fuzzer inserts.
TAG_PROBLEMS = {
    "!Foo": "!Foo is not a CloudFormation short form", "!Reff": "!Reff is not a CloudFormation short form",
    "!GetAttr": "!GetAttr is not a CloudFormation short form", "!Include": "!Include is not a CloudFormation short form",
    "!!binary": "the YAML tag tag:yaml.org,2002:binary is not one CloudFormation reads",
}


def _key_colons(text: str) -> list[int]:
    """Where a mapping value starts in JSON ``text``: the colons outside strings (a colon inside a string such as
    "::/0" would put the tag into the value's text, where it is no tag)."""
    positions, in_string, escaped = [], False, False
    for index, char in enumerate(text):
        if in_string:
            escaped, in_string = (not escaped and char == "\\"), (in_string if escaped or char != '"' else False)
        elif char == '"':
            in_string = True
        elif char == ":":
            positions.append(index)
    return positions


def _with_yaml_marker(data, body: dict, kind: str) -> tuple[str, str]:
    """The template as YAML with an unknown tag inserted (JSON is YAML flow style), or with an anchor and an
    alias (PyYAML writes them for an object that appears twice); and what the guard must say about it."""
    if kind == "unknown-tag":
        text = json.dumps(body)
        positions = _key_colons(text)
        position = data.draw(st.sampled_from(positions), label="position")
        tag = data.draw(st.sampled_from(sorted(TAG_PROBLEMS)))
        return text[: position + 1] + f" {tag}" + text[position + 1 :], TAG_PROBLEMS[tag]
    import yaml

    shared = body["Resources"][_resource(data, body)]
    body.setdefault("Metadata", {})["Again"] = shared
    return yaml.safe_dump(body), "a YAML alias (*name) repeats this node"


def same(data, body: dict) -> tuple[str, str, str, None]:
    """A mutation that deploys the same thing: another order of resources and keys, or an unrelated resource."""
    body = copy.deepcopy(body)
    if data.draw(st.booleans(), label="add-unrelated"):
        body["Resources"]["UnrelatedTopic"] = {"Type": "AWS::SNS::Topic", "Properties": {"DisplayName": "fuzz"}}
    order = Random(data.draw(st.integers(0, 2**32), label="order"))
    return json.dumps(_shuffled(body, order)), ".json", "same", None


def _shuffled(node, random):
    if isinstance(node, dict):
        items = list(node.items())
        random.shuffle(items)
        return {key: _shuffled(value, random) for key, value in items}
    if isinstance(node, list):
        return [_shuffled(value, random) for value in node]  # list order is meaningful (rule labels)
    return node


@st.composite
def added_rules(draw) -> dict:
    low = draw(st.sampled_from([0, 22, 80, 3389]))
    source = draw(st.one_of(
        st.sampled_from(["0.0.0.0/0", "0.0.0.0/1", "128.0.0.0/1", "10.0.0.0/8", "198.51.100.7/32"]).map(lambda c: {"CidrIp": c}),
        st.sampled_from(["::/0", "2000::/3", "2600::/48"]).map(lambda c: {"CidrIpv6": c}),
    ))
    return {"IpProtocol": draw(st.sampled_from(["tcp", "-1", "udp", "6"])), "FromPort": low,
            "ToPort": draw(st.sampled_from([port for port in (22, 443, 3389, 65535) if port >= low])), **source}


def superset(data, body: dict) -> tuple[str, str, str, None]:
    """A rule added to a group of the template (inline or standalone), or a new group with one."""
    body = copy.deepcopy(body)
    rule = data.draw(added_rules(), label="rule")
    groups = [lid for lid, r in body["Resources"].items() if r["Type"] == "AWS::EC2::SecurityGroup"]
    if groups and data.draw(st.booleans(), label="existing-group"):
        group = data.draw(st.sampled_from(groups), label="group")
        if data.draw(st.booleans(), label="inline"):
            body["Resources"][group].setdefault("Properties", {}).setdefault("SecurityGroupIngress", []).append(rule)
        else:
            body["Resources"]["FuzzAddedRule"] = {"Type": "AWS::EC2::SecurityGroupIngress", "Properties": {"GroupId": {"Fn::GetAtt": [group, "GroupId"]}, **rule}}
    else:
        body["Resources"]["FuzzAddedGroup"] = {"Type": "AWS::EC2::SecurityGroup", "Properties": {"GroupDescription": "fuzz", "SecurityGroupIngress": [rule]}}
    return json.dumps(body), ".json", "superset", None


_originals: dict[int, tuple[int, list[dict]]] = {}


def _original(workdir: Path, seed: dict) -> tuple[int, list[dict]]:
    if id(seed) not in _originals:
        _originals[id(seed)] = run_cli(workdir, json.dumps(seed))
    return _originals[id(seed)]


def _key(finding: dict) -> tuple:
    return finding["rule"], finding["logicalId"], finding["port"], finding["message"]


def _world(findings: list[dict]) -> set[tuple[str, int]]:
    return {(f["logicalId"], f["port"]) for f in findings if f["rule"] == "WorldOpenAdminPort"}


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_mutated_templates_never_crash_the_guard_and_never_pass_when_invalid(seeds, workdir, data) -> None:
    seed = data.draw(st.sampled_from(seeds), label="seed")
    mutation = data.draw(st.sampled_from([invalid, invalid, same, superset]), label="mutation")
    text, suffix, expectation, expected = mutation(data, seed)
    # WHEN the CLI checks the mutated template (an exception here fails the test: no traceback, ever)
    status, findings = run_cli(workdir, text, suffix)
    # THEN the guard never crashed inside, and its verdict fits what the mutation did
    assert status in (0, 1, 2)
    assert not [f for f in findings if f["rule"] == "ValidationFailed"], findings
    original_status, original = _original(workdir, seed)
    if expectation == "invalid":
        new = [f for f in findings if _key(f) not in set(map(_key, original))]
        assert status == 1 and [f for f in new if f["rule"] == expected.rule and expected.logical_id in (None, f["logicalId"])
                                and expected.says in f["message"]], (
            f"exit {status}; expected {expected}; new findings: {[(f['rule'], f['logicalId'], f['message']) for f in new]}; {text[:1000]}")
        return
    if expectation == "same":
        assert sorted(map(_key, findings)) == sorted(map(_key, original))
        assert status == original_status
    else:
        still_found = _world(findings)
        for logical_id, port in _world(original):
            groups = _attachment_groups(seed, logical_id)
            assert (logical_id, port) in still_found or any((group, port) in still_found for group in groups)


def _attachment_groups(body: dict, logical_id: str) -> list[str]:
    """The groups an instance's world-open finding may move to when one of them alone becomes world-open."""
    properties = body["Resources"].get(logical_id, {}).get("Properties", {})
    references = json.dumps(properties.get("SecurityGroupIds", [])) + json.dumps(properties.get("NetworkInterfaces", []))
    return [lid for lid in body["Resources"] if f'"{lid}"' in references]
