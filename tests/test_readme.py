"""The README is true to the code: every code block in it is run, compared with what the code prints, or named
here with the test that runs it instead (a new block with none of these fails).

GIVEN each fenced block of README.md, found by its first line
WHEN  its Python runs (fragments with the names the README's text gives them: ``stack``, ``vpc``, ...), its
      commands run in a folder holding what they name, its JSON and YAML are read by the guard, and its sample
      output is produced again
THEN  nothing raises, each command exits 0, and each sample output is what the code prints.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from constructs_lib.policy.config import load_policy_file

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
BIN = Path(sys.executable).parent
CLEAN_TEMPLATE = {"Resources": {"Web": {"Type": "AWS::EC2::SecurityGroup", "Properties": {
    "GroupDescription": "web", "SecurityGroupIngress": [{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": "0.0.0.0/0"}]}}}}


def blocks() -> list[tuple[str, str, int]]:
    """``(language, text, line)`` of every fenced block."""
    found, lines = [], README.splitlines()
    index = 0
    while index < len(lines):
        if lines[index].startswith("```"):
            end = next(i for i in range(index + 1, len(lines)) if lines[i].startswith("```"))
            found.append((lines[index][3:].strip(), "\n".join(lines[index + 1:end]), index + 1))
            index = end
        index += 1
    return found


def block(first_line: str) -> str:
    """The one block whose first line starts with ``first_line``."""
    (text,) = [text for _, text, _ in blocks() if text.startswith(first_line)]
    return text


def cdk_names(**context: object) -> dict:
    """What the README's Python fragments take as given: an app, a stack, a VPC (imported: cheap to synthesize)."""
    import aws_cdk as cdk
    from aws_cdk import aws_ec2 as ec2

    app = cdk.App(context=context)
    stack = cdk.Stack(app, "Readme")
    vpc = ec2.Vpc.from_vpc_attributes(stack, "Vpc", vpc_id="vpc-0123456789abcdef0", availability_zones=["us-east-1a"])
    return {"cdk": cdk, "ec2": ec2, "app": app, "stack": stack, "vpc": vpc}


def trusted_context() -> dict:
    """The trusted prefix list the README's cdk.json snippet declares."""
    return json.loads("{" + block('"context": {"admin-port-guard": {"trustedPrefixLists"') + "}")["context"]


def run(text: str, names: dict) -> dict:
    exec(compile(text, "README.md", "exec"), names)  # noqa: S102 - the README's own examples
    return names


def quick_app() -> Path:
    """Run the README's first app; the cloud assembly it wrote (the app's own outdir: no CLI sets one here)."""
    return Path(run(block("import aws_cdk as cdk\nfrom aws_cdk import aws_ec2 as ec2\nfrom constructs_lib import BastionWebTier"), {})["app"].outdir)


def test_the_quick_app_synthesizes_clean_and_its_summary_has_the_shape_shown() -> None:
    summary = subprocess.run([BIN / "admin-port-guard", "--summary", str(quick_app())], capture_output=True, text=True, check=True).stdout
    shown = block("AdminPortGuard 0.1.0 checked")
    shape = r"AdminPortGuard \S+ checked \d+ templates?, \d+ security groups?, \d+ ingress rules? and \d+ attachments? in [0-9.]+ s: no findings\."
    assert re.fullmatch(shape, shown) and re.fullmatch(shape, summary.strip()), (shown, summary)


def test_the_constructs_fragment_runs_with_a_trusted_prefix_list() -> None:
    names = cdk_names(**trusted_context())
    ec2 = names["ec2"]
    names["other_security_group"] = ec2.SecurityGroup(names["stack"], "Other", vpc=names["vpc"])
    names["database"] = ec2.SecurityGroup(names["stack"], "Database", vpc=names["vpc"])
    run(block("from constructs_lib import BastionSecurityGroup, WebServerSecurityGroup"), names)["app"].synth()


def test_the_refusal_shown_is_the_one_raised() -> None:
    from constructs_lib import BastionSecurityGroup

    names = cdk_names()
    with pytest.raises(ValueError) as raised:
        BastionSecurityGroup(names["stack"], "Bastion", vpc=names["vpc"], admin_sources=["0.0.0.0/0", "pl-0123456789abcdef0"])
    shown = block("ValueError: BastionSecurityGroup 'Bastion'").removeprefix("ValueError: ")
    assert " ".join(str(raised.value).split()) == " ".join(shown.split())


