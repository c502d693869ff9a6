"""Source locations: the line of the user's code that created (or changed) the resource behind a finding.

aws-cdk-lib records ``aws:cdk:creationStack`` metadata for every construct in the cloud assembly; when
the app runs with ``JSII_HOST_STACK_TRACES=1`` the stacks include the Python frames, e.g.
``<module> (/repo/infra/app.py:9)``, and with ``CDK_DEBUG=1`` also ``aws:cdk:propertyAssignment``
entries with the line that set a property (``add_ingress_rule``). A finding is located at the first
frame in the user's own code (not a library, not this package), as a path relative to the root of the
repository holding it (else the working directory).
"""

from __future__ import annotations

import json
import os

from ..policy import CodeLocation, Finding, Template

_PACKAGE_DIRECTORY = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_LIBRARY_MARKERS = (os.sep + "site-packages" + os.sep, os.sep + "dist-packages" + os.sep, os.sep + "node_modules" + os.sep)


def locate(findings: list[Finding], templates: list[Template]) -> list[Finding]:
    """``findings`` with ``code_location`` set where the templates' assembly metadata records a user frame."""
    metadata: dict[str, list] = {}
    for template in templates:
        for path in template.metadata_files:
            try:
                with open(path, encoding="utf-8") as file:
                    data = json.load(file)
            except (OSError, ValueError):
                continue
            if isinstance(data, dict):
                for construct_path, entries in data.items():
                    if isinstance(entries, list):
                        metadata.setdefault(str(construct_path).lstrip("/"), []).extend(entries)
    if not metadata:
        return findings
    located = []
    for finding in findings:
        code = _code_location(metadata, finding.location.construct_path, per_port=finding.rule.per_port)
        located.append(finding._replace(code_location=code) if code is not None else finding)
    return located


def _code_location(metadata: dict[str, list], construct_path: str | None, *, per_port: bool) -> CodeLocation | None:
    """The user's line for a construct (or its nearest ancestor with a recorded stack)."""
    path = construct_path
    while path:
        entries = metadata.get(path, [])
        kinds = ("aws:cdk:propertyAssignment", "aws:cdk:creationStack") if per_port else ("aws:cdk:creationStack",)
        for kind in kinds:
            for entry in entries:
                if isinstance(entry, dict) and entry.get("type") == kind:
                    frame = _user_frame(entry.get("trace") or entry.get("data"))
                    if frame is not None:
                        return frame
        path = path.rpartition("/")[0]
    return None


def _user_frame(trace: object) -> CodeLocation | None:
    frames = trace if isinstance(trace, list) else [trace] if isinstance(trace, str) else []
    for frame in frames:
        if not isinstance(frame, str) or not frame.endswith(")") or "(" not in frame:
            continue
        where = frame[frame.rindex("(") + 1 : -1]
        file, _, line = where.rpartition(":")
        if not (line.isdigit() and file.endswith(".py") and os.path.isabs(file)):
            continue
        if file.startswith(_PACKAGE_DIRECTORY + os.sep) or any(marker in file for marker in _LIBRARY_MARKERS):
            continue
        return CodeLocation(_repository_relative(file), int(line))
    return None


def _repository_relative(file: str) -> str:
    directory = os.path.dirname(file)
    while True:
        if os.path.exists(os.path.join(directory, ".git")):
            return os.path.relpath(file, directory).replace(os.sep, "/")
        parent = os.path.dirname(directory)
        if parent == directory:
            return os.path.relpath(file).replace(os.sep, "/")
        directory = parent
