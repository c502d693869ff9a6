"""The CLI's report formats on template files: text, JSON, SARIF, JUnit XML and GitLab code quality.

GIVEN a YAML and a JSON template (a world-open SSH rule, an all-traffic group, a same-named key in a
      description that a text search would find first, an acknowledged finding)
WHEN  the CLI renders them in each format (in-process)
THEN  every format places each finding at the line the parser gives (the resource, and its rule), the
      JUnit XML validates against the Jenkins xUnit JUnit schema (tests/fixtures/junit/junit-10.xsd; GitLab
      publishes no schema of its own and reads that common format), the GitLab report carries the fields
      code quality requires, the text report has one block per resource, and each rule links to RULES.md.
"""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree

import pytest
import xmlschema

from constructs_lib.guard.__main__ import main as guard_main
from constructs_lib.guard.formats import RENDERERS

ROOT = Path(__file__).resolve().parent.parent
JUNIT_SCHEMA = xmlschema.XMLSchema(ROOT / "tests" / "fixtures" / "junit" / "junit-10.xsd")
REASON = "lab host, torn down nightly (SEC-42)"

YAML = """\
Description: "a same-named key first -> Web: here"
Resources:
  Topic:
    Type: AWS::SNS::Topic
    Metadata: {Web: 1}
  Web:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: web servers
      SecurityGroupIngress:
        - {CidrIp: 0.0.0.0/0, IpProtocol: tcp, FromPort: 443, ToPort: 443}
        - CidrIp: !If [Never, 10.0.0.0/8, 0.0.0.0/0]
          IpProtocol: tcp
          FromPort: 22
          ToPort: 22
  Everything:
    Type: AWS::EC2::SecurityGroup
    Metadata:
      admin-port-guard:
        acknowledge:
          - {id: "WorldOpenAdminPort[5900]", reason: "%s"}
    Properties:
      GroupDescription: all traffic from anywhere
      SecurityGroupIngress: [{IpProtocol: "-1", CidrIp: 0.0.0.0/0}]
Conditions:
  Never: !Equals [a, b]
""" % REASON
#: line numbers in YAML: Web at 6 (its SSH rule at 12), Everything at 16 (its rule at 24)
LINES = {"Web": (6, 12), "Everything": (16, 24)}


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("formats") / "web.yaml"
    path.write_text(YAML)
    return path


def run(template: Path, tmp_path: Path, output_format: str, *more: str) -> tuple[int, str]:
    output = tmp_path / f"report.{output_format}"
    status = guard_main([str(template), "--format", output_format, "--output", str(output), *more])
    return status, output.read_text()


def test_text_has_one_block_per_resource_at_the_parsers_line(template, capsys) -> None:
    assert guard_main([str(template)]) == 1
    lines = capsys.readouterr().out.splitlines()
    web = lines.index(f"{template}:6: Web:")
    assert lines[web + 1].startswith("  ERROR AdminPortGuard-WorldOpenAdminPort[22]: security group Web allows tcp/22 (SSH)")
    assert lines[web + 2].startswith("  Fix: ") and lines[web + 3] == "  Help: RULES.md#worldopenadminport"
    everything = lines.index(f"{template}:16: Everything:")
    assert everything == 0 and web == 9  # blocks in the order of the report: by template, then logical id
    block = lines[everything + 1:everything + 7]
    assert [line.split(":")[0].split()[-1] for line in block] == [f"AdminPortGuard-WorldOpenAdminPort[{p}]" for p in (22, 23, 3389, 5900, 5985, 5986)]
    assert block[3].startswith(f"  ACKNOWLEDGED ({REASON}) AdminPortGuard-WorldOpenAdminPort[5900]")
    assert sum(line.startswith("  Fix: ") for line in lines[everything:web]) == 1  # six findings, one fix
    assert lines[-1] == "6 finding(s), 1 acknowledged"


def test_json_gives_the_resource_and_rule_lines_fingerprint_and_help(template, tmp_path) -> None:
    status, text = run(template, tmp_path, "json")
    records = json.loads(text)["findings"]
    assert status == 1 and len(records) == 7
    for record in records:
        assert (record["line"], record["ruleLine"]) == LINES[record["logicalId"]]
        assert record["helpUri"] == "RULES.md#worldopenadminport" and len(record["fingerprint"]) == 32
    assert len({record["fingerprint"] for record in records}) == 7


