"""Finding and reading templates (RULES.md, *How templates are read*): files, folders, cloud assemblies, YAML.

GIVEN template files, folders of them and cloud assemblies as CDK writes them (manifest, metadata, assets)
WHEN  the core loads them (``load``, ``load_named``)
THEN  every template is found once, with its stack name, construct paths and nested stacks, and what
      CloudFormation would refuse is kept as a problem with its place; unreadable input is refused.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from constructs_lib.policy import TemplateError, load, load_named
from constructs_lib.policy.templates import deployed_templates, passed_parameters, structure_problems

SG = {"Type": "AWS::EC2::SecurityGroup", "Properties": {"GroupDescription": "x"}}


def write(path: Path, body: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(body if isinstance(body, str) else json.dumps(body))
    return path


def stack(template_file: str, **properties: object) -> dict:
    return {"type": "aws:cloudformation:stack", "properties": {"templateFile": template_file, **properties}}


def logical_ids(*pairs: tuple[str, str]) -> dict:
    """Assembly metadata: construct path -> its ``aws:cdk:logicalId`` entry."""
    metadata: dict = {}
    for path, logical_id in pairs:
        metadata.setdefault(path, []).append({"type": "aws:cdk:logicalId", "data": logical_id})
    return metadata


# --- files and folders ---------------------------------------------------------------------------


def test_a_folder_is_read_file_by_file_in_name_order_and_each_file_once(tmp_path: Path) -> None:
    for name in ("b.yaml", "a.json", "c.template", "d.yml"):
        write(tmp_path / name, {"Resources": {}})
    write(tmp_path / "notes.txt", "not a template")
    (tmp_path / "e.json").mkdir()
    templates = load([tmp_path, tmp_path / "a.json"])
    assert [Path(t.name).name for t in templates] == ["a.json", "b.yaml", "c.template", "d.yml"]
    assert [t.path for t in templates] == [str(tmp_path / name) for name in ("a.json", "b.yaml", "c.template", "d.yml")]
    assert repr(templates[0]) == f"Template({str(tmp_path / 'a.json')!r}, {str(tmp_path / 'a.json')!r})"
    assert templates[0].stack_name is None and templates[0].parent is None and templates[0].construct_paths == {}


def test_missing_and_empty_inputs_are_refused(tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match=f"^{tmp_path / 'nope.json'} does not exist$"):
        load([tmp_path / "nope.json"])
    write(tmp_path / "readme.txt", "x")
    with pytest.raises(TemplateError, match=f"^{tmp_path} holds no manifest.json and no template files$"):
        load([tmp_path])


def test_files_that_are_not_templates_are_refused_or_skipped_on_request(tmp_path: Path, capsys) -> None:
    bad = write(tmp_path / "package.json", {"name": "x"})
    good = write(tmp_path / "t.json", {"Resources": {}})
    with pytest.raises(TemplateError, match=f"^{bad} is not a CloudFormation template \\(no Resources section\\)$"):
        load([bad, good])
    assert [(t.name, t.path) for t in load([bad, good], skip_non_templates=True)] == [(str(good), str(good))]
    assert capsys.readouterr().err == f"skipped: {bad} is not a CloudFormation template (no Resources section)\n"


def test_unreadable_text_is_refused_naming_both_parsers(tmp_path: Path) -> None:
    path = write(tmp_path / "t.json", "{not json")
    with pytest.raises(TemplateError) as refused:
        load([path])
    message = str(refused.value)
    assert message.startswith(f"{path} is neither valid JSON nor valid YAML: Expecting property name enclosed in double quotes: "
                              "line 1 column 2 (char 1); as YAML: ")
    assert message.count(str(path)) == 1 and message.count("neither valid JSON") == 1 and "while parsing a flow mapping" in message
    import yaml

    text = '  {"Resources": ['  # both parsers' messages hold ': '
    path = write(tmp_path / "u.json", text)
    with pytest.raises(ValueError) as as_json:
        json.loads(text)
    with pytest.raises(yaml.YAMLError) as as_yaml:
        yaml.safe_load(text)
    with pytest.raises(TemplateError) as refused:
        load([path])
    assert str(refused.value) == f"{path} is neither valid JSON nor valid YAML: {as_json.value}; as YAML: {as_yaml.value}"
    binary = tmp_path / "b.json"
    binary.write_bytes(b"\xff\xfe{")
    with pytest.raises(TemplateError, match=f"^cannot read {binary}: "):
        load([binary])


def test_json_and_yaml_read_alike_and_a_bom_is_allowed(tmp_path: Path) -> None:
    flow = write(tmp_path / "flow.json", "{Resources: {Sg: {Type: 'AWS::EC2::SecurityGroup'}}}")  # YAML flow style, not JSON
    bom = tmp_path / "bom.json"
    bom.write_bytes(b"\xef\xbb\xbf" + json.dumps({"Resources": {"Sg": {"Type": "AWS::EC2::SecurityGroup"}}}).encode())
    assert [t.body for t in load([flow, bom])] == [{"Resources": {"Sg": {"Type": "AWS::EC2::SecurityGroup"}}}] * 2
    duplicate = '{"Resources": {"Sg": {"Type": "AWS::EC2::SecurityGroup"}, "Sg": {"Type": "AWS::SNS::Topic"}}}'
    bom.write_bytes(b"\xef\xbb\xbf" + duplicate.encode())
    spaced = write(tmp_path / "spaced.json", "\n  " + duplicate)
    assert [[place for place, _ in t.problems] for t in load([bom, spaced])] == [["Resources.Sg"], ["Resources.Sg"]]  # read as JSON
    deep = write(tmp_path / "deep.json", '{"Resources": ' + "[" * 100000 + "]" * 100000 + "}")
    with pytest.raises(TemplateError, match=f"^{deep} is nested too deeply to be a CloudFormation template$"):
        load([deep])
    deep_yaml = write(tmp_path / "deep-yaml.json", "{" + "[" * 500)  # not JSON; as YAML, too deep
    with pytest.raises(TemplateError, match=f"; as YAML: {deep_yaml} is nested too deeply to be a CloudFormation template$"):
        load([deep_yaml])


# --- what CloudFormation would refuse ---------------------------------------------------------------


def test_duplicate_json_keys_are_problems_at_their_place(tmp_path: Path) -> None:
    text = ('{"Resources": {"Sg": {"Type": "AWS::EC2::SecurityGroup", "Properties": {"SecurityGroupIngress": '
            '[{"CidrIp": "0.0.0.0/0", "CidrIp": "10.0.0.0/8"}]}}, "Sg": {"Type": "AWS::SNS::Topic"}}, "Description": "a", "Description": "b"}')
    [template] = load([write(tmp_path / "t.json", text)])
    why = "CloudFormation refuses it, and readers disagree on which value counts"
    assert sorted(template.problems) == [
        ("Description", f"duplicate key 'Description': {why}"),
        ("Resources.Sg", f"duplicate key 'Sg': {why}"),  # the first Sg, with its own duplicate, is gone
    ]
    text = '{"Resources": {"Sg": {"Type": "AWS::EC2::SecurityGroup", "Properties": {"SecurityGroupIngress": [{}, {"A": 1, "A": 2}]}}}}'
    [template] = load([write(tmp_path / "u.json", text)])
    assert template.problems == [("Resources.Sg.Properties.SecurityGroupIngress[1].A", f"duplicate key 'A': {why}")]


def test_structure_problems_name_the_place_and_what_is_wrong(tmp_path: Path) -> None:
    body = {
        "Resourcez": {}, "Globals": {}, "Parameters": [], "Mappings": "m", "Conditions": 5, "Outputs": None,
        "Resources": {
            "Fn::ForEach::Things": ["X", ["A"], {}],
            "Web-Sg": SG, "Str": "x", "Num": 5, "Nothing": None, "NoType": {"Properties": {}},
            "EmptyType": {"Type": ""}, "ListType": {"Type": ["T"]}, "MapType": {"Type": {"a": 1}}, "Extra": {**SG, "Propertie": {}},
            "BadProperties": {"Type": "AWS::SNS::Topic", "Properties": [1]}, "BadCondition": {"Type": "AWS::SNS::Topic", "Condition": ["C"]},
            "Fine": {**SG, "Condition": "C", "DependsOn": "Str", "Metadata": {}, "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain",
                     "CreationPolicy": {}, "UpdatePolicy": {}, "Version": "1"},
        },
    }
    [template] = load([write(tmp_path / "t.json", body)])
    assert template.problems == [
        ("Resourcez", "'Resourcez' is not a template section CloudFormation knows"),
        ("Globals", "'Globals' is not a template section CloudFormation knows"),
        ("Parameters", "Parameters is a list, not a mapping"),
        ("Mappings", "Mappings is a string 'm', not a mapping"),
        ("Conditions", "Conditions is a int 5, not a mapping"),
        ("Outputs", "Outputs is a null, not a mapping"),
        ("Resources.Web-Sg", "logical id 'Web-Sg' is not alphanumeric"),
        ("Resources.Str", "the resource is a string 'x', not a mapping"),
        ("Resources.Num", "the resource is a int 5, not a mapping"),
        ("Resources.Nothing", "the resource is a null, not a mapping"),
        ("Resources.NoType", "the resource has no Type"),
        ("Resources.EmptyType.Type", "Type is a string '', not a resource type name"),
        ("Resources.ListType.Type", "Type is a list, not a resource type name"),
        ("Resources.MapType.Type", "Type is a mapping, not a resource type name"),
        ("Resources.Extra.Propertie", "'Propertie' is not a resource attribute CloudFormation knows"),
        ("Resources.BadProperties.Properties", "Properties is a list, not a mapping"),
        ("Resources.BadCondition.Condition", "Condition is a list, not a condition name"),
    ]


@pytest.mark.parametrize("transform", ["AWS::Serverless-2016-10-31", ["AWS::LanguageExtensions", "AWS::Serverless-2016-10-31"]])
def test_sam_templates_may_have_globals(tmp_path: Path, transform) -> None:
    [template] = load([write(tmp_path / "t.json", {"Transform": transform, "Globals": {}, "Resources": {"List": {"Type": "AWS::SNS::Topic"}}})])
    assert template.problems == []


def test_a_resource_under_an_unknown_tag_is_one_problem(tmp_path: Path) -> None:
    text = "Resources:\n  A: !Foo {Type: AWS::EC2::SecurityGroup}\n  B: {Properties: {}}\n"
    [template] = load([write(tmp_path / "t.yaml", text)])
    assert template.problems == [("line 2", "!Foo is not a CloudFormation short form (!Ref, !GetAtt, !Sub ...)"),
                                 ("Resources.B", "the resource has no Type")]


def test_yaml_problems_are_reported_in_document_order(tmp_path: Path) -> None:
    # PyYAML constructs the nested mapping after its sibling: the problem on line 6 is found after the one on line 7.
    text = "Resources:\n  A:\n    Type: AWS::S3::Bucket\n    Properties:\n      Tags:\n        - Key: !Foo x\n  B: !Bar\n    Type: y\n"
    [template] = load([write(tmp_path / "t.yaml", text)])
    short_forms = "is not a CloudFormation short form (!Ref, !GetAtt, !Sub ...)"
    assert template.problems[:2] == [("line 6", f"!Foo {short_forms}"), ("line 7", f"!Bar {short_forms}")]


def test_two_problems_of_one_node_keep_the_order_they_were_found_in(tmp_path: Path) -> None:
    # The node's tag is refused when it is built, the alias when it is reached again: both are on line 4.
    text = ("Resources:\n  A:\n    Type: AWS::S3::Bucket\n    Metadata: &note !!binary eHg=\n"
            "  B:\n    Type: AWS::S3::Bucket\n    Metadata: *note\n")
    [template] = load([write(tmp_path / "t.yaml", text)])
    assert template.problems == [("line 4", "the YAML tag tag:yaml.org,2002:binary is not one CloudFormation reads"),
                                 ("line 4", "a YAML alias (*name) repeats this node; CloudFormation does not accept aliases")]


def test_resources_that_are_not_a_mapping_are_one_problem(tmp_path: Path) -> None:
    [template] = load([write(tmp_path / "t.json", {"Resources": ["Sg"]})])
    assert template.problems == [("Resources", "Resources is a list, not a mapping of logical ids to resources")]


# --- YAML -------------------------------------------------------------------------------------------


def test_yaml_short_forms_become_long_forms(tmp_path: Path) -> None:
    text = """Conditions:
  Prod: !Equals [!Ref Env, prod]
  Both: !And [!Condition Prod, !Not [!Condition Prod]]
