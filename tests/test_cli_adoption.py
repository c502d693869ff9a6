"""Adopting the guard on an existing estate: baselines, Metadata acknowledgements, rule selection, soft fail, config files.

GIVEN template files as a team with many existing templates has them (some findings accepted, some not)
WHEN  the CLI checks them with a baseline, acknowledgements in the templates, a rule selection, --soft-fail
      or a configuration file found from the working directory
THEN  accepted findings pass but stay visible, new ones fail, and no option ever passes a crashed check
      or a malformed template.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from constructs_lib.guard.__main__ import main as guard_main

REASON = "isolated lab, torn down nightly (SEC-42)"


def rule(port: int, cidr: str = "0.0.0.0/0") -> dict:
    return {"IpProtocol": "tcp", "FromPort": port, "ToPort": port, "CidrIp": cidr}


def group(*rules: dict, **extra) -> dict:
    return {"Type": "AWS::EC2::SecurityGroup", "Properties": {"GroupDescription": "g", "SecurityGroupIngress": list(rules)}, **extra}


def write(path: Path, resources: dict, indent: int | None = None) -> Path:
    path.write_text(json.dumps({"Resources": resources}, indent=indent))
    return path


def report(capsys) -> tuple[str, str]:
    captured = capsys.readouterr()
    return captured.out, captured.err


# --- baselines -----------------------------------------------------------------------------------

def test_a_baseline_made_today_passes_todays_findings_and_fails_a_new_one(tmp_path, capsys) -> None:
    template = write(tmp_path / "estate.json", {"Legacy": group(rule(22), rule(3389)), "Other": group(rule(23))})
    baseline = tmp_path / "baseline.json"
    assert guard_main([str(template), "--create-baseline", str(baseline)]) == 0  # today's findings are accepted
    out, err = report(capsys)
    assert "baseline written to" in err and "0 finding(s), 0 acknowledged, 3 baselined" in out
    assert guard_main([str(template), "--baseline", str(baseline)]) == 0
    assert out.count("  BASELINED AdminPortGuard-WorldOpenAdminPort[") == 3 and report(capsys)
    # WHEN a new finding appears THEN it fails, and only it
    write(template, {"Legacy": group(rule(22), rule(3389)), "Other": group(rule(23)), "New": group(rule(5900))})
    assert guard_main([str(template), "--baseline", str(baseline), "--format", "json", "--output", str(tmp_path / "r.json")]) == 1
    summary = json.loads((tmp_path / "r.json").read_text())["summary"]
    assert (summary["findings"], summary["baselined"], summary["staleBaselineEntries"]) == (1, 3, [])
    assert [r["logicalId"] for r in json.loads((tmp_path / "r.json").read_text())["findings"] if not r["baselined"]] == ["New"]


def test_fingerprints_survive_unrelated_edits_moves_and_another_folder(tmp_path, capsys) -> None:
    (tmp_path / ".git").mkdir()  # a repository: template files are known by their path in it
    template = write(tmp_path / "estate.json", {"Legacy": group(rule(22))})
    baseline = tmp_path / "baseline.json"
    guard_main([str(template), "--create-baseline", str(baseline)])
    # reordered and reformatted, a resource added before it, a rule added to it, its port rule moved: same finding
    write(template, {"Topic": {"Type": "AWS::SNS::Topic"}, "Legacy": group(rule(443), rule(22, "10.0.0.0/8"), rule(22))}, indent=4)
    os.chdir(tmp_path)  # and run from the template's folder, with a relative path
    try:
        assert guard_main(["estate.json", "--baseline", "baseline.json"]) == 0
    finally:
        os.chdir(Path(__file__).resolve().parent.parent)
    # A renamed resource is another finding: the old entry is stale
    write(template, {"Renamed": group(rule(22))})
    report(capsys)
    assert guard_main([str(template), "--baseline", str(baseline)]) == 1
    out, _ = report(capsys)
    assert "STALE baseline entry AdminPortGuard-WorldOpenAdminPort[22] estate.json Legacy" in out


def test_malformed_templates_and_crashes_are_never_baselined(tmp_path, capsys) -> None:
    template = tmp_path / "t.json"
    template.write_text('{"Resources": {"Sg": {"Type": "AWS::EC2::SecurityGroup", "Type": "AWS::SNS::Topic"}, "Open": %s}}' % json.dumps(group(rule(22))))
    baseline = tmp_path / "baseline.json"
    assert guard_main([str(template), "--create-baseline", str(baseline)]) == 1  # the malformed template still fails
    assert [e["rule"] for e in json.loads(baseline.read_text())["findings"]] == ["AdminPortGuard-WorldOpenAdminPort[22]"]
    assert guard_main([str(template), "--baseline", str(baseline), "--soft-fail"]) == 1  # not even with --soft-fail
    assert "ERROR AdminPortGuard-MalformedTemplate" in report(capsys)[0]
    # A hand-edited baseline that lists it does not help either
    entries = json.loads(baseline.read_text())
    from constructs_lib.guard.baseline import fingerprints
    from constructs_lib.policy import check_paths

    entries["findings"] = [{"fingerprint": print_} for print_ in fingerprints(check_paths([template]))]
    baseline.write_text(json.dumps(entries))
    assert guard_main([str(template), "--baseline", str(baseline)]) == 1


@pytest.mark.parametrize("content", ["{", "[]", '{"tool": "AdminPortGuard", "baselineVersion": 9, "findings": []}', '{"findings": [{}]}'])
def test_a_baseline_that_is_not_one_is_refused(tmp_path, content, capsys) -> None:
    template = write(tmp_path / "t.json", {"Open": group(rule(22))})
    (tmp_path / "b.json").write_text(content)
    assert guard_main([str(template), "--baseline", str(tmp_path / "b.json")]) == 2
    assert "baseline" in report(capsys)[1]


# --- acknowledgements in template Metadata ---------------------------------------------------------

def acknowledging(*entries: dict) -> dict:
    return {"Metadata": {"admin-port-guard": {"acknowledge": list(entries)}}}


def test_metadata_acknowledgements_accept_one_port_of_one_resource_with_its_reason(tmp_path, capsys) -> None:
    template = write(tmp_path / "t.json", {
        "Lab": group(rule(22), rule(3389), **acknowledging({"id": "WorldOpenAdminPort[22]", "reason": REASON})),
        "Other": group(rule(22)),
    })
    assert guard_main([str(template)]) == 1
    out, _ = report(capsys)
    assert f"  ACKNOWLEDGED ({REASON}) AdminPortGuard-WorldOpenAdminPort[22]: security group Lab" in out
    assert "  ERROR AdminPortGuard-WorldOpenAdminPort[3389]: security group Lab" in out  # RDP is not acknowledged
    assert "  ERROR AdminPortGuard-WorldOpenAdminPort[22]: security group Other" in out  # nor the other group
    write(template, {"Lab": group(rule(22), **acknowledging({"id": "AdminPortGuard::AdminPortGuard-WorldOpenAdminPort[22]", "reason": REASON}))})
    assert guard_main([str(template)]) == 0  # the plugin's spelling works too


@pytest.mark.parametrize(("entry", "says"), [
    ({"id": "WorldOpenAdminPort[22]", "reason": "ok"}, "needs a specific reason"),
    ({"id": "WorldOpenAdminPort[22]"}, "must be {id:"),
    ({"id": "WorldOpenAdminPort", "reason": REASON}, "needs the port"),
    ({"id": "UnverifiableIngress[22]", "reason": REASON}, "without a port"),
    ({"id": "MalformedTemplate", "reason": REASON}, "MalformedTemplate cannot be acknowledged"),
    ({"id": "ValidationFailed", "reason": REASON}, "ValidationFailed cannot be acknowledged"),
    ({"id": "WideOpen[22]", "reason": REASON}, "names no rule of the guard"),
])
def test_a_malformed_metadata_acknowledgement_is_an_error_naming_its_place(tmp_path, entry, says, capsys) -> None:
    template = write(tmp_path / "t.json", {"Lab": group(rule(22), **acknowledging(entry))})
    assert guard_main([str(template)]) == 2
    err = report(capsys)[1]
    assert "Resources.Lab.Metadata.admin-port-guard.acknowledge[0]" in err and says in err


def test_metadata_holds_an_ssh_promise_beside_acknowledgements(tmp_path, capsys) -> None:
    # GIVEN a group promising SSH only from groups, with SSH from one address, acknowledged, and one not acknowledged
    promise = {"sshFrom": "security-groups"}
    template = write(tmp_path / "t.json", {"Web": {**group({**rule(22), "CidrIp": "198.51.100.7/32"}), "Metadata": {"admin-port-guard": promise}}})
    assert guard_main([str(template)]) == 1
    assert "ERROR AdminPortGuard-WebServerSshSource: security group Web takes SSH only from security groups" in report(capsys)[0]
    acknowledged = {**promise, "acknowledge": [{"id": "WebServerSshSource", "reason": REASON}]}
    write(template, {"Web": {**group({**rule(22), "CidrIp": "198.51.100.7/32"}), "Metadata": {"admin-port-guard": acknowledged}}})
    assert guard_main([str(template)]) == 0
    write(template, {"Web": {**group(rule(22)), "Metadata": {"admin-port-guard": {"sshfrom": "security-groups"}}}})
    assert guard_main([str(template)]) == 2  # a misspelt key is an error, never ignored
    assert "Resources.Web.Metadata.admin-port-guard must be" in report(capsys)[1]


def test_metadata_cannot_acknowledge_a_malformed_template(tmp_path, capsys) -> None:
    template = tmp_path / "t.yaml"
    template.write_text("Resources:\n  Lab:\n    Type: AWS::EC2::SecurityGroup\n    Type: AWS::EC2::SecurityGroup\n")
    assert guard_main([str(template)]) == 1
    assert "ERROR AdminPortGuard-MalformedTemplate" in report(capsys)[0]


# --- rule selection and soft fail ------------------------------------------------------------------

def test_rule_selection_never_drops_a_malformed_template(tmp_path, capsys) -> None:
    template = write(tmp_path / "t.json", {"Open": group(rule(22)), "Broad": group(rule(22, "52.0.0.0/8"))})
    assert guard_main([str(template), "--skip-rule", "WorldOpenAdminPort", "--skip-rule", "BroadAdminSource"]) == 0
    assert guard_main([str(template), "--rule", "BroadAdminSource"]) == 1
    assert "BroadAdminSource[22]" in (out := report(capsys)[0]) and "WorldOpenAdminPort" not in out.split("No findings.")[-1]
    assert guard_main([str(template), "--rule", "WorldOpenAdminPort[3389]"]) == 0  # only RDP: SSH is not selected
    for refused in ("ValidationFailed", "MalformedTemplate", "Nope", "UnverifiableIngress[22]"):
        with pytest.raises(SystemExit) as usage:
            guard_main([str(template), "--skip-rule", refused])
        assert usage.value.code == 2
    broken = tmp_path / "broken.json"
    broken.write_text('{"Resources": {"S": "x"}}')
    assert guard_main([str(broken), "--rule", "BroadAdminSource"]) == 1  # MalformedTemplate is always reported


def test_soft_fail_reports_and_passes_findings_but_not_unreadable_input(tmp_path, capsys) -> None:
    template = write(tmp_path / "t.json", {"Open": group(rule(22))})
    assert guard_main([str(template), "--soft-fail"]) == 0
    assert "ERROR AdminPortGuard-WorldOpenAdminPort[22]" in report(capsys)[0]
    (tmp_path / "nope.json").write_text('{"Description": "no resources"}')
    assert guard_main([str(tmp_path / "nope.json"), "--soft-fail"]) == 2


# --- configuration files -----------------------------------------------------------------------------

@pytest.fixture
def estate(tmp_path):
    """A repository with a template opening 22 and 8443, checked from a sub-folder."""
    write(tmp_path / "t.json", {"Open": group(rule(22), rule(8443))})
    (tmp_path / "infra" / "deep").mkdir(parents=True)
    here = os.getcwd()
    os.chdir(tmp_path / "infra" / "deep")
    yield tmp_path
    os.chdir(here)


def ports_found(root: Path, *arguments: str) -> list[int]:
    output = root / "r.json"
    assert guard_main([str(root / "t.json"), "--format", "json", "--output", str(output), *arguments]) in (0, 1)
    return sorted(record["port"] for record in json.loads(output.read_text())["findings"])


def test_a_config_file_is_found_upward_and_the_command_line_wins(estate, capsys) -> None:
    assert ports_found(estate) == [22]
    (estate / ".admin-port-guard.yaml").write_text("adminPorts: [default, 8443]\n")
    assert ports_found(estate) == [22, 8443]
    assert ports_found(estate, "--admin-ports", "8443") == [8443]  # the command line wins
    (estate / ".admin-port-guard.yaml").unlink()
    (estate / "pyproject.toml").write_text('[project]\nname = "x"\n\n[tool.admin-port-guard]\nadminPorts = [8443]\n')
    assert ports_found(estate) == [8443]
    (estate / "infra" / "cdk.json").write_text(json.dumps({"app": "python app.py", "context": {"admin-port-guard": {"adminPorts": ["cis"]}}}))
    assert ports_found(estate) == [22]  # the nearest declaration: infra/cdk.json
    (estate / "infra" / "pyproject.toml").write_text('[tool.admin-port-guard]\nadminPorts = [8443]\n')
    assert guard_main([str(estate / "t.json")]) == 2  # two declarations in one folder: which one?
    assert "declared twice" in report(capsys)[1]


@pytest.mark.parametrize(("name", "text", "says"), [
    (".admin-port-guard.yaml", "adminPorts: [22\n", "is not valid YAML"),
    (".admin-port-guard.yaml", "ports: [22]\n", "unknown admin-port-guard key(s) 'ports'"),
    ("pyproject.toml", "[tool.admin-port-guard\n", "is not valid TOML"),
    ("pyproject.toml", "[tool.admin-port-guard]\nadminPorts = ['ssh']\n", "admin port profile 'ssh' is unknown"),
])
def test_a_malformed_config_file_is_an_error_naming_it(estate, name, text, says, capsys) -> None:
    (estate / name).write_text(text)
    assert guard_main([str(estate / "t.json")]) == 2
    err = report(capsys)[1]
    assert name in err and says in err
