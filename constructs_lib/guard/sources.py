"""Source locations: the line of the user's code behind a finding, from what the cloud assembly recorded.

aws-cdk-lib writes ``aws:cdk:creationStack`` metadata for every construct into
``cdk.out/<stack>.metadata.json``. With ``JSII_HOST_STACK_TRACES=1`` in the app's environment the stacks
hold the Python frames (``<module> (/repo/infra/app.py:9)``); with ``CDK_DEBUG=1`` as well, each
``add_ingress_rule`` on a group also records an ``aws:cdk:propertyAssignment`` entry with its line.

A finding is located at the rule that opens the port where that is known: a standalone ingress
resource at the line that created it, an inline rule at its ``add_ingress_rule`` line (the N-th
``SecurityGroupIngress`` assignment is the N-th rule, trusted only when the counts agree); otherwise
at the line that created the group (or attachment). The line is the first frame in the user's own
code (not a library, not this package); its path is relative to the root of the git repository
holding it, else to the working directory.
"""

from __future__ import annotations

import json
import os
import re

from ..policy import CodeLocation, Finding, Template
from ..policy.readers import location_of

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_PACKAGE_DIRECTORY = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_LIBRARY_MARKERS = tuple(os.sep + name + os.sep for name in ("site-packages", "dist-packages", "node_modules"))
_FRAME = re.compile(r"\((?P<file>/.+\.py):(?P<line>\d+)\)$")
_INLINE_RULE = re.compile(r"^(?P<logical_id>.+)\.SecurityGroupIngress\[(?P<index>\d+)\]$")
_CREATION, _ASSIGNMENT = "aws:cdk:creationStack", "aws:cdk:propertyAssignment"


def locate(findings: list[Finding], templates: list[Template]) -> list[Finding]:
    """``findings`` with ``code_location`` set where the templates' assembly metadata records a user frame."""
    metadata = _read_metadata(templates)
    if not metadata:
        return findings
    by_name = {template.name: template for template in templates}
    located = []
    for finding in findings:
        template = by_name.get(finding.location.template)
        code = _code_location(metadata, template, finding) if template is not None else None
        located.append(finding._replace(code_location=code) if code is not None else finding)
    return located


def _read_metadata(templates: list[Template]) -> dict[str, list[dict[str, Any]]]:
    """Metadata entries by construct path (without the leading ``/``), from every stack's metadata file."""
    metadata: dict[str, list[dict[str, Any]]] = {}
    for path in sorted({path for template in templates for path in template.metadata_files}):
        try:
            with open(path, encoding="utf-8") as file:
                data = json.load(file)
        except (OSError, ValueError):
            continue  # source lines are a convenience: a finding without one is still reported
        for construct_path, entries in data.items() if isinstance(data, dict) else ():
            if isinstance(entries, list):
                metadata.setdefault(str(construct_path).lstrip("/"), []).extend(e for e in entries if isinstance(e, dict))
    return metadata


def _code_location(metadata: dict[str, list[dict[str, Any]]], template: Template, finding: Finding) -> CodeLocation | None:
    """The rule's line (first contributing rule that can be located), else the line that created the resource."""
    for label in sorted(finding.contributors):
        inline = _INLINE_RULE.match(label)
        if inline is not None:
            code = _inline_rule_line(metadata, template, inline["logical_id"], int(inline["index"]))
        else:
            code = _creation_line(metadata, _construct_path(template, label))
        if code is not None:
            return code
    return _creation_line(metadata, finding.location.construct_path or _construct_path(template, finding.location.logical_id))


def _construct_path(template: Template, logical_id: str) -> str | None:
    resources = template.body.get("Resources")
    if not isinstance(resources, dict) or logical_id not in resources:
        return None
    return location_of(template, logical_id, resources[logical_id]).construct_path


def _inline_rule_line(metadata: dict[str, list[dict[str, Any]]], template: Template, logical_id: str, index: int) -> CodeLocation | None:
    """The ``add_ingress_rule`` line of inline rule ``index``, when one assignment was recorded per rule."""
    construct_path = _construct_path(template, logical_id)
    properties = template.body["Resources"][logical_id].get("Properties") if construct_path else None
    rules = properties.get("SecurityGroupIngress") if isinstance(properties, dict) else None
    assignments = [
        entry["data"].get("stackTrace")
        for entry in metadata.get(construct_path or "", ())
        if entry.get("type") == _ASSIGNMENT and isinstance(entry.get("data"), dict)
        and entry["data"].get("propertyName") == "SecurityGroupIngress"
    ]
    if isinstance(rules, list) and len(assignments) == len(rules) and index < len(rules):
        return _user_frame(assignments[index])
    return None


def _creation_line(metadata: dict[str, list[dict[str, Any]]], construct_path: str | None) -> CodeLocation | None:
    """The user's line that created the construct (not an ancestor's: that would be a stack's line)."""
    for entry in metadata.get(construct_path or "", ()):
        if entry.get("type") == _CREATION:
            return _user_frame(entry.get("data"))
    return None


def _user_frame(trace: object) -> CodeLocation | None:
    for frame in trace if isinstance(trace, list) else ():
        match = _FRAME.search(frame) if isinstance(frame, str) else None
        if match is None:
            continue
        file = match["file"]
        if file.startswith(_PACKAGE_DIRECTORY + os.sep) or any(marker in file for marker in _LIBRARY_MARKERS):
            continue
        return CodeLocation(os.path.relpath(file, repository_root(file)).replace(os.sep, "/"), int(match["line"]))
    return None


def repository_root(path: str) -> str:
    """The root of the git repository holding ``path``, else the working directory."""
    return git_root(path) or os.getcwd()


def git_root(path: str) -> str | None:
    """The root of the git repository holding ``path`` (a folder with ``.git``), or ``None``."""
    directory = os.path.dirname(os.path.abspath(path)) if not os.path.isdir(path) else os.path.abspath(path)
    while True:
        if os.path.exists(os.path.join(directory, ".git")):
            return directory
        parent = os.path.dirname(directory)
        if parent == directory:
            return None
        directory = parent
