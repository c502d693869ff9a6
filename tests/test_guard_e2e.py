"""End to end through the real, pinned CDK CLI (`npx cdk synth`) and the guard CLI.

These run the stock CLI on small apps in tests/apps/, so they prove what users see: the exit code.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = Path(__file__).resolve().parent / "apps"


def cdk_synth(app: str, outdir: Path | str, cwd: Path = ROOT, **app_env: str) -> subprocess.CompletedProcess:
    """A plain ``cdk synth`` (no stack selection) of ``tests/apps/APP`` by the stock CLI; ``app_env`` goes to the app."""
    env = dict(os.environ, PATH=f"{ROOT / 'node_modules' / '.bin'}{os.pathsep}{os.environ['PATH']}", PYTHONPATH=str(ROOT), **app_env)
    command = [str(ROOT / "node_modules" / ".bin" / "cdk"), "synth", "--quiet", "--app", f"{sys.executable} {APPS / app}", "--output", str(outdir)]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def guard_cli(*arguments: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "constructs_lib.guard", *arguments]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60)


def test_world_ssh_through_property_override_fails_cdk_synth(tmp_path: Path) -> None:
    # GIVEN an app whose SSH rule to 0.0.0.0/0 exists only as a raw property override
    # WHEN the stock CDK CLI synthesizes it with the guard registered
    result = cdk_synth("world_ssh_override.py", tmp_path)
    # THEN synth fails and names the rule, the construct and the port
    assert result.returncode != 0, result.stdout + result.stderr
    output = result.stdout + result.stderr
    assert "AdminPortGuard::AdminPortGuard-WorldOpenAdminPort[22]" in output
    assert "WorldSshByOverride/Web" in output
    # AND the guard CLI on the same cloud assembly agrees, in SARIF too
    sarif_path = tmp_path / "guard.sarif"
    cli = guard_cli(str(tmp_path), "--format", "sarif", "--output", str(sarif_path))
    assert cli.returncode == 1
    sarif = json.loads(sarif_path.read_text())
    assert [r["ruleId"] for r in sarif["runs"][0]["results"]] == ["WorldOpenAdminPort"]


def test_the_default_relative_output_directory_is_checked_too(tmp_path: Path) -> None:
    # GIVEN the stock CLI run from the app's folder with the default, relative output directory (CDK then hands
    # the plugin template paths relative to the working directory)
    result = cdk_synth("world_ssh_override.py", "cdk.out", cwd=tmp_path)
    # THEN the world-open rule still fails the synth, and the guard's report agrees
    assert result.returncode != 0, result.stdout + result.stderr
    assert "AdminPortGuard::AdminPortGuard-WorldOpenAdminPort[22]" in result.stdout + result.stderr
    report = json.loads((tmp_path / "cdk.out" / "admin-port-guard-report.json").read_text())
    assert [finding["ruleName"] for finding in report["findings"]] == ["AdminPortGuard-WorldOpenAdminPort[22]"]


def test_a_crash_inside_the_guard_fails_cdk_synth_whatever_the_app_acknowledges(tmp_path: Path) -> None:
    # GIVEN an app whose guard core raises (crash injected), and that acknowledges in advance every spelling of the
    # crash's id that CDK accepts, and every other rule of the guard, on the app and on the stack
    result = cdk_synth("guard_crashes.py", tmp_path)
    # THEN the stock CLI exits non-zero with the guard's own failure, not a silent pass
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "AdminPortGuard-ValidationFailed-" in output and "injected crash inside the policy core" in output
    # AND the report lists the crash as a fatal violation with an id made for this crash, never as suppressed
    report = json.loads((tmp_path / "validation-report.json").read_text())
    guard = next(p for p in report["pluginReports"] if p["pluginName"] == "AdminPortGuard")
    (crash,) = guard["violations"]
    assert crash["severity"] == "fatal" and crash["ruleName"].startswith("AdminPortGuard-ValidationFailed-")
    assert len(crash["ruleName"]) > len("AdminPortGuard-ValidationFailed-") + 8
    assert not guard.get("suppressedViolations")
    # AND the guard CLI on that cloud assembly exits 1, naming the crash
    cli = guard_cli(str(tmp_path))
    assert cli.returncode == 1, cli.stdout + cli.stderr
    assert "ValidationFailed" in cli.stdout and "injected crash inside the policy core" in cli.stdout


def test_guard_cli_fails_on_a_cloud_assembly_whose_plugin_crashed(tmp_path: Path) -> None:
    # GIVEN a synth in which another validation plugin crashed
    result = cdk_synth("other_plugin_crashes.py", tmp_path)
    report = json.loads((tmp_path / "validation-report.json").read_text())
    crashed = next(p for p in report["pluginReports"] if p["pluginName"] == "CrashingPlugin")
    # (the stock CDK CLI exits 0 here: that is why the guard CLI must check the report)
    assert result.returncode == 0 and crashed["conclusion"] == "failure" and crashed["metadata"]["error"]
    # WHEN the guard CLI checks that cloud assembly, whose template itself is clean
    cli = guard_cli(str(tmp_path))
    # THEN it fails, naming the crashed plugin
    assert cli.returncode == 1, cli.stdout + cli.stderr
    assert "AdminPortGuard-ValidationFailed" in cli.stdout and "CrashingPlugin" in cli.stdout


@pytest.mark.parametrize("bad_input", ["missing.json", "not-a-template.json"])
def test_guard_cli_exits_2_on_unreadable_input(tmp_path: Path, bad_input: str) -> None:
    (tmp_path / "not-a-template.json").write_text('{"Description": "no resources"}')
    result = guard_cli(str(tmp_path / bad_input))
    assert result.returncode == 2 and "error:" in result.stderr


def test_the_reference_app_registers_the_guard(monkeypatch, tmp_path: Path) -> None:
    """The guard reports nothing on a clean synth, so prove app.py wires it: a drifted stack must fail."""
    from aws_cdk import aws_ec2 as ec2

    import app as reference_app
    from stacks import ReferenceStack

    class DriftedStack(ReferenceStack):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            group = ec2.CfnSecurityGroup(self, "Drift", group_description="drift", vpc_id="vpc-0123456789abcdef0")
            group.add_property_override("SecurityGroupIngress", [{"IpProtocol": "-1", "CidrIpv6": "::/0"}])

    monkeypatch.setattr(reference_app, "ReferenceStack", DriftedStack)
    monkeypatch.setenv("CDK_OUTDIR", str(tmp_path))
    with pytest.raises(RuntimeError, match=r"AdminPortGuard-WorldOpenAdminPort\[22\]"):
        reference_app.main()


def test_world_ssh_split_across_stacks_stages_and_nested_stacks(tmp_path: Path) -> None:
    # GIVEN halves of IPv4 on one group from two stacks, and RDP to 2000::/3 in a nested stack of a stage
    result = cdk_synth("split_across_stacks.py", tmp_path)
    # THEN the pack sees both, with their construct paths, and synth fails
    assert result.returncode != 0
    report = json.loads((tmp_path / "validation-report.json").read_text())
    guard = next(p for p in report["pluginReports"] if p.get("pluginName") == "AdminPortGuard")
    found = {(v["ruleName"], c["constructPath"]) for v in guard["violations"] for c in v["violatingConstructs"]}
    assert found == {
        ("AdminPortGuard-WorldOpenAdminPort[22]", "GroupOwner/Shared"),
        ("AdminPortGuard-WorldOpenAdminPort[3389]", "Prod/Parent/Network/Rdp"),
    }
    # AND the CLI, reading the same cloud assembly through its manifests, finds the same two
    cli = guard_cli(str(tmp_path), "--format", "json")
    assert cli.returncode == 1
    records = json.loads(cli.stdout)["findings"]
    assert {(r["ruleName"], r["constructPath"]) for r in records} == found


def test_policy_core_and_its_front_ends_import_neither_aws_cdk_nor_jsii() -> None:
    code = (
        "import sys, json, pathlib, tempfile\n"
        "from constructs_lib.policy import check_paths\n"
        "from constructs_lib import exposure\n"
        "from constructs_lib.policy.exposure import analyse\n"
        "from constructs_lib.policy import load\n"
        "from constructs_lib.guard import __main__\n"
        "path = pathlib.Path(tempfile.mkdtemp()) / 't.json'\n"
        "path.write_text(json.dumps({'Resources': {'Sg': {'Type': 'AWS::EC2::SecurityGroup', 'Properties': {}}}}))\n"
        "check_paths([path]); exposure.to_markdown(analyse(load([path])))\n"
        "loaded = sorted({name.split('.')[0] for name in sys.modules} & {'aws_cdk', 'jsii', 'constructs', 'cdk_nag'})\n"
        "sys.exit(f'loaded: {loaded}' if loaded else 0)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