def test_sarif_regions_are_the_resources_lines_not_a_text_match(template, tmp_path) -> None:
    _, text = run(template, tmp_path, "sarif")
    run_ = json.loads(text)["runs"][0]
    lines = {r["locations"][0]["logicalLocations"][0]["name"]: r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in run_["results"]}
    assert lines == {"Web": 6, "Everything": 16}  # a text search for "Web:" stops at line 1
    rule = run_["tool"]["driver"]["rules"][0]
    assert "[RULES.md: WorldOpenAdminPort](RULES.md#worldopenadminport)" in rule["help"]["markdown"]


def test_junit_validates_against_the_schema_and_lists_each_finding(template, tmp_path) -> None:
    status, text = run(template, tmp_path, "junit")
    assert status == 1
    JUNIT_SCHEMA.validate(text)
    root = ElementTree.fromstring(text)
    (suite,) = root.findall("testsuite")
    assert (suite.get("name"), suite.get("tests"), suite.get("failures"), suite.get("skipped")) == (str(template), "7", "6", "1")
    cases = {case.get("name"): case for case in suite.findall("testcase")}
    web = cases["AdminPortGuard-WorldOpenAdminPort[22] Web"]
    assert web.get("classname").endswith("web.yaml")  # GitLab shows classname as the suite
    failure = web.find("failure")
    assert failure.get("type") == "WorldOpenAdminPort" and failure.text.startswith(f"{template}:12: Web\n")
    assert cases["AdminPortGuard-WorldOpenAdminPort[5900] Everything"].find("skipped").get("message") == f"acknowledged: {REASON}"
    # The schema is strict enough to catch a broken report
    with pytest.raises(xmlschema.XMLSchemaValidationError):
        JUNIT_SCHEMA.validate(text.replace("<failure ", "<failed ").replace("</failure>", "</failed>"))


def test_junit_of_a_clean_template_is_one_passing_case(tmp_path) -> None:
    clean = tmp_path / "clean.json"
    clean.write_text(json.dumps({"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}}))
    status, text = run(clean, tmp_path, "junit")
    JUNIT_SCHEMA.validate(text)
    (case,) = ElementTree.fromstring(text).iter("testcase")
    assert status == 0 and list(case) == [] and case.get("name") == "AdminPortGuard: no admin port open"


def test_gitlab_code_quality_has_the_required_fields_for_failing_findings(template, tmp_path) -> None:
    status, text = run(template, tmp_path, "gitlab")
    issues = json.loads(text)
    assert status == 1 and len(issues) == 6  # the acknowledged one is not an issue
    for issue in issues:
        assert set(issue) >= {"description", "check_name", "fingerprint", "severity", "location"}
        assert issue["severity"] == "critical" and issue["check_name"].startswith("WorldOpenAdminPort[")
        assert issue["location"]["path"] == template.name or issue["location"]["path"].endswith("/web.yaml")
    assert sorted(issue["location"]["lines"]["begin"] for issue in issues) == [12, 24, 24, 24, 24, 24]
    assert len({issue["fingerprint"] for issue in issues}) == 6


def test_json_templates_get_lines_from_the_parser_too(tmp_path) -> None:
    body = {"Description": "\"Sg\": {", "Resources": {"Other": {"Type": "AWS::SNS::Topic", "Metadata": {"Sg": 1}},
                                                    "Sg": {"Type": "AWS::EC2::SecurityGroup", "Properties": {"GroupDescription": "x", "SecurityGroupIngress": [
                                                        {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "CidrIp": "0.0.0.0/0"},
                                                        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIp": "0.0.0.0/0"}]}}}}
    path = tmp_path / "t.json"
    text = json.dumps(body, indent=1)
    path.write_text(text)
    lines = text.splitlines()
    _, report = run(path, tmp_path, "json")
    (record,) = json.loads(report)["findings"]
    assert lines[record["line"] - 1].strip() == '"Sg": {' and record["line"] > 3  # not the description, not the metadata key
    assert lines[record["ruleLine"] - 1].strip() == "{" and lines[record["ruleLine"] + 1].strip() == '"FromPort": 22,'  # the SSH rule


def test_every_format_is_offered() -> None:
    assert set(RENDERERS) == {"text", "json", "sarif", "junit", "gitlab"}