def test_the_escape_hatch_report_shown_is_the_one_printed() -> None:
    import aws_cdk as cdk
    from aws_cdk import aws_ec2 as ec2

    from constructs_lib import BastionWebTier

    app = cdk.App()
    stack = cdk.Stack(app, "MyWebTier")
    vpc = ec2.Vpc.from_vpc_attributes(stack, "Vpc", vpc_id="vpc-0123456789abcdef0", availability_zones=["us-east-1a"])
    tier = BastionWebTier(stack, "Tier", vpc=vpc, admin_sources=["203.0.113.10/32"])
    ec2.CfnSecurityGroupIngress(stack, "Naive", group_id=tier.web.security_group_id, ip_protocol="tcp", from_port=22, to_port=22, cidr_ip="0.0.0.0/0")
    with pytest.raises(RuntimeError) as raised:
        app.synth()
    assert_printed(block("ERROR security group TierWebSecurityGroup6C54D1AE"), str(raised.value))


def assert_printed(shown: str, printed: str) -> None:
    """Each line shown is a line printed; a line shown ending in ``...`` is the start of one."""
    lines = printed.replace("\\n", "\n").removeprefix("ValidationFailed: ").splitlines()  # the jsii error's name
    for line in shown.splitlines():
        if line.endswith("..."):
            assert any(printed_line.startswith(line[:-3]) for printed_line in lines), line
        else:
            assert line in lines, line


def test_registering_the_guard_and_acknowledging_a_finding_run_as_shown() -> None:
    names = run(block("from constructs_lib import add_admin_port_guard\n"), cdk_names())
    assert names["app"].node.try_find_child("AdminPortGuardStages") is not None  # the guard is registered
    names = cdk_names()
    from constructs_lib import add_admin_port_guard

    add_admin_port_guard(names["app"])
    ec2 = names["ec2"]
    names["lab_group"] = ec2.SecurityGroup(names["stack"], "Lab", vpc=names["vpc"])
    names["lab_group"].add_ingress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(22))
    run(block("from constructs_lib import acknowledge_admin_port_finding"), names)["app"].synth()  # world SSH, accepted


def test_the_report_of_a_finding_shown_is_the_one_printed() -> None:
    import aws_cdk as cdk
    from aws_cdk import aws_ec2 as ec2

    from constructs_lib import add_admin_port_guard

    app = cdk.App()
    add_admin_port_guard(app)
    stack = cdk.Stack(app, "WorldSshByOverride")
    ec2.CfnSecurityGroup(stack, "Web", group_description="web", security_group_ingress=[
        ec2.CfnSecurityGroup.IngressProperty(ip_protocol="tcp", from_port=22, to_port=22, cidr_ip="0.0.0.0/0")])
    with pytest.raises(RuntimeError) as raised:
        app.synth()
    assert_printed(block("ERROR security group Web allows tcp/22"), str(raised.value))


@pytest.mark.parametrize("first_line", [
    "import aws_cdk as cdk\nfrom aws_cdk import aws_kms as kms",  # the Config rule app
    "from constructs_lib import AdminPortGuardConfigRule, AdminPortGuardMemberRole",
    "from constructs_lib import AdminPortGuardConfigRule, Remediation",
])
def test_the_config_rule_examples_synthesize(first_line: str) -> None:
    names = cdk_names()
    names["member_stack"] = names["cdk"].Stack(names["app"], "Member")
    run(block(first_line), names)["app"].synth()


def test_the_policy_snippets_are_read_by_the_guard() -> None:
    for path, text in [("cdk.json", "{" + block('"context": {\n  "admin-port-guard"') + "}"),
                       ("cdk.json", "{" + block('"context": {"admin-port-guard": {"trustedPrefixLists"') + "}"),
                       (".admin-port-guard.yaml", block("# .admin-port-guard.yaml"))]:
        policy = load_policy_file(path, text)
        assert "pl-0123456789abcdef0" in policy.trusted_prefix_lists, path


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    """A folder with what the README's commands name: a cdk.out, templates/, path/to/*.template.yaml, the config file."""
    (tmp_path / "cdk.out").symlink_to(quick_app())
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "web.template.json").write_text(json.dumps(CLEAN_TEMPLATE))
    (tmp_path / "path" / "to").mkdir(parents=True)
    (tmp_path / "path" / "to" / "web.template.yaml").write_text(yaml.safe_dump(CLEAN_TEMPLATE))
    (tmp_path / ".admin-port-guard.yaml").write_text(block("# .admin-port-guard.yaml"))
    return tmp_path


