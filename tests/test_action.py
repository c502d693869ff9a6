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
