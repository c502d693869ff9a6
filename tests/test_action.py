"""The GitHub Action (action.yml) and the PR workflow that runs it pass actionlint.

actionlint checks workflows, not action metadata: the workflow's `uses: ./` step is checked against
action.yml's inputs, and the action's own steps are checked as the job of a reusable workflow whose
inputs are the action's (expressions, step ids, `inputs.*` names, and the run: scripts with shellcheck).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
ACTION = yaml.safe_load((ROOT / "action.yml").read_text())
WORKFLOW = ROOT / ".github" / "workflows" / "pr-checks.yml"


def actionlint(*arguments: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    command = [str(BIN / "actionlint"), "-no-color", "-oneline", "-shellcheck", str(BIN / "shellcheck"), "-pyflakes=", *arguments]
    return subprocess.run(command, cwd=ROOT, input=stdin, capture_output=True, text=True, timeout=120)


def action_as_workflow() -> str:
    """action.yml's steps as the job of a reusable workflow with the same inputs and outputs."""
    workflow = {
        "name": "action.yml",
        "on": {"workflow_call": {
            "inputs": {name: {"type": "string", "required": False, "default": spec["default"]} for name, spec in ACTION["inputs"].items()},
            "outputs": {name: {"value": f"${{{{ jobs.action.outputs.{name} }}}}"} for name in ACTION["outputs"]},
        }},
        "jobs": {"action": {
            "runs-on": "ubuntu-latest",
            "outputs": {name: spec["value"] for name, spec in ACTION["outputs"].items()},
            "steps": ACTION["runs"]["steps"],
        }},
    }
    return json.dumps(workflow)  # JSON is YAML


def test_the_workflow_runs_the_guard_through_this_repositorys_action_and_passes_actionlint():
    result = actionlint(str(WORKFLOW))
    assert result.returncode == 0, result.stdout + result.stderr
    steps = [step for job in yaml.safe_load(WORKFLOW.read_text())["jobs"].values() for step in job["steps"]]
    assert any(step.get("uses") == "./" for step in steps)


def test_the_action_steps_pass_actionlint():
    assert ACTION["runs"]["using"] == "composite"
    result = actionlint("-stdin-filename", "action.yml", "-", stdin=action_as_workflow())
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_catches_a_broken_action():
    broken = action_as_workflow().replace("steps.guard.outputs.sarif_file", "steps.gaurd.outputs.sarif_file")
    result = actionlint("-stdin-filename", "action.yml", "-", stdin=broken)
    assert result.returncode == 1 and "gaurd" in result.stdout


def test_every_input_of_the_action_is_used():
    text = (ROOT / "action.yml").read_text()
    assert [name for name in ACTION["inputs"] if not re.search(rf"inputs\.{name}\b", text)] == []


def test_the_guard_step_passes_the_baseline_rule_selection_and_soft_fail_to_the_cli(tmp_path):
    """The action's guard step, run as GitHub runs it (bash -e -o pipefail), on a folder of templates."""
    import os

    guard_step = next(step for step in ACTION["runs"]["steps"] if step.get("id") == "guard")
    rules = [{"IpProtocol": "tcp", "FromPort": port, "ToPort": port, "CidrIp": "0.0.0.0/0"} for port in (22, 3389)]
    rules.append({"IpProtocol": "tcp", "FromPort": 23, "ToPort": 23, "CidrIp": "52.0.0.0/8"})
    (tmp_path / "cdk.out").mkdir()
    template = tmp_path / "cdk.out" / "web.json"
    template.write_text(json.dumps({"Resources": {"Web": {"Type": "AWS::EC2::SecurityGroup", "Properties": {
        "GroupDescription": "web", "SecurityGroupIngress": rules[:1]}}}}))
    baseline = tmp_path / "baseline.json"
    assert subprocess.run([str(BIN / "admin-port-guard"), str(template), "--create-baseline", str(baseline)], capture_output=True).returncode == 0
    template.write_text(template.read_text().replace(json.dumps(rules[:1])[1:-1], ", ".join(json.dumps(rule) for rule in rules)))

    def run(**inputs: str) -> dict:
        (tmp_path / "out").write_text("")
        env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "RUNNER_TEMP": str(tmp_path), "GITHUB_OUTPUT": str(tmp_path / "out"),
               "GITHUB_STEP_SUMMARY": str(tmp_path / "summary"), "SARIF_FILE": str(tmp_path / "guard.sarif"), "ADMIN_PORTS": "", "BROAD_IPV4_MAX": "",
               "BROAD_IPV6_PREFIX": "", "BROAD_SOURCES": "true", "TRUST_PREFIX_LISTS": "", "BASELINE": "", "RULES": "", "SKIP_RULES": "",
               "SOFT_FAIL": "false", **inputs}
        result = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", guard_step["run"]], cwd=tmp_path, env=env,
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        return dict(line.split("=", 1) for line in (tmp_path / "out").read_text().splitlines())

    assert run() | {"sarif_file": ""} == {"status": "1", "findings": "3", "acknowledged": "0", "baselined": "0", "sarif_file": ""}
    assert run(BASELINE=str(baseline))["findings"] == "2"  # SSH is in the baseline
    assert run(BASELINE=str(baseline))["baselined"] == "1"
    assert run(BASELINE=str(baseline), SKIP_RULES="BroadAdminSource, WorldOpenAdminPort[3389]")["status"] == "0"
    assert run(RULES="BroadAdminSource\nWorldOpenAdminPort[22]")["findings"] == "2"
    assert run(SOFT_FAIL="true")["status"] == "0"
