"""Look for an input that tells a surviving mutant from the core: ``make mutation-search``, after ``make mutation``.

A mutant survives when no test fails; docs/mutation.md lists the survivors judged equivalent. This searches
for a counterexample to each such judgement, and for an input to kill each other survivor: it runs the core's
entry points on a fixed input set once with the original code and once per mutant (a fresh process with
``MUTANT_UNDER_TEST`` set, so values computed at import are mutated too and no memo cache carries over), and
prints, for every mutant whose output differs, the first input that shows it.

Inputs: every file of the public template corpus, every case of ``tests/guard_cases.py``, and ``--examples``
random templates (``--seed``), written as JSON or as YAML with short-form tags: security groups with inline
and standalone rules, every source kind, ports and protocols in the spellings EC2 and CloudFormation accept
and some they refuse, values behind ``Ref`` (parameters with and without ``AllowedValues``), ``Fn::If``,
``Fn::ImportValue`` and ``Fn::GetAtt``, resources under conditions, and instances and launch templates that
attach several groups. Compared: the findings (rule, place, message, sources), the exposure analysis and the
remediation plan of every group, each under the default policy and under a policy with the broad-source rule
off and SSH alone as admin port. An exception counts as an output (its type and message). A mutant the inputs
do not tell apart then meets the property tests (oracles and differential properties, ``PROPERTY_TESTS``) at
their full ``make test`` example counts, where ``make mutation`` runs 25 examples each.

    cd build/mutation/mutants && ../../../.venv/bin/python ../../../tests/mutant_search.py NAME... (default: every survivor)
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def _plain(value: Any) -> Any:
    """A JSON-comparable copy of a result: tuples and objects by their fields, sets sorted, rules by id."""
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, dict):
        return [[_plain(key), _plain(item)] for key, item in sorted(value.items(), key=lambda pair: repr(pair[0]))]
    if isinstance(value, (set, frozenset)):
        return sorted((_plain(item) for item in value), key=repr)
    if type(value).__name__ == "Network":
        return str(value)
    if type(value).__name__ == "Rule":
        return value.id
    if isinstance(value, (list, tuple)):
        fields = getattr(value, "_fields", None)
        items = [_plain(item) for item in value]
        return dict(zip(fields, items)) if fields else items
    if callable(value):
        return "<callable>"
    names = getattr(value, "__slots__", None) or sorted(vars(value))
    return {type(value).__name__: {name: _plain(getattr(value, name)) for name in names if not name.startswith("_")}}


def _outcome(path: Path) -> Any:
    """What the core makes of one file under each policy; an exception is an outcome too."""
    from constructs_lib.policy import GuardPolicy, TemplateError, evaluate, load, read_inventory
    from constructs_lib.policy.exposure import analyse
    from constructs_lib.policy.remediation import plan

    try:
        templates = load([path])
    except TemplateError as error:
        return ["not a template", str(error)]
    results = []
    for policy in (GuardPolicy(), GuardPolicy(admin_ports={22: "SSH"}, thresholds=None)):
        try:
            inventory = read_inventory(templates)
            findings = sorted(evaluate(inventory, policy), key=lambda finding: finding.sort_key())
            analysis = analyse(templates, policy, inventory)
            plans = [plan(inventory, key, policy) for key in sorted(inventory.groups)]
            results.append(_plain([findings, analysis.targets, analysis.notes, plans]))
        except Exception as error:  # noqa: BLE001 - a crash is an outcome to compare, not a reason to stop
            results.append(["raised", type(error).__name__, str(error)])
    return results


def _outcomes(inputs: list[Path], out: Path) -> None:
    out.write_text(json.dumps({str(path): _outcome(path) for path in inputs}))


# --- random templates ----------------------------------------------------------------------------

CIDRS_V4 = ["0.0.0.0/0", "192.168.1.0/0", "0.0.0.0/1", "128.0.0.0/1", "10.0.0.0/8", "203.0.113.10/32", "1.2.3.4/8",
            "64.0.0.0/2", "0.0.0.0/2", "100.64.0.0/10", "8.8.8.8/32", "0.0.0.0/5", "192.0.0.0/2", "172.16.0.0/12"]
CIDRS_V6 = ["::/0", "fd00::/0", "2000::/3", "2000::/4", "3000::/4", "2001:db8::/32", "::ffff:1.2.3.4/96", "::/1", "8000::/1",
            "2a00::/9", "2600:1f00::/24", "2001:db8::1/128"]
PROTOCOLS = ["tcp", "udp", "-1", -1, "6", 6, "17", "icmp", "icmpv6", "58", "50"]
PORTS = [(22, 22), (3389, 3389), (0, 65535), (-1, -1), (20, 30), (1, 21), (23, 3388), ("22", "22"), (5985, 5986), (1, 65535)]
#: What EC2 or CloudFormation refuses, drawn now and then.
INVALID: dict[str, list[Any]] = {"cidr4": ["0.0.0.0/00", "1.2.3.4", "256.0.0.0/8", "0.0.0.0/33", "::/0"], "cidr6": ["::/129", "0.0.0.0/0", "2001:db8::g/64"],
           "protocol": ["TCP", "all", "ssh", "256", None], "ports": [(22, None), (80, 22), (None, None), (-2, 22), (22, 65536)]}


class Generator:
    """Random templates built from the shapes the guard reads."""

    def __init__(self, seed: int) -> None:
        self.random = random.Random(seed)

    def pick(self, options: list[Any], invalid: str | None = None) -> Any:
        """One of ``options``; one of ``INVALID[invalid]`` now and then."""
        if invalid and self.random.random() < 0.04:
            return self.random.choice(INVALID[invalid])
        return self.random.choice(options)

    def maybe_intrinsic(self, value: Any, template: dict[str, Any], others: list[Any]) -> Any:
        """``value``, or the value behind a parameter (``others``: its other allowed value), a condition or an unknown."""
        roll = self.random.random()
        if roll < 0.72:
            return value
        if roll < 0.84:
            name = f"P{len(template['Parameters'])}"
            parameter: dict[str, Any] = {"Type": "String" if not isinstance(value, int) else "Number", "Default": value}
            if self.random.random() < 0.5:
                parameter["AllowedValues"] = [value, self.pick(others)]
            template["Parameters"][name] = parameter
            return {"Ref": name}
        if roll < 0.94:
            return {"Fn::If": [self.pick(["IsProd", "IsDev"]), value, self.pick([*others, {"Ref": "AWS::NoValue"}])]}
        return self.pick([{"Fn::ImportValue": "shared-value"}, {"Fn::GetAtt": ["Db", "Endpoint.Port"]}])

    def rule(self, template: dict[str, Any], groups: list[str]) -> dict[str, Any]:
        entry: dict[str, Any] = {"IpProtocol": self.maybe_intrinsic(self.pick(PROTOCOLS, "protocol"), template, PROTOCOLS)}
        low, high = self.pick(PORTS, "ports")
        for key, port in (("FromPort", low), ("ToPort", high)):
            if port is not None:
                entry[key] = self.maybe_intrinsic(port, template, [22, 80, 0, 3389, -1])
        source = self.random.random()
        if source < 0.47:
            entry["CidrIp"] = self.maybe_intrinsic(self.pick(CIDRS_V4, "cidr4"), template, CIDRS_V4)
        elif source < 0.74:
            entry["CidrIpv6"] = self.maybe_intrinsic(self.pick(CIDRS_V6, "cidr6"), template, CIDRS_V6)
        elif source < 0.86:
            entry["SourceSecurityGroupId"] = self.pick([{"Ref": self.pick(groups)}, {"Fn::GetAtt": [self.pick(groups), "GroupId"]}, "sg-0123456789abcdef0"])
        elif source < 0.96:
            entry["SourcePrefixListId"] = self.pick(["pl-12345678", {"Fn::ImportValue": "shared-list"}])
        elif source < 0.98:
            entry["CidrIp"], entry["CidrIpv6"] = self.pick(CIDRS_V4), self.pick(CIDRS_V6)
        return entry

    def template(self) -> dict[str, Any]:
        template: dict[str, Any] = {
            "Parameters": {"Stage": {"Type": "String", "Default": "dev", "AllowedValues": ["dev", "prod"]}},
            "Conditions": {"IsProd": {"Fn::Equals": [{"Ref": "Stage"}, "prod"]}, "IsDev": {"Fn::Not": [{"Condition": "IsProd"}]}},
            "Resources": {},
        }
        resources = template["Resources"]
        groups = [f"Group{index}" for index in range(self.random.randint(1, 3))]
        for name in groups:
            rules = [self.rule(template, groups) for _ in range(self.random.randint(0, 4))]
            properties: dict[str, Any] = {"GroupDescription": name, "VpcId": "vpc-1"}
            if rules:
                properties["SecurityGroupIngress"] = rules
            resources[name] = {"Type": "AWS::EC2::SecurityGroup", "Properties": properties}
            if self.random.random() < 0.15:
                resources[name]["Condition"] = self.pick(["IsProd", "IsDev"])
        for index in range(self.random.randint(0, 3)):
            standalone = self.rule(template, groups)
            standalone["GroupId"] = self.pick([{"Ref": self.pick(groups)}, {"Fn::GetAtt": [self.pick(groups), "GroupId"]}, "sg-0fedcba9876543210"])
            resources[f"Ingress{index}"] = {"Type": "AWS::EC2::SecurityGroupIngress", "Properties": standalone}
        for index in range(self.random.randint(0, 2)):
            members = [{"Ref": name} for name in self.random.sample(groups, self.random.randint(1, len(groups)))]
            kind = self.random.random()
            if kind < 0.5:
                resources[f"Host{index}"] = {"Type": "AWS::EC2::Instance", "Properties": {"ImageId": "ami-1", "SecurityGroupIds": members}}
            elif kind < 0.8:
                interfaces = [{"DeviceIndex": "0", "GroupSet": members, "SubnetId": "subnet-1"}]
                resources[f"Host{index}"] = {"Type": "AWS::EC2::Instance", "Properties": {"ImageId": "ami-1", "NetworkInterfaces": interfaces}}
            else:
                data = {"ImageId": "ami-1", "SecurityGroupIds": members}
                resources[f"Host{index}"] = {"Type": "AWS::EC2::LaunchTemplate", "Properties": {"LaunchTemplateData": data}}
        if self.random.random() < 0.1:
            resources["Db"] = {"Type": "AWS::RDS::DBInstance", "Properties": {"Engine": "mysql"}}
        return template


def _flow(value: Any) -> str:
    """``value`` as YAML flow, intrinsics in short form (``!Ref "X"``, ``!If [...]``), as templates are written by hand."""
    if isinstance(value, dict) and len(value) == 1:
        (key, item), = value.items()
        if key == "Ref" or key.startswith("Fn::") or key == "Condition":
            return f"!{key.removeprefix('Fn::')} {_flow(item)}"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(key)}: {_flow(item)}" for key, item in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(map(_flow, value)) + "]"
    return json.dumps(value)


def _yaml(template: dict[str, Any]) -> str:
    return "".join(f"{section}:\n" + "".join(f"  {json.dumps(key)}: {_flow(item)}\n" for key, item in body.items())
                   for section, body in template.items())


def _write_random(folder: Path, examples: int, seed: int) -> list[Path]:
    generator, paths = Generator(seed), []
    for index in range(examples):
        template = generator.template()
        if index % 2:
            path = folder / f"random-{index}.yaml"
            path.write_text(_yaml(template))
        else:
            path = folder / f"random-{index}.json"
            path.write_text(json.dumps(template, indent=1))
        paths.append(path)
    return paths


def _inputs(folder: Path, examples: int, seed: int) -> list[Path]:
    sys.path.insert(0, str(HERE))
    from corpus import corpus_dir, corpus_files
    from guard_cases import CASES

    paths = corpus_files(corpus_dir())
    for case in CASES:
        path = folder / f"case-{re.sub('[^A-Za-z0-9]+', '-', case.name)}.json"
        path.write_text(json.dumps(case.template()))
        paths.append(path)
    return paths + _write_random(folder, examples, seed)


#: The Hypothesis tests of the fast suite that check the core against an oracle or against itself.
PROPERTY_TESTS = (
    "tests/test_guard_properties.py::test_core_agrees_with_brute_force_oracle",
    "tests/test_guard_properties.py::test_verdict_does_not_depend_on_rule_order_or_duplicates",
    "tests/test_core_precision.py::test_a_conditional_template_finds_what_its_variants_find_together",
    "tests/test_core_readers.py::test_the_fast_path_for_plain_rules_decides_as_the_general_path",
    "tests/test_remediation.py::test_after_the_change_no_admin_port_is_open_nothing_else_closed_and_nothing_new_opened",
)


def _failing_property(mutant: str) -> str | None:
    """The first line of pytest's summary if a property test fails with ``mutant`` switched on."""
    env = {**os.environ, "MUTANT_UNDER_TEST": mutant, "PYTHONPATH": os.pathsep.join([os.getcwd(), os.path.join(os.getcwd(), "tests")])}
    command = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *PROPERTY_TESTS]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=1800)
    return None if done.returncode == 0 else next((line for line in done.stdout.splitlines() if line.startswith("FAILED")), done.stdout[-300:])