Resources:
  Sg:
    Type: AWS::EC2::SecurityGroup
    Properties:
      A: !GetAtt Vpc.CidrBlock.Extra
      B: !GetAtt [Vpc, CidrBlock]
      C: !Sub "${AWS::Region}"
      D: !If [Prod, !Select [0, !Split [",", "a,b"]], !Join ["", [!FindInMap [M, K, V], !ImportValue X]]]
      E: !Cidr [!GetAtt Vpc.CidrBlock, 1, 8]
      F: 2024-01-01
"""
    [template] = load([write(tmp_path / "t.yaml", text)])
    assert template.problems == []
    assert template.body["Conditions"] == {
        "Prod": {"Fn::Equals": [{"Ref": "Env"}, "prod"]},
        "Both": {"Fn::And": [{"Condition": "Prod"}, {"Fn::Not": [{"Condition": "Prod"}]}]},
    }
    assert template.body["Resources"]["Sg"]["Properties"] == {
        "A": {"Fn::GetAtt": ["Vpc", "CidrBlock.Extra"]},
        "B": {"Fn::GetAtt": ["Vpc", "CidrBlock"]},
        "C": {"Fn::Sub": "${AWS::Region}"},
        "D": {"Fn::If": ["Prod", {"Fn::Select": [0, {"Fn::Split": [",", "a,b"]}]},
                         {"Fn::Join": ["", [{"Fn::FindInMap": ["M", "K", "V"]}, {"Fn::ImportValue": "X"}]]}]},
        "E": {"Fn::Cidr": [{"Fn::GetAtt": ["Vpc", "CidrBlock"]}, 1, 8]},
        "F": "2024-01-01",
    }


def test_what_cloudformation_s_yaml_parser_refuses_is_kept_with_its_line(tmp_path: Path) -> None:
    text = """Resources:
  A: !Foo bar
  B: !Bar [1, !Ref X]
  C: !Baz {k: v}
  D: !!binary QVdT
  E: !!set {a, b}
  F: !!omap [{a: 1}]
  G: !!python/name:os.system x
  H: &rule {IpProtocol: tcp}
  I: [*rule, *rule]
  J:
    <<: {Type: T}
    Type: U
  K: {[1, 2]: x, after: 1}
  L: {x: 1, x: 2}
