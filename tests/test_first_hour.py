"""A new user's app breaks the tier the careless way, and the pull-request loop still works.

GIVEN a fresh app (its own folder and cdk.json, the guard installed, no plugin registered) that opens world SSH
      on the web group with ``web.connections.allow_from_any_ipv4(Port.tcp(22))`` and SSH from one address on it
      (the web group takes SSH only from security groups)
WHEN  the GitHub Action's own steps (action.yml: synth, guard, verdict) run on it with the stock CDK CLI
THEN  the synth fails with the guard's report (no JavaScript frame, no jsii exception), the cloud assembly is
      written, the guard CLI exits 1, and each SARIF result points at the app's Python line that caused it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from needs import needs_toolchain

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
STEPS = {step.get("id") or step.get("name"): step for step in yaml.safe_load((ROOT / "action.yml").read_text())["runs"]["steps"]}

APP = """\
import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from constructs_lib import BastionWebTier

app = cdk.App()
stack = cdk.Stack(app, "FirstHour")
vpc = ec2.Vpc(stack, "Vpc", max_azs=1, nat_gateways=0,
              subnet_configuration=[ec2.SubnetConfiguration(name="Public", subnet_type=ec2.SubnetType.PUBLIC)])
tier = BastionWebTier(stack, "Tier", vpc=vpc, admin_sources=["203.0.113.10/32"])
tier.web.connections.allow_from_any_ipv4(ec2.Port.tcp(22))
tier.web.connections.allow_from(ec2.Peer.ipv4("198.51.100.7/32"), ec2.Port.tcp(22))
app.synth()
"""
WORLD_SSH_LINE = APP.splitlines().index("tier.web.connections.allow_from_any_ipv4(ec2.Port.tcp(22))") + 1
CIDR_SSH_LINE = WORLD_SSH_LINE + 1


def run_step(name: str, app: Path, runner: Path, **inputs: str) -> tuple[subprocess.CompletedProcess, dict[str, str]]:
    """Run one ``run:`` step of action.yml with bash, as the runner would: its env (the action's inputs), outputs."""
    step = STEPS[name]
    outputs = runner / f"{name}.out"
    outputs.write_text("")
    env = {key: str(value) for key, value in (step.get("env") or {}).items() if "${{" not in str(value)}
    env.update(inputs)
    env.update(
        PATH=f"{BIN}{os.pathsep}{ROOT / 'node_modules' / '.bin'}{os.pathsep}{os.environ['PATH']}",
        HOME=os.environ.get("HOME", str(runner)), RUNNER_TEMP=str(runner), GITHUB_OUTPUT=str(outputs),
        GITHUB_STEP_SUMMARY=str(runner / "summary.md"), CDK_DISABLE_VERSION_CHECK="1",
    )
    result = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", step["run"]], cwd=app, env=env,
                            capture_output=True, text=True, timeout=300)
    values = dict(line.split("=", 1) for line in outputs.read_text().splitlines() if "=" in line)
    return result, values


@pytest.fixture(scope="module")
def action(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The new app, and the action's synth and guard steps run on it once."""
    cli = needs_toolchain("the first-hour tests")
    app = tmp_path_factory.mktemp("first-hour")
    runner = tmp_path_factory.mktemp("runner")
    (app / "app.py").write_text(APP)
    (app / "cdk.json").write_text(json.dumps({"app": f"{sys.executable} app.py", "context": {"cli-telemetry": False}}))
    # the action installs the CDK CLI under $RUNNER_TEMP/admin-port-guard-cdk; here, the pinned one
    (runner / "admin-port-guard-cdk" / "node_modules" / ".bin").mkdir(parents=True)
    (runner / "admin-port-guard-cdk" / "node_modules" / ".bin" / "cdk").symlink_to(cli)
    synth, synth_outputs = run_step("synth", app, runner, APP="", CONTEXT="", SOURCE_LINES="true")
    sarif = runner / "guard.sarif"
    guard, guard_outputs = run_step("guard", app, runner, SARIF_FILE=str(sarif), ADMIN_PORTS="", BROAD_IPV4_MAX="",
                                    BROAD_IPV6_PREFIX="", BROAD_SOURCES="true", TRUST_PREFIX_LISTS="")
    verdict, _ = run_step("Verdict", app, runner, SYNTH_STATUS=synth_outputs["status"],
                          GUARD_STATUS=guard_outputs["status"], SOFT_FAIL="false")
    return {"app": app, "synth": synth, "synth_status": synth_outputs["status"], "guard": guard,
            "guard_outputs": guard_outputs, "sarif": sarif, "verdict": verdict}


def test_cdk_synth_fails_with_the_guard_s_report_and_no_javascript(action) -> None:
    synth = action["synth"]
    assert action["synth_status"] == "1", synth.stdout + synth.stderr
    assert "AdminPortGuard::AdminPortGuard-WorldOpenAdminPort[22]" in synth.stderr
    assert "AdminPortGuard::AdminPortGuard-WebServerSshSource" in synth.stderr
    assert f"ERROR app.py:{WORLD_SSH_LINE}: security group TierWebSecurityGroup" in synth.stderr  # the app's line
    assert f"ERROR app.py:{CIDR_SSH_LINE}: security group TierWebSecurityGroup" in synth.stderr
    for javascript in ("program.js", "JavaScriptError", "jsii", "Traceback"):
        assert javascript not in synth.stderr + synth.stdout, javascript


def test_the_cloud_assembly_is_written_and_the_guard_cli_exits_1(action) -> None:
    assert (action["app"] / "cdk.out" / "manifest.json").is_file()
    assert (action["app"] / "cdk.out" / "FirstHour.template.json").is_file()
    assert action["guard_outputs"]["status"] == "1", action["guard"].stdout + action["guard"].stderr
    assert action["guard_outputs"]["findings"] == "2" and action["guard_outputs"]["acknowledged"] == "0"
    assert action["verdict"].returncode == 1 and "admin ports are open to the internet" in action["verdict"].stdout


def test_the_action_s_sarif_points_at_the_app_s_python_line(action) -> None:
    results = json.loads(action["sarif"].read_text())["runs"][0]["results"]
    located = {
        (result["ruleId"], result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
         result["locations"][0]["physicalLocation"]["region"]["startLine"])
        for result in results
    }
    # the construct's own rule (SSH only from security groups) reaches code scanning as the core's rules do
    assert located == {("WorldOpenAdminPort", "app.py", WORLD_SSH_LINE), ("WebServerSshSource", "app.py", CIDR_SSH_LINE)}
