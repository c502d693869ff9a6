"""The policy core: plain Python that understands what in a CloudFormation template admits traffic.

It imports neither ``aws_cdk`` nor ``jsii``; every front end (the CDK plugin, the constructs' own
check, the CLI, the exposure report, the live audit, the AWS Config rule) calls ``check_templates``
or ``check_paths``. Layout: ``templates`` reads files, ``intrinsics`` evaluates intrinsic functions and
conditions, ``readers`` turn resources into the normalized ``model``, ``reach`` decides how much of the
internet reaches a port, ``rules`` turns that into ``findings``; ``config`` is the policy, ``ports``
the admin-port table, ``exposure`` the per-interface analysis behind the exposure report.
"""

from __future__ import annotations

import os

from .config import CONTEXT_KEY, GuardPolicy, PolicyError
from .findings import PACK_NAME, RULES, CodeLocation, Finding, Location, Rule
from .model import Attachment, Group, Inventory, Permission, Source
from .ports import ADMIN_PORT_TABLE, DEFAULT_ADMIN_PORTS, normalize_admin_ports, parse_admin_ports
from .reach import DEFAULT_THRESHOLDS, Thresholds
from .readers import READERS, read_inventory
from .rules import evaluate
from .templates import Template, TemplateError, load, load_named

__all__ = [
    "ADMIN_PORT_TABLE", "CONTEXT_KEY", "DEFAULT_ADMIN_PORTS", "DEFAULT_THRESHOLDS", "PACK_NAME", "READERS", "RULES",
    "Attachment", "CodeLocation", "Finding", "Group", "GuardPolicy", "Inventory", "Location", "Permission", "PolicyError",
    "Rule", "Source", "Template", "TemplateError", "Thresholds", "check_paths", "check_templates", "evaluate", "load",
    "load_named", "normalize_admin_ports", "parse_admin_ports", "read_inventory",
]


def check_templates(templates: list[Template], policy: GuardPolicy | None = None) -> list[Finding]:
    """Findings for ``templates``, analysed together (cross-stack references are followed)."""
    return evaluate(read_inventory(templates), policy or GuardPolicy())


def check_paths(paths: list[str | os.PathLike[str]], policy: GuardPolicy | None = None) -> list[Finding]:
    """Findings for template files and cloud assembly directories. Raises ``TemplateError``."""
    return check_templates(load(paths), policy)
