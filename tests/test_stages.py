"""Stacks in stages, at any depth, the templates they deploy as assets (a Service Catalog product stack, a
StackSet's template) and an AwsCustomResource's SDK call fail a plain ``cdk synth`` of the stock CLI
(tests/apps/stages.py); the same app closed (the custom resource reads an SSM parameter) passes.

One synth per layout: the guard on the app (world SSH, then the same app closed) and the guard on an inner stage.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from test_guard_e2e import cdk_synth, guard_cli

WORLD_SSH = "AdminPortGuard-WorldOpenAdminPort[22]"


def guard_report(outdir: Path) -> dict:
    report = json.loads((outdir / "validation-report.json").read_text())
    return next(p for p in report["pluginReports"] if p["pluginName"] == "AdminPortGuard")


@pytest.fixture(scope="module")
def open_app(tmp_path_factory) -> tuple[Path, object]:
    outdir = tmp_path_factory.mktemp("stages-open")
    return outdir, cdk_synth("stages.py", outdir, GUARD="app", OPEN="1")


def test_world_ssh_in_a_stage_and_in_a_stage_in_a_stage_fails_a_plain_synth(open_app) -> None:
    outdir, result = open_app
    output = result.stdout + result.stderr
    # THEN the plain synth fails on both stages' findings, each named by its construct path (stage path first)
    assert result.returncode != 0, output
    assert "Prod/Web/Web/Resource" in output and "Prod/Inner/Deep/Web/Resource" in output
    assert "Prod/Web/WebProduct/Web/Resource" in output  # the product stack's template, a file asset
    assert "OpsCall" in output  # the group the AwsCustomResource opens, named with the call that opens it
    assert "AdminPortGuard::" + WORLD_SSH in output
    # AND the stages' stacks are validated as CDK Pipelines' are: validateOnSynth in their artifacts
    for manifest in (outdir / "assembly-Prod" / "manifest.json", outdir / "assembly-Prod" / "assembly-Prod-Inner" / "manifest.json"):
        stacks = [a for a in json.loads(manifest.read_text())["artifacts"].values() if a["type"] == "aws:cloudformation:stack"]
        assert stacks and all(a["properties"]["validateOnSynth"] is True for a in stacks)
    # AND the violations keep their construct paths (so acknowledgements on the constructs apply), the clean
    # top-level stack has none
    found = {(v["ruleName"], c["constructPath"]) for v in guard_report(outdir)["violations"] for c in v["violatingConstructs"]}
    assert found == {(WORLD_SSH, "Prod/Web/Web/Resource"), (WORLD_SSH, "Prod/Inner/Deep/Web/Resource"),
                     (WORLD_SSH, "Prod/Web/WebProduct/Web/Resource"), (WORLD_SSH, "Prod/Web/Baseline"), (WORLD_SSH, "Prod/Web/Ops")}
    # AND the guard CLI on the cloud assembly agrees
    cli = guard_cli(str(outdir), "--format", "json")
    assert cli.returncode == 1
    assert {(r["ruleName"], r["constructPath"]) for r in json.loads(cli.stdout)["findings"]} == found


def test_the_same_stages_with_the_port_closed_pass_a_plain_synth(tmp_path: Path) -> None:
    result = cdk_synth("stages.py", tmp_path, GUARD="app", OPEN="0")
    assert result.returncode == 0, result.stdout + result.stderr
    # AND the guard checked all three stacks (a passing plugin is left out of validation-report.json)
    ran = json.loads((tmp_path / "admin-port-guard-report.json").read_text())
    assert ran["checked"]["templates"] == 5 and ran["findings"] == []  # 3 stacks, the product's and the StackSet's templates


def test_a_guard_registered_on_a_stage_fails_a_plain_synth_on_that_stage(tmp_path: Path) -> None:
    # GIVEN the guard registered on the inner stage only, once that stage exists
    result = cdk_synth("stages.py", tmp_path, GUARD="inner", OPEN="1")
    output = result.stdout + result.stderr
    # THEN the plain synth fails on the inner stage's finding, the message naming the stack and construct
    assert result.returncode != 0, output
    assert "[stack Prod/Inner/Deep, Prod/Inner/Deep/Web/Resource: a stage's stack" in output
    # AND only that stage is its scope: the outer stage's open stack is not its finding
    (violation,) = guard_report(tmp_path)["violations"]
    assert violation["ruleName"] == WORLD_SSH and violation["violatingConstructs"] == [{"constructPath": ""}]