def commands(text: str) -> list[str]:
    return [line.split("   #")[0].strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


def test_the_cli_commands_run_as_written(project: Path) -> None:
    gitlab = yaml.safe_load(block("admin-port-guard:                  # .gitlab-ci.yml"))["admin-port-guard"]
    lines = (commands(block("admin-port-guard cdk.out                                  # or template files"))
             + commands(block("admin-port-guard templates/ --create-baseline")) + gitlab["script"]
             + commands(block("JSII_HOST_STACK_TRACES=1 CDK_DEBUG=1 npx cdk synth"))[1:])  # the synth: test_source_locations.py
    assert len(lines) == 12
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    for line in lines:
        result = subprocess.run(["bash", "-c", line], cwd=project, env=env, capture_output=True, text=True)
        assert result.returncode == 0, (line, result.stdout, result.stderr)
    assert all((project / name).is_file() for name in gitlab["artifacts"]["reports"].values())
    assert (project / "guard.sarif").is_file() and (project / ".admin-port-guard-baseline.json").is_file()


def test_the_action_example_names_the_action_s_inputs() -> None:
    (step,) = yaml.safe_load(block("      - uses: <org>/<this-repo>@<ref>"))
    inputs = yaml.safe_load((ROOT / "action.yml").read_text())["inputs"]
    assert set(step["with"]) <= set(inputs)


def test_the_make_targets_named_exist() -> None:
    named = re.findall(r"^make ([a-z-]+)", "\n".join(text for language, text, _ in blocks() if language == "sh"), re.MULTILINE)
    assert {"synth", "test", "deploy-local", "audit-live"} <= set(named)
    for target in set(named):
        assert subprocess.run(["make", "-n", "-C", str(ROOT), target, "REGION=us-east-1"], capture_output=True).returncode == 0, target


#: Every block, by the start of its first line: the test here that runs it, or why none here does.
BLOCKS = {
    "make synth\nmake test": "the README's two commands: CI runs make test, test_the_make_targets_named_exist dry-runs both",
    "AdminPortGuard 0.1.0 checked": "test_the_quick_app_synthesizes_clean_and_its_summary_has_the_shape_shown",
    "pip install '/path/to/this/repo[cdk]'": "tests/test_packaging.py installs the package into a clean venv",
    "import aws_cdk as cdk\nfrom aws_cdk import aws_ec2": "test_the_quick_app_synthesizes_clean_and_its_summary_has_the_shape_shown",
    '"context": {"admin-port-guard": {"trustedPrefixLists"': "test_the_policy_snippets_are_read_by_the_guard",
    "from constructs_lib import BastionSecurityGroup, WebServerSecurityGroup": "test_the_constructs_fragment_runs_with_a_trusted_prefix_list",
    "ValueError: BastionSecurityGroup 'Bastion'": "test_the_refusal_shown_is_the_one_raised",
    "ERROR security group TierWebSecurityGroup6C54D1AE": "test_the_escape_hatch_report_shown_is_the_one_printed",
    "make deploy-local": "the emulator deploy: tests/integration (make deploy-local); test_the_make_targets_named_exist dry-runs it",
    "make synth ADMIN_CIDR=203.0.113.10/32": "needs an AWS account (cdk bootstrap, cdk deploy); test_the_make_targets_named_exist dry-runs its make targets",
    "from constructs_lib import add_admin_port_guard\n": "test_registering_the_guard_and_acknowledging_a_finding_run_as_shown",
    "ERROR security group Web allows tcp/22": "test_the_report_of_a_finding_shown_is_the_one_printed",
    "from constructs_lib import acknowledge_admin_port_finding": "test_registering_the_guard_and_acknowledging_a_finding_run_as_shown",
    '"context": {\n  "admin-port-guard"': "test_the_policy_snippets_are_read_by_the_guard",
    "# .admin-port-guard.yaml": "test_the_policy_snippets_are_read_by_the_guard",
    "admin-port-guard cdk.out": "test_the_cli_commands_run_as_written",
    "admin-port-guard:                  # .gitlab-ci.yml": "test_the_cli_commands_run_as_written",
    "admin-port-guard templates/ --create-baseline": "test_the_cli_commands_run_as_written",
    "infra/app.py:11: Exposed": "the CLI's text with the app's line: tests/test_source_locations.py",
    "JSII_HOST_STACK_TRACES=1 CDK_DEBUG=1 npx cdk synth": "test_the_cli_commands_run_as_written (the synth itself: tests/test_source_locations.py)",
    "      - uses: <org>/<this-repo>@<ref>": "test_the_action_example_names_the_action_s_inputs",
    "import aws_cdk as cdk\nfrom aws_cdk import aws_kms": "test_the_config_rule_examples_synthesize",
    "from constructs_lib import AdminPortGuardConfigRule, AdminPortGuardMemberRole": "test_the_config_rule_examples_synthesize",
    "from constructs_lib import AdminPortGuardConfigRule, Remediation": "test_the_config_rule_examples_synthesize",
    "graph LR": "a diagram: the exposure report's (cdk.out/exposure.md of the reference stack, tests/test_exposure.py)",
}


def test_every_block_is_run_here_or_named_with_the_test_that_runs_it() -> None:
    for _, text, line in blocks():
        matches = [start for start in BLOCKS if text.startswith(start)]
        assert len(matches) == 1, f"README.md:{line}: say in BLOCKS which test runs this block: {text.splitlines()[0]!r}"
    for why in BLOCKS.values():
        if why.startswith("test_"):
            assert why.split()[0] in globals(), why
