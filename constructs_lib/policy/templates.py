"""Find and read CloudFormation templates: single files (JSON or YAML) or a whole cloud assembly.

A cloud assembly (``cdk.out``) is read through its ``manifest.json``: every stack artifact, every
nested assembly (CDK stages) and every nested-stack template referenced from a stack.

Reading is strict where CloudFormation is: a file that is not JSON or YAML, or has no ``Resources``,
is a ``TemplateError`` (the input is refused). A template that parses but that CloudFormation would
refuse or read differently from how it looks (a duplicate key, a YAML tag that is not one of
CloudFormation's short forms, a resource that is not a mapping, a ``Type`` that is not a string ...)
is read as far as it can be, and each such problem is kept in ``Template.problems`` with the place
in the file; the core reports them as ``MalformedTemplate`` findings, so they never pass.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator, Mapping
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_TEMPLATE_SUFFIXES = (".json", ".yaml", ".yml", ".template")

#: CloudFormation's YAML short forms (``!Ref`` ...), with the rule functions of the ``Rules`` section
#: (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/intrinsic-function-reference-rules.html);
#: any other ``!tag`` is refused.
SHORT_FORMS = frozenset(
    {
        "Ref", "Condition", "Base64", "Cidr", "FindInMap", "GetAtt", "GetAZs", "ImportValue", "Join", "Select",
        "Split", "Sub", "Transform", "And", "Equals", "If", "Not", "Or", "ToJsonString", "Length", "GetStackOutput",
        "Contains", "EachMemberEquals", "EachMemberIn", "RefAll", "ValueOf", "ValueOfAll",
    }
)
_SECTIONS = frozenset(
    {
        "AWSTemplateFormatVersion", "Description", "Metadata", "Parameters", "Rules", "Mappings", "Conditions",
        "Transform", "Resources", "Outputs", "Hooks",
    }
)
_RESOURCE_ATTRIBUTES = frozenset(
    {
        "Type", "Properties", "Condition", "DependsOn", "Metadata", "DeletionPolicy", "UpdateReplacePolicy",
        "CreationPolicy", "UpdatePolicy", "Version",
    }
)
#: What the SAM transform adds (https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/sam-specification-resource-attributes.html).
_SAM_RESOURCE_ATTRIBUTES = _RESOURCE_ATTRIBUTES | {"IgnoreGlobals"}


class TemplateError(Exception):
    """An input that cannot be read as a CloudFormation template or cloud assembly."""


class TooDeep(TemplateError):
    """Input nested deeper than a parser can follow (no template is)."""


class Template:
    """One template to analyse. ``name`` is the stack name, or the file name outside an assembly.

    ``construct_paths`` maps logical ids to CDK construct paths, from the cloud assembly's metadata,
    for templates synthesized without ``aws:cdk:path`` resource metadata; ``metadata_files`` are the
    assembly metadata files of the stack (creation stacks, for source locations); ``problems`` are
    ``(place, message)`` pairs for what CloudFormation would refuse; ``stack_name`` is the stack's
    CloudFormation name where the assembly says it (``Fn::GetStackOutput`` names stacks by it);
    ``parent`` says which stack resource of which template a nested stack's parameters come from.
    """

    __slots__ = ("name", "path", "body", "construct_paths", "metadata_files", "problems", "stack_name", "parent")

    def __init__(
        self,
        name: str,
        path: str | os.PathLike[str],
        body: dict[str, Any],
        construct_paths: Mapping[str, str] | None = None,
        metadata_files: tuple[str, ...] = (),
        problems: list[tuple[str, str]] | None = None,
        stack_name: str | None = None,
        parent: tuple[str, str] | None = None,
    ) -> None:
        self.name = name
        self.stack_name = stack_name
        self.parent = parent  # a nested stack's (parent template name, logical id of its AWS::CloudFormation::Stack)
        self.path = os.fspath(path)
        self.body = body
        self.construct_paths = construct_paths or {}
        self.metadata_files = metadata_files
        self.problems = problems if problems is not None else []

    def __repr__(self) -> str:
        return f"Template({self.name!r}, {self.path!r})"


# --- parsing -------------------------------------------------------------------------------------


def parse_template(text: str, source: str) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """Parse template text (JSON if it starts with ``{``, else YAML); return the body and its problems.

    Raises ``TemplateError`` when the text is neither, or is not a CloudFormation template.
    """
    try:
        body, problems = _parse_json(text, source) if text.lstrip().startswith("{") else _parse_yaml(text, source)
    except TemplateError as json_error:
        if not text.lstrip().startswith("{") or isinstance(json_error, TooDeep):
            raise
        try:  # YAML flow style also starts with "{"
            body, problems = _parse_yaml(text, source)
        except TemplateError as yaml_error:
            raise TemplateError(f"{source} is neither valid JSON nor valid YAML: {json_error.args[0].split(': ', 1)[-1]}; "
                                f"as YAML: {yaml_error.args[0].split(': ', 1)[-1]}") from None
    if not isinstance(body, dict) or "Resources" not in body:
        raise TemplateError(f"{source} is not a CloudFormation template (no Resources section)")
    return body, problems + structure_problems(body)


def _parse_yaml(text: str, source: str) -> tuple[Any, list[tuple[str, str]]]:
    from . import yaml_reader  # PyYAML is imported only for YAML input

    return yaml_reader.parse(text, source)


def _parse_json(text: str, source: str) -> tuple[Any, list[tuple[str, str]]]:
    duplicated: list[tuple[dict[str, Any], list[str]]] = []

    def pairs_to_dict(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        result = dict(pairs)
        if len(result) != len(pairs):
            seen: set[str] = set()
            duplicated.append((result, [key for key, _ in pairs if key in seen or seen.add(key)]))  # type: ignore[func-returns-value]  # set.add for its effect
        return result

    try:
        body = json.loads(text, object_pairs_hook=pairs_to_dict)
    except ValueError as error:
        raise TemplateError(f"{source} is not valid JSON: {error}") from None
    except RecursionError:
        raise TooDeep(f"{source} is nested too deeply to be a CloudFormation template") from None
    problems = []
    if duplicated:
        places = {id(mapping): keys for mapping, keys in duplicated}
        for place, mapping in _mappings(body, ""):
            for key in places.get(id(mapping), ()):
                problems.append((_join(place, key), f"duplicate key {key!r}: CloudFormation refuses it, and readers disagree on which value counts"))
    return body, problems


def _mappings(node: Any, place: str) -> Iterator[tuple[str, dict[Any, Any]]]:
    """Every mapping inside ``node`` with its place (``Resources.Sg.Properties``)."""
    if isinstance(node, dict):
        yield place, node
        for key, value in node.items():
            yield from _mappings(value, _join(place, str(key)))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _mappings(value, f"{place}[{index}]")


def _join(place: str, key: str) -> str:
    return f"{place}.{key}" if place else key


def structure_problems(body: dict[str, Any]) -> list[tuple[str, str]]:
    """What CloudFormation would refuse in the template's sections and resources (not in properties)."""
    problems = []
    transforms = body.get("Transform")
    sam = transforms == "AWS::Serverless-2016-10-31" or (isinstance(transforms, list) and "AWS::Serverless-2016-10-31" in transforms)
    # A macro rewrites the template before CloudFormation reads its resources, and may take attributes of its own
    # (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/template-macros.html); its transform is
    # unverifiable in its own right (readers.KNOWN_TRANSFORMS).
    names = transforms if isinstance(transforms, list) else [transforms] if transforms is not None else []
    macro = any(not (isinstance(name, str) and name.startswith("AWS::")) for name in names)
    for section in body:
        if section not in _SECTIONS and not (sam and section == "Globals"):
            problems.append((str(section), f"{section!r} is not a template section CloudFormation knows"))
    for section in ("Parameters", "Mappings", "Conditions", "Outputs"):
        if section in body and not isinstance(body[section], dict):
            problems.append((section, f"{section} is a {_kind(body[section])}, not a mapping"))
    attributes = _SAM_RESOURCE_ATTRIBUTES if sam else _RESOURCE_ATTRIBUTES
    resources = body["Resources"]
    if not isinstance(resources, dict):
        return problems + [("Resources", f"Resources is a {_kind(resources)}, not a mapping of logical ids to resources")]
    for logical_id, resource in resources.items():
        place = f"Resources.{logical_id}"
        if str(logical_id).startswith("Fn::ForEach::"):
            continue  # expanded by the AWS::LanguageExtensions transform; read as unverifiable
        if not (isinstance(logical_id, str) and logical_id.isascii() and logical_id.isalnum()):
            problems.append((place, f"logical id {logical_id!r} is not alphanumeric"))
        if not isinstance(resource, dict):
            problems.append((place, f"the resource is a {_kind(resource)}, not a mapping"))
            continue
        if len(resource) == 1 and str(next(iter(resource))).startswith("Fn::!"):
            continue  # the whole resource is under a tag CloudFormation does not know: reported by the YAML reader
        if "Type" not in resource:
            problems.append((place, "the resource has no Type"))
        elif not isinstance(resource["Type"], str) or not resource["Type"]:
            problems.append((f"{place}.Type", f"Type is a {_kind(resource['Type'])}, not a resource type name"))
        for attribute in resource:
            if attribute not in attributes and not macro:
                problems.append((f"{place}.{attribute}", f"{attribute!r} is not a resource attribute CloudFormation knows"))
        if "Properties" in resource and not isinstance(resource["Properties"], dict):
            problems.append((f"{place}.Properties", f"Properties is a {_kind(resource['Properties'])}, not a mapping"))
        if "Condition" in resource and not isinstance(resource["Condition"], str):
            problems.append((f"{place}.Condition", f"Condition is a {_kind(resource['Condition'])}, not a condition name"))
    return problems


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return "mapping"
    if isinstance(value, list):
        return "list"
    if isinstance(value, str):
        return f"string {value!r}"
    return f"{type(value).__name__} {value!r}" if value is not None else "null"


def read_template(path: str | os.PathLike[str]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """Parse one template file; raise ``TemplateError`` if it cannot be read or is not a template."""
    try:
        with open(path, encoding="utf-8-sig") as file:
            text = file.read()
    except (OSError, UnicodeDecodeError) as error:
        raise TemplateError(f"cannot read {os.fspath(path)}: {error}") from None
    return parse_template(text, os.fspath(path))


# --- finding templates ---------------------------------------------------------------------------


def load(paths: Iterable[str | os.PathLike[str]], *, skip_non_templates: bool = False) -> list[Template]:
    """Read every template named by ``paths``: template files or cloud assembly directories.

    With ``skip_non_templates`` a file that is not a template is left out (pre-commit hooks pass
    whatever matched their pattern); otherwise it is a ``TemplateError``.
    """
    templates: list[Template] = []
    seen: set[str] = set()
    for raw in paths:
        path = os.fspath(raw)
        if os.path.isdir(path) and os.path.isfile(os.path.join(path, "manifest.json")):
            for name, template_path, construct_paths, metadata_files, stack_name in _assembly_templates(os.path.join(path, "manifest.json")):
                _add(templates, seen, name, template_path, construct_paths, metadata_files, stack_name)
        elif os.path.isdir(path):
            files = sorted(
                os.path.join(path, entry)
                for entry in os.listdir(path)
                if entry.endswith(_TEMPLATE_SUFFIXES) and entry != "manifest.json" and os.path.isfile(os.path.join(path, entry))
            )
            if not files:
                raise TemplateError(f"{path} holds no manifest.json and no template files")
            for file in files:
                _add(templates, seen, file, file)
        elif os.path.isfile(path):
            try:
                _add(templates, seen, path, path)
            except TemplateError as error:
                if not skip_non_templates:
                    raise
                import sys

                print(f"skipped: {error}", file=sys.stderr)
        else:
            raise TemplateError(f"{path} does not exist")
    return templates


def load_named(named: Iterable[tuple[str, str | os.PathLike[str]]]) -> list[Template]:
    """Read templates given as ``(stack name, path)`` pairs, with the nested-stack templates they use."""
    templates: list[Template] = []
    seen: set[str] = set()
    for name, path in named:
        _add(templates, seen, name, os.fspath(path))
    return templates


def _add(
    templates: list[Template],
    seen: set[str],
    name: str,
    path: str,
    construct_paths: Mapping[str, str] | None = None,
    metadata_files: tuple[str, ...] = (),
    stack_name: str | None = None,
) -> None:
    resolved = os.path.realpath(path)
    if resolved in seen:
        return
    seen.add(resolved)
    body, problems = read_template(path)
    template = Template(name, path, body, construct_paths, metadata_files, problems, stack_name)
    templates.append(template)
    templates.extend(_nested_stack_templates(template, seen))


def _assembly_templates(manifest_path: str) -> Iterator[tuple[str, str, dict[str, str], tuple[str, ...], str]]:
    try:
        with open(manifest_path, encoding="utf-8") as file:
            manifest = json.load(file)
        artifacts = manifest.get("artifacts") or {}
        if not isinstance(artifacts, dict):
            raise ValueError("artifacts is not a mapping")
    except (OSError, ValueError, AttributeError) as error:
        raise TemplateError(f"cannot read cloud assembly manifest {manifest_path}: {error}") from None
    directory = os.path.dirname(manifest_path)
    for artifact_id, artifact in sorted(artifacts.items()):
        properties: Any = artifact.get("properties") or {} if isinstance(artifact, dict) else {}
        kind = artifact.get("type") if isinstance(artifact, dict) else None
        if kind == "aws:cloudformation:stack":
            name = artifact.get("displayName") or properties.get("stackName") or artifact_id
            if not isinstance(properties.get("templateFile"), str):
                raise TemplateError(f"{manifest_path}: stack artifact {artifact_id!r} names no templateFile")
            construct_paths, metadata_files = _construct_paths(directory, artifact)
            stack_name = properties.get("stackName") if isinstance(properties.get("stackName"), str) else artifact_id
            yield name, os.path.join(directory, properties["templateFile"]), construct_paths, metadata_files, stack_name
        elif kind == "cdk:cloud-assembly":
            if not isinstance(properties.get("directoryName"), str):
                raise TemplateError(f"{manifest_path}: nested assembly {artifact_id!r} names no directoryName")
            yield from _assembly_templates(os.path.join(directory, properties["directoryName"], "manifest.json"))


def _construct_paths(directory: str, artifact: dict[str, Any]) -> tuple[dict[str, str], tuple[str, ...]]:
    """Logical id to construct path from a stack artifact's metadata (ids that occur twice are left out),
    and the metadata files it points at."""
    metadata = dict(artifact.get("metadata") or {})
    extra = artifact.get("additionalMetadataFile")
    files: tuple[str, ...] = ()
    if isinstance(extra, str):
        files = (os.path.join(directory, extra),)
        try:
            with open(files[0], encoding="utf-8") as file:
                metadata.update(json.load(file))
        except (OSError, ValueError, TypeError) as error:
            raise TemplateError(f"cannot read cloud assembly metadata {files[0]}: {error}") from None
    paths: dict[str, str | None] = {}
    for construct_path, entries in metadata.items():
        for entry in entries if isinstance(entries, list) else ():
            if isinstance(entry, dict) and entry.get("type") == "aws:cdk:logicalId" and isinstance(entry.get("data"), str):
                logical_id, path = entry["data"], str(construct_path).lstrip("/")
                paths[logical_id] = path if paths.get(logical_id, path) == path else None
    return {logical_id: path for logical_id, path in paths.items() if path}, files


def _nested_stack_templates(parent: Template, seen: set[str]) -> Iterator[Template]:
    """The templates ``parent``'s resources deploy (``deployed_templates``) that the assembly holds: a nested stack's
    or a product's as a file asset next to its parent, found by the ``aws:asset:path`` metadata or by the asset
    hash in the URL; a StackSet's ``TemplateBody`` in place."""
    resources = parent.body.get("Resources")
    for logical_id, resource in resources.items() if isinstance(resources, dict) else ():
        for suffix, place, value in deployed_templates(logical_id, resource):
            nested_path, text = parent.path, value
            if place != "TemplateBody":
                metadata = resource.get("Metadata")
                asset = metadata.get("aws:asset:path") if isinstance(metadata, dict) and place == "TemplateURL" else None
                asset = asset if isinstance(asset, str) else _asset_named_in(parent.path, value)
                if asset is None:
                    continue
                nested_path, text = os.path.realpath(os.path.join(os.path.dirname(parent.path), asset)), None
                if nested_path in seen or not os.path.isfile(nested_path):
                    continue
                seen.add(nested_path)
            elif not isinstance(text, str):
                continue  # produced by an intrinsic: unverifiable (readers/stacks.py)
            try:
                body, problems = read_template(nested_path) if text is None else parse_template(text, f"{parent.path} Resources.{logical_id}.Properties.TemplateBody")
            except TemplateError as error:
                if text is None:
                    raise
                parent.problems.append((f"Resources.{logical_id}.Properties.TemplateBody", f"the template body is unreadable: {error}"))
                continue
            nested = Template(f"{parent.name}/{suffix}", nested_path, body, _stack_set_paths(parent, logical_id, resource, body),
                              problems=problems, parent=(parent.name, logical_id))
            yield nested
            yield from _nested_stack_templates(nested, seen)


def _stack_set_paths(parent: Template, logical_id: str, resource: dict[str, Any], body: dict[str, Any]) -> dict[str, str] | None:
    """A StackSet's template is no construct of its own: its resources are at the StackSet's construct path (nested
    stacks and product stacks have theirs)."""
    if resource.get("Type") != "AWS::CloudFormation::StackSet":
        return None
    metadata = resource.get("Metadata")
    path = metadata.get("aws:cdk:path") if isinstance(metadata, dict) else None
    path = path if isinstance(path, str) else parent.construct_paths.get(logical_id)
    resources = body.get("Resources")
    return dict.fromkeys(resources, path) if path and isinstance(resources, dict) else None


def deployed_templates(logical_id: str, resource: Any) -> list[tuple[str, str, Any]]:
    """The templates a resource deploys as stacks of their own, as ``(name, property, value)``: ``name`` is the
    template's name below its parent's (``LogicalId``; ``LogicalId[1]`` for a product's second version), ``value`` a
    URL, or the template itself for ``TemplateBody``. Nested stacks (``TemplateURL``), StackSets (``TemplateBody``
    or ``TemplateURL``), Service Catalog product versions (``Info.LoadTemplateFromURL``, or an existing stack's
    template: ``Info.ImportFromPhysicalId``)."""
    kind = resource.get("Type") if isinstance(resource, dict) else None
    properties = resource.get("Properties") if isinstance(resource, dict) else None
    properties = properties if isinstance(properties, dict) else {}
    if kind == "AWS::CloudFormation::Stack":
        return [(logical_id, "TemplateURL", properties.get("TemplateURL"))]
    if kind == "AWS::CloudFormation::StackSet":
        place = "TemplateBody" if "TemplateBody" in properties else "TemplateURL"
        return [(logical_id, place, properties.get(place))]
    if kind == "AWS::ServiceCatalog::CloudFormationProduct":
        versions = properties.get("ProvisioningArtifactParameters")
        if not isinstance(versions, list):
            return [(logical_id, "ProvisioningArtifactParameters", versions)]
        found = []
        for index, version in enumerate(versions):
            info = version.get("Info") if isinstance(version, dict) else None
            info = info if isinstance(info, dict) else {}
            place = "ImportFromPhysicalId" if "ImportFromPhysicalId" in info else "LoadTemplateFromURL"
            found.append((f"{logical_id}[{index}]" if index else logical_id, f"ProvisioningArtifactParameters[{index}].Info.{place}", info.get(place)))
        return found
    return []


def passed_parameters(resource: Any) -> dict[str, Any]:
    """The parameter values a resource passes to the template it deploys: a nested stack's ``Parameters`` mapping,
    a StackSet's ``Parameters`` list of ``ParameterKey``/``ParameterValue``."""
    properties = resource.get("Properties") if isinstance(resource, dict) else None
    parameters = properties.get("Parameters") if isinstance(properties, dict) else None
    if isinstance(parameters, list):
        return {p["ParameterKey"]: p.get("ParameterValue") for p in parameters if isinstance(p, dict) and isinstance(p.get("ParameterKey"), str)}
    return parameters if isinstance(parameters, dict) else {}


def _asset_named_in(template_path: str, template_url: Any) -> str | None:
    """The file asset (``*.assets.json`` next to the template) whose hash ``template_url`` names."""
    if template_url is None:
        return None
    url = json.dumps(template_url)
    directory = os.path.dirname(template_path)
    for entry in sorted(os.listdir(directory)):
        if not entry.endswith(".assets.json"):
            continue
        try:
            with open(os.path.join(directory, entry), encoding="utf-8") as file:
                files = json.load(file).get("files") or {}
        except (OSError, ValueError, AttributeError):
            continue
        for asset_hash, asset in files.items() if isinstance(files, dict) else ():
            source = asset.get("source") if isinstance(asset, dict) else None
            if asset_hash in url and isinstance(source, dict) and isinstance(source.get("path"), str):
                return source["path"]
    return None
