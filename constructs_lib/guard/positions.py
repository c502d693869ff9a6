"""Where a finding is in its template file: the line of its resource, or of the inline rule that opens the port.

Positions come from a parser, never from a text search (which can land on a same-named key elsewhere):
YAML is composed by PyYAML (its nodes carry their marks); JSON is walked structurally, down to
``Resources.<id>.Properties.SecurityGroupIngress[i]``, skipping every other value with the standard
decoder. Read only when a report is rendered, and only for templates with findings, so checking costs
nothing more. What cannot be placed (a file that no longer parses, a finding on the template as a
whole) has no line.
"""

from __future__ import annotations

import json
import re
from bisect import bisect_right
from collections.abc import Callable

from ..policy import Finding

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_SPACE = re.compile(r"[ \t\n\r]*")
_YAML_LINE = re.compile(r"^line (\d+)$")  # where the YAML reader anchors what it cannot place in a resource
_cache: dict[str, dict[str, int]] = {}


def resource_line(finding: Finding) -> int | None:
    """The 1-based line of the finding's resource (or template section, or the line a YAML problem names)."""
    location = finding.location
    if location.template_path is None:
        return None
    yaml_line = _YAML_LINE.match(location.logical_id)
    if yaml_line:
        return int(yaml_line[1])
    lines = key_lines(location.template_path)
    return lines.get(location.logical_id) or lines.get(f"/{location.logical_id}")


def rule_line(finding: Finding) -> int | None:
    """The 1-based line of the inline rule of the finding's resource that opens the port, else its resource's."""
    location = finding.location
    if location.template_path is not None:
        lines = key_lines(location.template_path)
        prefix = f"{location.logical_id}.SecurityGroupIngress["
        for label in sorted(finding.contributors):
            if label.startswith(prefix) and label in lines:
                return lines[label]
    return resource_line(finding)


def key_lines(path: str) -> dict[str, int]:
    """``{logical id: line, "<id>.SecurityGroupIngress[i]": line, "/<section>": line}`` for one template file."""
    if path not in _cache:
        try:
            with open(path, encoding="utf-8-sig") as file:
                text = file.read()
            _cache[path] = _json_lines(text) if text.lstrip().startswith("{") else {}
            if not _cache[path]:
                _cache[path] = _yaml_lines(text)
        except Exception:  # noqa: BLE001 - a position is a convenience: a finding without one is still reported
            _cache[path] = {}
    return _cache[path]


def _yaml_lines(text: str) -> dict[str, int]:
    import yaml

    root = yaml.compose(text, Loader=yaml.SafeLoader)  # nodes only: no tag is constructed
    lines: dict[str, int] = {}
    for key, value in _pairs(root):
        lines[f"/{key.value}"] = key.start_mark.line + 1
        if key.value != "Resources":
            continue
        for logical_id, resource in _pairs(value):
            lines[str(logical_id.value)] = logical_id.start_mark.line + 1
            for attribute, properties in _pairs(resource):
                if attribute.value != "Properties":
                    continue
                for name, rules in _pairs(properties):
                    if name.value == "SecurityGroupIngress" and isinstance(rules, yaml.SequenceNode):
                        for index, rule in enumerate(rules.value):
                            lines[f"{logical_id.value}.SecurityGroupIngress[{index}]"] = rule.start_mark.line + 1
    return lines


def _pairs(node: object) -> list[tuple[Any, Any]]:
    import yaml

    return [(key, value) for key, value in node.value if isinstance(key, yaml.ScalarNode)] if isinstance(node, yaml.MappingNode) else []


def _json_lines(text: str) -> dict[str, int]:
    """The same places in JSON text, by walking its objects (the last of duplicate keys wins, as in the parser)."""
    decoder = json.JSONDecoder()
    newlines = [match.start() for match in re.finditer("\n", text)]
    lines: dict[str, int] = {}

    def line(position: int) -> int:
        return bisect_right(newlines, position) + 1

    def skip(position: int) -> int:
        return decoder.raw_decode(text, position)[1]

    def space(position: int) -> int:  # the position after the white space at position
        return _SPACE.match(text, position).end()  # type: ignore[union-attr]  # the pattern matches anywhere

    def members(position: int, visit: Callable[[str, int, int], int]) -> int:  # position at "{"; returns the position after "}"
        position = space(position + 1)
        if text[position] == "}":
            return position + 1
        while True:
            key, after = json.decoder.scanstring(text, position + 1)  # type: ignore[attr-defined]  # public in CPython, not in typeshed
            colon = space(after)
            value = space(colon + 1)
            end = space(visit(key, position, value))
            if text[end] != ",":
                return end + 1
            position = space(end + 1)

    def items(position: int, visit: Callable[[int, int], int]) -> int:  # position at "["
        position = space(position + 1)
        if text[position] == "]":
            return position + 1
        index = 0
        while True:
            end = space(visit(index, position))
            if text[end] != ",":
                return end + 1
            position, index = space(end + 1), index + 1

    def section(key: str, at: int, value: int) -> int:
        lines[f"/{key}"] = line(at)
        return members(value, resource) if key == "Resources" and text[value] == "{" else skip(value)

    def resource(logical_id: str, at: int, value: int) -> int:
        lines[logical_id] = line(at)

        def attribute(name: str, _: int, body: int) -> int:
            return members(body, rules) if name == "Properties" and text[body] == "{" else skip(body)

        def rules(name: str, _: int, body: int) -> int:
            if name != "SecurityGroupIngress" or text[body] != "[":
                return skip(body)

            def rule(index: int, start: int) -> int:
                lines[f"{logical_id}.SecurityGroupIngress[{index}]"] = line(start)
                return skip(start)

            return items(body, rule)

        return members(value, attribute) if text[value] == "{" else skip(value)

    members(space(0), section)
    return lines