"""
    [template] = load([write(tmp_path / "t.yaml", text)])
    resources = template.body["Resources"]
    assert (resources["A"], resources["B"], resources["C"]) == (
        {"Fn::!Foo": "bar"}, {"Fn::!Bar": [1, {"Ref": "X"}]}, {"Fn::!Baz": {"k": "v"}})
    assert (resources["D"], resources["E"], resources["F"], resources["G"]) == (
        {"Fn::!tag": "QVdT"}, {"Fn::!tag": {"a": None, "b": None}}, {"Fn::!tag": [{"a": 1}]}, {"Fn::!tag": "x"})
    assert resources["I"] == [{"IpProtocol": "tcp"}] * 2 and resources["K"] == {"after": 1} and resources["J"] == {"Type": "U"} and resources["L"] == {"x": 2}
    short_forms = "is not a CloudFormation short form (!Ref, !GetAtt, !Sub ...)"
    duplicate = "duplicate key 'x': CloudFormation refuses it, and readers disagree on which value counts"
    from_yaml = [problem for problem in template.problems if problem[0].startswith("line ")]
    assert len(from_yaml) == 12
    [(place, unhashable)] = [problem for problem in from_yaml if problem[1].startswith("the mapping key ")]
    assert (place, unhashable) == ("line 14", "the mapping key [1, 2] is not a string")
    assert set(from_yaml) == {
        ("line 2", f"!Foo {short_forms}"), ("line 3", f"!Bar {short_forms}"), ("line 4", f"!Baz {short_forms}"),
        ("line 5", "the YAML tag tag:yaml.org,2002:binary is not one CloudFormation reads"),
        ("line 6", "the YAML tag tag:yaml.org,2002:set is not one CloudFormation reads"),
        ("line 7", "the YAML tag tag:yaml.org,2002:omap is not one CloudFormation reads"),
        ("line 8", "the YAML tag tag:yaml.org,2002:python/name:os.system is not one CloudFormation reads"),
        ("line 9", "a YAML alias (*name) repeats this node; CloudFormation does not accept aliases"),
        ("line 12", "a YAML merge key (<<) is used; CloudFormation does not accept merge keys"),
        ("line 13", "duplicate key 'Type': CloudFormation refuses it, and readers disagree on which value counts"),
        ("line 15", duplicate), (place, unhashable),
    }


@pytest.mark.parametrize("resources", ["Resources:\n  ? {a: [1]}\n  : x\n", "Resources: !Foo\n  ? {a: [1]}\n  : x\n"], ids=["plain", "under a tag"])
def test_a_mapping_used_as_a_key_is_named_with_its_content(tmp_path: Path, resources: str) -> None:
    [template] = load([write(tmp_path / "t.yaml", resources)])
    assert ("line 2", "the mapping key {'a': [1]} is not a string") in template.problems


def test_yaml_that_does_not_parse_is_refused(tmp_path: Path) -> None:
    scalar_map = write(tmp_path / "m.yaml", "Resources: !!map 5\n")
    with pytest.raises(TemplateError) as refused:
        load([scalar_map])
    assert str(refused.value).startswith(f"{scalar_map} is neither valid JSON nor valid YAML: expected a mapping, found scalar\n  in ")
    assert "line 1, column 12" in str(refused.value)
    path = write(tmp_path / "t.yaml", "Resources: [\n")
    with pytest.raises(TemplateError, match=f"^{path} is neither valid JSON nor valid YAML: while parsing a flow node"):
        load([path])
    deep = write(tmp_path / "deep.yaml", "Resources: " + "[" * 500 + "]" * 500 + "\n")
    with pytest.raises(TemplateError, match=f"^{deep} is nested too deeply to be a CloudFormation template$"):
        load([deep])


# --- cloud assemblies -------------------------------------------------------------------------------


def test_a_cloud_assembly_names_stacks_and_their_construct_paths(tmp_path: Path) -> None:
    write(tmp_path / "manifest.json", {"version": "48.0.0", "artifacts": {
        "Tree": {"type": "cdk:tree", "properties": {"file": "tree.json"}},
        "Web": {**stack("Web.template.json", stackName="prod-web"), "displayName": "Prod/Web",
                "metadata": logical_ids(("/Prod/Web/Sg/Resource", "Sg"), ("/Prod/Web/Twice/A", "Twice"), ("/Prod/Web/Twice/B", "Twice"),
                                        ("/Prod/Web/Same", "Same"), ("/Prod/Web/Same", "Same"))
                | {"/Prod/Web/Other": [{"type": "aws:cdk:warning", "data": "Other"}, {"type": "aws:cdk:logicalId", "data": 5}, "x"]},
                "additionalMetadataFile": "Web.metadata.json"},
        "Db": stack("Db.template.json", stackName="prod-db"),
        "Plain": stack("Plain.template.json"),
        "Stage": {"type": "cdk:cloud-assembly", "properties": {"directoryName": "assembly-Stage"}},
    }})
    write(tmp_path / "Web.metadata.json", logical_ids(("/Prod/Web/Host/Resource", "Host")))
    for name in ("Web", "Db", "Plain"):
        write(tmp_path / f"{name}.template.json", {"Resources": {"Sg": SG}})
    write(tmp_path / "assembly-Stage" / "manifest.json", {"artifacts": {"Inner": stack("Inner.template.json")}})
    write(tmp_path / "assembly-Stage" / "Inner.template.json", {"Resources": {}})
    templates = {t.name: t for t in load([tmp_path])}
    assert list(templates) == ["prod-db", "Plain", "Inner", "Prod/Web"]
    web = templates["Prod/Web"]
    assert (web.stack_name, web.path) == ("prod-web", str(tmp_path / "Web.template.json"))
    assert web.construct_paths == {"Sg": "Prod/Web/Sg/Resource", "Same": "Prod/Web/Same", "Host": "Prod/Web/Host/Resource"}
    assert web.metadata_files == (str(tmp_path / "Web.metadata.json"),)
    assert (templates["Plain"].stack_name, templates["Plain"].metadata_files, templates["Plain"].construct_paths) == ("Plain", (), {})
    assert templates["Inner"].path == str(tmp_path / "assembly-Stage" / "Inner.template.json")


@pytest.mark.parametrize(("artifacts", "says"), [
    (["S"], "artifacts is not a mapping"),
    ({"S": {"type": "aws:cloudformation:stack", "properties": {}}}, "stack artifact 'S' names no templateFile"),
    ({"S": {"type": "cdk:cloud-assembly", "properties": {"directoryName": 5}}}, "nested assembly 'S' names no directoryName"),
])
def test_a_broken_manifest_is_refused(tmp_path: Path, artifacts, says: str) -> None:
    manifest = write(tmp_path / "manifest.json", {"artifacts": artifacts})
    with pytest.raises(TemplateError) as refused:
        load([tmp_path])
    assert str(refused.value) in (f"cannot read cloud assembly manifest {manifest}: {says}", f"{manifest}: {says}")


def test_unreadable_manifest_and_metadata_are_refused(tmp_path: Path) -> None:
    manifest = write(tmp_path / "manifest.json", "{")
    with pytest.raises(TemplateError, match=f"^cannot read cloud assembly manifest {manifest}: Expecting"):
        load([tmp_path])
    write(manifest, {"artifacts": {"S": {**stack("S.template.json"), "additionalMetadataFile": "S.metadata.json"}}})
    write(tmp_path / "S.template.json", {"Resources": {}})
    with pytest.raises(TemplateError, match=f"^cannot read cloud assembly metadata {tmp_path / 'S.metadata.json'}: "):
        load([tmp_path])
    write(tmp_path / "S.metadata.json", "[1]")
    with pytest.raises(TemplateError, match="cannot read cloud assembly metadata"):
        load([tmp_path])


def test_nested_stacks_are_found_by_asset_path_or_by_the_hash_in_their_url(tmp_path: Path) -> None:
    parent = {"Resources": {
        "Topic": {"Type": "AWS::SNS::Topic", "Metadata": {"aws:asset:path": "ByPath.nested.template.json"}},
        "Elsewhere": {"Type": "AWS::CloudFormation::Stack", "Properties": {"TemplateURL": "https://example.invalid/zzz.json"}},
        "Missing": {"Type": "AWS::CloudFormation::Stack", "Metadata": {"aws:asset:path": "gone.json"}},
        "ByPath": {"Type": "AWS::CloudFormation::Stack", "Metadata": {"aws:asset:path": "ByPath.nested.template.json"}, "Properties": {}},
        "ByHash": {"Type": "AWS::CloudFormation::Stack", "Properties": {"TemplateURL": {"Fn::Join": ["", ["https://s3/", "abc123.json"]]}}},
        "NoProperties": {"Type": "AWS::CloudFormation::Stack", "Properties": []},
    }}
    write(tmp_path / "manifest.json", {"artifacts": {"Parent": stack("Parent.template.json")}})
    write(tmp_path / "Parent.template.json", parent)
    write(tmp_path / "ByPath.nested.template.json", {"Resources": {"Grandchild": {
        "Type": "AWS::CloudFormation::Stack", "Metadata": {"aws:asset:path": "Deep.nested.template.json"}}}})
    write(tmp_path / "Deep.nested.template.json", {"Resources": {"Again": {  # refers to itself: read once
        "Type": "AWS::CloudFormation::Stack", "Metadata": {"aws:asset:path": "Deep.nested.template.json"}}}, "Extra": 1})
    write(tmp_path / "ByHash.nested.template.json", {"Resources": {}})
    write(tmp_path / "Broken.assets.json", "{")
    write(tmp_path / "List.assets.json", "[]")
    write(tmp_path / "Parent.assets.json", {"files": {
        "zzz9": {"source": {"path": "Other.json"}}, "abc123": {"source": {"path": "ByHash.nested.template.json"}}, "x": "y"}})
    templates = load([tmp_path])
    assert [(t.name, Path(t.path).name, t.parent) for t in templates] == [
        ("Parent", "Parent.template.json", None),
        ("Parent/ByPath", "ByPath.nested.template.json", ("Parent", "ByPath")),
        ("Parent/ByPath/Grandchild", "Deep.nested.template.json", ("Parent/ByPath", "Grandchild")),
        ("Parent/ByHash", "ByHash.nested.template.json", ("Parent", "ByHash")),
    ]
    assert templates[2].problems == [("Extra", "'Extra' is not a template section CloudFormation knows")]


def test_named_templates_keep_their_names_and_bring_their_nested_stacks(tmp_path: Path) -> None:
    write(tmp_path / "Child.json", {"Resources": {}})
    path = write(tmp_path / "p.json", {"Resources": {"Child": {"Type": "AWS::CloudFormation::Stack", "Metadata": {"aws:asset:path": "Child.json"}}}})
    templates = load_named([("Prod", path), ("Again", str(path))])
    assert [(t.name, t.path, t.parent) for t in templates] == [
        ("Prod", str(path), None), ("Prod/Child", str(tmp_path / "Child.json"), ("Prod", "Child"))]


# --- templates a resource deploys as stacks of their own: StackSets and Service Catalog products ------------


def test_a_stack_set_s_template_body_is_read_in_place_and_its_resources_are_at_the_stack_set_s_path(tmp_path: Path) -> None:
    body = json.dumps({"Resources": {"Sg": SG, "Topic": {"Type": "AWS::SNS::Topic"}}})
    parent = {"Resources": {
        "Elsewhere": {"Type": "AWS::CloudFormation::StackSet", "Properties": {"TemplateURL": "https://example.invalid/zzz.json"}},
        "FromIntrinsic": {"Type": "AWS::CloudFormation::StackSet", "Properties": {"TemplateBody": {"Fn::Sub": "${Body}"}}},
        "Unreadable": {"Type": "AWS::CloudFormation::StackSet", "Properties": {"TemplateBody": "{not a template"}},
        "Set": {"Type": "AWS::CloudFormation::StackSet", "Metadata": {"aws:cdk:path": "App/Baseline/Set"}, "Properties": {"TemplateBody": body}},
        "Unplaced": {"Type": "AWS::CloudFormation::StackSet", "Properties": {"TemplateBody": body}},
        "Placed": {"Type": "AWS::CloudFormation::StackSet", "Metadata": {"aws:cdk:path": 5}, "Properties": {"TemplateBody": body}},
    }}
    write(tmp_path / "manifest.json", {"artifacts": {"Parent": stack("Parent.template.json") | {
        "metadata": logical_ids(("/App/Parent/Placed", "Placed"), ("/App/Parent/Set", "Set"))}}})
    path = write(tmp_path / "Parent.template.json", parent)
    templates = load([tmp_path])
    assert [(t.name, t.path, t.parent, t.construct_paths, t.problems) for t in templates[1:]] == [
        ("Parent/Set", str(path), ("Parent", "Set"), {"Sg": "App/Baseline/Set", "Topic": "App/Baseline/Set"}, []),
        ("Parent/Unplaced", str(path), ("Parent", "Unplaced"), {}, []),
        ("Parent/Placed", str(path), ("Parent", "Placed"), {"Sg": "App/Parent/Placed", "Topic": "App/Parent/Placed"}, []),
    ]
    source = f"{path} Resources.Unreadable.Properties.TemplateBody"
    [(place, message)] = templates[0].problems
    assert place == "Resources.Unreadable.Properties.TemplateBody"
    assert message.startswith(f"the template body is unreadable: {source} is neither valid JSON nor valid YAML: Expecting")


def test_a_stack_set_s_template_url_is_found_as_a_file_asset_by_its_hash(tmp_path: Path) -> None:
    parent = {"Resources": {
        "First": {"Type": "AWS::CloudFormation::Stack", "Metadata": {"aws:asset:path": "gone.json"}},
        "Set": {"Type": "AWS::CloudFormation::StackSet", "Metadata": {"aws:cdk:path": "App/Set"},
                "Properties": {"TemplateURL": {"Fn::Join": ["", ["https://s3/", "abc123.json"]]}}},
        "Nested": {"Type": "AWS::CloudFormation::Stack", "Metadata": {"aws:cdk:path": "App/Nested", "aws:asset:path": "Nested.json"},
                   "Properties": {"TemplateURL": "https://s3/nested.json"}},
    }}
    write(tmp_path / "manifest.json", {"artifacts": {"Parent": stack("Parent.template.json")}})
    write(tmp_path / "Parent.template.json", parent)
    write(tmp_path / "Set.json", {"Resources": {"Sg": SG}})
    write(tmp_path / "Nested.json", {"Resources": {"Sg": SG}})
    write(tmp_path / "Parent.assets.json", {"files": {"abc123": {"source": {"path": "Set.json"}}}})
    templates = load([tmp_path])
    assert [(t.name, Path(t.path).name, t.construct_paths) for t in templates] == [
        ("Parent", "Parent.template.json", {}), ("Parent/Set", "Set.json", {"Sg": "App/Set"}), ("Parent/Nested", "Nested.json", {})]


def test_a_template_body_after_one_that_is_not_read_is_still_read(tmp_path: Path) -> None:
    body = json.dumps({"Resources": {"Sg": SG}})
    for first in ({"TemplateBody": {"Fn::Sub": "x"}}, {"TemplateBody": "{not a template"}, {"TemplateURL": "https://example.invalid/x.json"}):
        path = write(tmp_path / "p.json", {"Resources": {"A": {"Type": "AWS::CloudFormation::StackSet", "Properties": first},
                                                         "B": {"Type": "AWS::CloudFormation::StackSet", "Properties": {"TemplateBody": body}}}})
        assert [t.name for t in load([path])] == [str(path), f"{path}/B"]


def test_a_product_s_versions_are_each_a_template() -> None:
    product = {"Type": "AWS::ServiceCatalog::CloudFormationProduct", "Properties": {"ProvisioningArtifactParameters": [
        {"Info": {"LoadTemplateFromURL": "https://s3/v1.json"}},
        {"Name": "v2", "Info": {"ImportFromPhysicalId": "arn:aws:cloudformation:us-east-1:123456789012:stack/web/1"}},
        {"Info": "not a mapping"}, "not a version"]}}
    assert deployed_templates("Product", product) == [
        ("Product", "ProvisioningArtifactParameters[0].Info.LoadTemplateFromURL", "https://s3/v1.json"),
        ("Product[1]", "ProvisioningArtifactParameters[1].Info.ImportFromPhysicalId", "arn:aws:cloudformation:us-east-1:123456789012:stack/web/1"),
        ("Product[2]", "ProvisioningArtifactParameters[2].Info.LoadTemplateFromURL", None),
        ("Product[3]", "ProvisioningArtifactParameters[3].Info.LoadTemplateFromURL", None),
    ]
    versions = {"Fn::If": ["C", [], []]}
    assert deployed_templates("Product", {**product, "Properties": {"ProvisioningArtifactParameters": versions}}) == [
        ("Product", "ProvisioningArtifactParameters", versions)]


def test_stacks_and_stack_sets_deploy_one_template_and_other_resources_none() -> None:
    assert deployed_templates("Set", {"Type": "AWS::CloudFormation::StackSet", "Properties": {"TemplateURL": "https://s3/t.json"}}) == [
        ("Set", "TemplateURL", "https://s3/t.json")]
    assert deployed_templates("Set", {"Type": "AWS::CloudFormation::StackSet", "Properties": {"TemplateBody": "{}"}}) == [("Set", "TemplateBody", "{}")]
    assert deployed_templates("Set", {"Type": "AWS::CloudFormation::StackSet"}) == [("Set", "TemplateURL", None)]
    assert deployed_templates("Child", {"Type": "AWS::CloudFormation::Stack", "Properties": {"TemplateURL": "u"}}) == [("Child", "TemplateURL", "u")]
    assert deployed_templates("Topic", {"Type": "AWS::SNS::Topic"}) == deployed_templates("Bad", "not a resource") == []


def test_parameters_passed_to_a_deployed_template_are_a_mapping_or_a_stack_set_s_key_value_list() -> None:
    assert passed_parameters({"Properties": {"Parameters": {"A": "1"}}}) == {"A": "1"}
    assert passed_parameters({"Properties": {"Parameters": [
        {"ParameterKey": "A", "ParameterValue": "1"}, {"ParameterKey": "B"}, {"ParameterValue": "2"}, {"ParameterKey": 3}, "C"]}}) == {"A": "1", "B": None}
    assert passed_parameters("not a resource") == passed_parameters({"Properties": "x"}) == passed_parameters({"Properties": {"Parameters": "x"}}) == {}


@pytest.mark.parametrize(("transform", "reported"), [
    ("AWS::Serverless-2016-10-31", True), (["AWS::LanguageExtensions"], True), ([], True), ("Acme::Macro", False), (["AWS::LanguageExtensions", "Acme"], False)])
def test_unknown_resource_attributes_are_problems_unless_a_macro_may_take_them(tmp_path: Path, transform, reported: bool) -> None:
    body = {"Transform": transform, "Resources": {"Sg": {**SG, "Tier": "web", "IgnoreGlobals": "*"}}}
    problems = structure_problems(body)
    tier = ("Resources.Sg.Tier", "'Tier' is not a resource attribute CloudFormation knows")
    ignore = ("Resources.Sg.IgnoreGlobals", "'IgnoreGlobals' is not a resource attribute CloudFormation knows")
    sam = transform == "AWS::Serverless-2016-10-31"
    assert problems == ([tier] + ([] if sam else [ignore]) if reported else [])


def test_each_product_version_is_read_from_its_asset_even_after_one_that_is_not_found(tmp_path: Path) -> None:
    product = {"Type": "AWS::ServiceCatalog::CloudFormationProduct", "Properties": {"ProvisioningArtifactParameters": [
        {"Info": {"LoadTemplateFromURL": "https://example.invalid/elsewhere.json"}},
        {"Info": {"LoadTemplateFromURL": "https://s3/gone111.json"}},
        {"Info": {"LoadTemplateFromURL": {"Fn::Sub": "https://s3/v3333.json"}}}]}}
    write(tmp_path / "manifest.json", {"artifacts": {"Parent": stack("Parent.template.json")}})
    write(tmp_path / "Parent.template.json", {"Resources": {"Product": product}})
    write(tmp_path / "V3.json", {"Resources": {"Sg": SG}})
    write(tmp_path / "Parent.assets.json", {"files": {"gone111": {"source": {"path": "gone.json"}}, "v3333": {"source": {"path": "V3.json"}}}})
    templates = load([tmp_path])
    assert [(t.name, Path(t.path).name, t.parent, t.construct_paths) for t in templates] == [
        ("Parent", "Parent.template.json", None, {}), ("Parent/Product[2]", "V3.json", ("Parent", "Product"), {})]
