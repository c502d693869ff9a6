"""Which security groups each EC2 instance of the templates is launched with.

Group keys use the same form as :func:`constructs_lib.policy.read_inventory` (``Stack:LogicalId`` for
a group of the analysed templates, ``id:sg-...`` for a literal id), so instances and ingress rules
can be joined.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .ingress import group_key
from .intrinsics import NO_VALUE, Unknown, resolvers_for
from .templates import Template


@dataclass(frozen=True)
class Instance:
    """An ``AWS::EC2::Instance``: ``key`` is ``Stack:LogicalId``, ``name`` its construct id (or logical id)."""

    key: str
    name: str
    construct_path: str | None
    groups: tuple[str, ...]
    unresolved: tuple[str, ...] = ()


def read_instances(templates: Sequence[Template]) -> list[Instance]:
    """Every EC2 instance of ``templates`` with the group keys of its ``SecurityGroupIds``, ``SecurityGroups``
    and ``NetworkInterfaces[].GroupSet`` (each value every intrinsic may deploy as)."""
    instances = []
    for template, resolver in zip(templates, resolvers_for(templates)):
        for logical_id, resource in template.body["Resources"].items():
            if not isinstance(resource, dict) or resource.get("Type") != "AWS::EC2::Instance":
                continue
            properties = resource.get("Properties") if isinstance(resource.get("Properties"), dict) else {}
            groups: list[str] = []
            unresolved: list[str] = []
            nodes = [("GroupId", properties.get("SecurityGroupIds")), ("GroupName", properties.get("SecurityGroups"))]
            for interfaces in resolver.lists(properties.get("NetworkInterfaces", [])):
                for interface in interfaces if isinstance(interfaces, list) else ():
                    if isinstance(interface, dict):
                        nodes.append(("GroupId", interface.get("GroupSet")))
            for field_name, node in nodes:
                if node is None:
                    continue
                for values in resolver.lists(node):
                    if isinstance(values, Unknown):
                        unresolved.append(values.reason)
                        continue
                    for value in values:
                        if isinstance(value, Unknown):
                            unresolved.append(value.reason)
                        elif value is not NO_VALUE:
                            key = group_key(value, field_name, node)
                            if key not in groups:
                                groups.append(key)
            metadata = resource.get("Metadata") if isinstance(resource.get("Metadata"), dict) else {}
            path = metadata.get("aws:cdk:path") if isinstance(metadata.get("aws:cdk:path"), str) else None
            name = _name(path, logical_id) if path else _tag_name(properties.get("Tags")) or logical_id
            instances.append(Instance(f"{template.name}:{logical_id}", name, path, tuple(groups), tuple(unresolved)))
    return instances


def _tag_name(tags: Any) -> str | None:
    """The last segment of the ``Name`` tag (CDK tags instances with their construct path)."""
    for tag in tags if isinstance(tags, list) else ():
        if isinstance(tag, dict) and tag.get("Key") == "Name" and isinstance(tag.get("Value"), str):
            return tag["Value"].rstrip("/").split("/")[-1] or None
    return None


def _name(path: str | None, logical_id: str) -> str:
    if not path:
        return logical_id
    parts = path.split("/")
    if len(parts) > 1 and parts[-1] == "Resource":
        parts = parts[:-1]
    return parts[-1]