def _survivors(results: Path) -> list[str]:
    return [line.split(": ")[0].strip() for line in results.read_text().splitlines() if line.endswith((": survived", ": no tests"))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("mutants", nargs="*", help="mutant names (default: every survivor in ../results.txt)")
    parser.add_argument("--examples", type=int, default=1000, help="random templates (default 1000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=2, help="mutants checked at once (default 2)")
    parser.add_argument("--outcomes", help=argparse.SUPPRESS)  # the per-mutant child: write outcomes here
    parser.add_argument("--inputs", help=argparse.SUPPRESS)
    args = parser.parse_args()
    sys.path.insert(0, os.getcwd())  # the mutants' copy of the package
    if args.outcomes:
        _outcomes([Path(line) for line in Path(args.inputs).read_text().splitlines()], Path(args.outcomes))
        return 0
    names = args.mutants or _survivors(Path("../results.txt"))
    with tempfile.TemporaryDirectory(prefix="mutant-search-") as scratch:
        folder = Path(scratch)
        inputs = _inputs(folder, args.examples, args.seed)
        listing = folder / "inputs.txt"
        listing.write_text("\n".join(map(str, inputs)))

        def run(mutant: str) -> dict[str, Any]:
            out = folder / f"{mutant or 'original'}.json"
            env = {**os.environ, "MUTANT_UNDER_TEST": mutant, "PYTHONHASHSEED": "0"}
            command = [sys.executable, __file__, "--outcomes", str(out), "--inputs", str(listing)]
            done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=1800)
            if done.returncode:
                return {"": ["process failed", done.stderr[-500:]]}
            outcome: dict[str, Any] = json.loads(out.read_text())
            out.unlink()
            return outcome

        original = run("")
        print(f"{len(inputs)} inputs; {len(names)} mutants", flush=True)

        def verdict(name: str) -> str | None:
            """How ``name`` is told apart from the original, or ``None``."""
            mutated = run(name)
            if "" in mutated:
                return f"{mutated[''][0]}: {mutated[''][1]}"
            differing = next((path for path in original if mutated.get(path) != original[path]), None)
            if differing is not None:
                return (f"{differing}\n       original: {json.dumps(original[differing])[:400]}\n"
                        f"       mutant:   {json.dumps(mutated.get(differing))[:400]}")
            return _failing_property(name)

        told = 0
        with ThreadPoolExecutor(args.jobs) as pool:
            for name, how in zip(names, pool.map(verdict, names)):
                told += how is not None
                print(f"same   {name}" if how is None else f"TOLD   {name}: {how}", flush=True)
    print(f"{told} of {len(names)} mutants told apart")
    return 0


if __name__ == "__main__":
    sys.exit(main())
