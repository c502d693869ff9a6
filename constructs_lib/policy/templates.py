"""Find and read CloudFormation templates: single files (JSON or YAML) or a whole cloud assembly.

A cloud assembly (``cdk.out``) is read through its ``manifest.json``: every stack artifact, every
nested assembly (CDK stages) and every nested-stack template referenced from a stack.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

_TEMPLATE_SUFFIXES = (".json", ".yaml", ".yml", ".template")


class TemplateError(Exception):
    """An input that cannot be read as a CloudFormation template or cloud assembly."""


@dataclass(frozen=True)
class Template:
    """One template to analyse. ``name`` is the stack name, or the file name outside an assembly.

    ``construct_paths`` maps logical ids to CDK construct paths, from the cloud assembly's metadata,
    for templates synthesized without ``aws:cdk:path`` resource metadata.
    """

    name: str
    path: Path
    body: dict[str, Any]
    construct_paths: Mapping[str, str] = field(default_factory=dict, compare=False)


class _CloudFormationLoader(yaml.SafeLoader):
    """YAML loader that understands CloudFormation's short-form tags (``!Ref``, ``!GetAtt`` ...)."""


def _construct_tag(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if tag_suffix in ("Ref", "Condition"):
        return {tag_suffix: value}
    if tag_suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{tag_suffix}": value}


_CloudFormationLoader.add_multi_constructor("!", _construct_tag)


def read_template(path: Path) -> dict[str, Any]:
    """Parse one template file; raise ``TemplateError`` if it is not a template."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise TemplateError(f"cannot read {path}: {error}") from None
    try:
        body = json.loads(text) if text.lstrip().startswith("{") else yaml.load(text, Loader=_CloudFormationLoader)
    except (ValueError, yaml.YAMLError) as error:
        raise TemplateError(f"{path} is neither valid JSON nor valid YAML: {error}") from None
    if not isinstance(body, dict) or not isinstance(body.get("Resources"), dict):
        raise TemplateError(f"{path} is not a CloudFormation template (no Resources section)")
    return body


def load(paths: Iterable[str | Path]) -> list[Template]:
    """Read every template named by ``paths``: template files or cloud assembly directories."""
    named: list[tuple[str, Path, Mapping[str, str]]] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir() and (path / "manifest.json").is_file():
            named.extend(_assembly_templates(path / "manifest.json"))
        elif path.is_dir():
            files = sorted(p for p in path.iterdir() if p.suffix in _TEMPLATE_SUFFIXES and p.name != "manifest.json")
            if not files:
                raise TemplateError(f"{path} holds no manifest.json and no template files")
            named.extend((str(p), p, {}) for p in files)
        elif path.is_file():
            named.append((str(path), path, {}))
        else:
            raise TemplateError(f"{path} does not exist")
    return _read_all(named)


def load_named(named: Iterable[tuple[str, Path]]) -> list[Template]:
    """Read templates given as ``(stack name, path)`` pairs, with the nested-stack templates they use."""
    return _read_all((name, path, {}) for name, path in named)


def _read_all(named: Iterable[tuple[str, Path, Mapping[str, str]]]) -> list[Template]:
    templates: list[Template] = []
    seen: set[Path] = set()
    for name, path, construct_paths in named:
        resolved = path.resolve()
        if resolved in seen:
            continue
        seen.add(resolved)
        body = read_template(path)
        templates.append(Template(name, path, body, construct_paths))
        templates.extend(_nested_stack_templates(name, path, body, seen))
    return templates


def _assembly_templates(manifest_path: Path) -> Iterator[tuple[str, Path, Mapping[str, str]]]:
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise TemplateError(f"cannot read cloud assembly manifest {manifest_path}: {error}") from None
    directory = manifest_path.parent
    for artifact_id, artifact in sorted((manifest.get("artifacts") or {}).items()):
        properties = artifact.get("properties") or {}
        if artifact.get("type") == "aws:cloudformation:stack":
            name = artifact.get("displayName") or properties.get("stackName") or artifact_id
            yield name, directory / properties["templateFile"], _construct_paths(directory, artifact)
        elif artifact.get("type") == "cdk:cloud-assembly":
            yield from _assembly_templates(directory / properties["directoryName"] / "manifest.json")


def _construct_paths(directory: Path, artifact: dict[str, Any]) -> dict[str, str]:
    """Logical id to construct path, from a stack artifact's metadata (ids that occur twice are left out)."""
    metadata = dict(artifact.get("metadata") or {})
    extra = artifact.get("additionalMetadataFile")
    if isinstance(extra, str):
        try:
            metadata.update(json.loads((directory / extra).read_text(encoding="utf-8")))
        except (OSError, ValueError) as error:
            raise TemplateError(f"cannot read cloud assembly metadata {directory / extra}: {error}") from None
    paths: dict[str, str | None] = {}
    for construct_path, entries in metadata.items():
        for entry in entries if isinstance(entries, list) else ():
            if isinstance(entry, dict) and entry.get("type") == "aws:cdk:logicalId" and isinstance(entry.get("data"), str):
                logical_id, path = entry["data"], construct_path.lstrip("/")
                paths[logical_id] = path if paths.get(logical_id, path) == path else None
    return {logical_id: path for logical_id, path in paths.items() if path}


def _nested_stack_templates(name: str, path: Path, body: dict[str, Any], seen: set[Path]) -> Iterator[Template]:
    """Templates of CDK nested stacks, which the assembly stores as assets next to their parent."""
    for logical_id, resource in body["Resources"].items():
        if not isinstance(resource, dict) or resource.get("Type") != "AWS::CloudFormation::Stack":
            continue
        asset = (resource.get("Metadata") or {}).get("aws:asset:path")
        if not isinstance(asset, str):
            continue
        nested_path = (path.parent / asset).resolve()
        if nested_path in seen or not nested_path.is_file():
            continue
        seen.add(nested_path)
        nested_name = f"{name}/{logical_id}"
        nested_body = read_template(nested_path)
        yield Template(nested_name, nested_path, nested_body)
        yield from _nested_stack_templates(nested_name, nested_path, nested_body, seen)
