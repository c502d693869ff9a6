"""Issue 18's acceptance: a CDK app with an RDS instance and ``allow_default_port_from(app_sg)`` synthesizes clean."""

from __future__ import annotations

import json
from pathlib import Path

from test_guard_e2e import cdk_synth, guard_cli


def test_an_rds_default_port_from_an_app_group_synthesizes_clean(tmp_path: Path) -> None:
    # GIVEN the stock CLI synthesizing an app whose database admits Fn::GetAtt Db.Endpoint.Port from a security group
    result = cdk_synth("rds_default_port.py", tmp_path)
    # THEN the synth passes, and the guard checked the rule (it is in the template) and found nothing
    assert result.returncode == 0, result.stdout + result.stderr
    template = json.loads((tmp_path / "RdsDefaultPort.template.json").read_text())
    ports = [r["Properties"]["FromPort"] for r in template["Resources"].values() if r["Type"] == "AWS::EC2::SecurityGroupIngress"]
    assert ports and all(port == {"Fn::GetAtt": [port["Fn::GetAtt"][0], "Endpoint.Port"]} for port in ports)
    report = json.loads((tmp_path / "admin-port-guard-report.json").read_text())
    assert report["findings"] == []
    # AND the guard CLI on the same cloud assembly agrees
    cli = guard_cli(str(tmp_path))
    assert cli.returncode == 0, cli.stdout + cli.stderr
