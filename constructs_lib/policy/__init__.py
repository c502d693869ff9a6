"""The policy core: plain Python that understands CloudFormation security-group ingress.

It imports neither ``aws_cdk`` nor ``jsii``; every front end (the cdk-nag pack, the CLI, the
exposure report, the live audit) calls ``check_templates`` or ``check_paths``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from .findings import PACK_NAME, Finding, Location, Rule
from .ingress import Inventory, Permission, SecurityGroup, Source, read_inventory
from .rules import DEFAULT_ADMIN_PORTS, evaluate, normalize_admin_ports, parse_admin_ports
from .templates import Template, TemplateError, load, load_named

__all__ = [
    "DEFAULT_ADMIN_PORTS",
    "PACK_NAME",
    "Finding",
    "Inventory",
    "Location",
    "Permission",
    "Rule",
    "SecurityGroup",
    "Source",
    "Template",
    "TemplateError",
    "check_paths",
    "check_templates",
    "evaluate",
    "load",
    "load_named",
    "normalize_admin_ports",
    "parse_admin_ports",
    "read_inventory",
]


def check_templates(
    templates: Sequence[Template], admin_ports: Iterable[int] | Mapping[int, str] | None = None
) -> list[Finding]:
    """Findings for ``templates``, analysed together (cross-stack references are followed)."""
    return evaluate(read_inventory(templates), normalize_admin_ports(admin_ports))


def check_paths(
    paths: Iterable[str | Path], admin_ports: Iterable[int] | Mapping[int, str] | None = None
) -> list[Finding]:
    """Findings for template files and cloud assembly directories. Raises ``TemplateError``."""
    return check_templates(load(paths), admin_ports)
