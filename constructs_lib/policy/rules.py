"""The rules: no admin port may be reachable from the whole internet, or from a too-broad public range.

Each group (security group, or a firewall a service makes) is judged on its own, and each attachment
(the groups on one network interface) on the union of its groups' rules, because EC2 unites them:
two groups that each admit half of the internet expose the port together. An attachment is reported
only for what none of its groups reports alone. For each admin port the CIDR sources of the rules
that admit TCP to it (rules for TCP or for all protocols) are measured by ``reach.verdict``.
Rules whose protocol, ports or source are unknown at synth time are reported when, at their widest,
they could make the port open.
"""

from __future__ import annotations

import itertools
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence

from .cidr import PUBLIC_SIZE, is_public
from .config import GuardPolicy
from .findings import Finding, Location, Rule
from .intrinsics import MAX_ASSUMED
from .model import Attachment, Group, Inventory, Permission, group_name
from .reach import Thresholds, Verdict, verdict

#: Sources that never count as internet addresses: other groups, a service's own client ranges.
_NOT_ADDRESSES = frozenset({"security-group", "service"})
SSH_PORT = 22


def evaluate(inventory: Inventory, policy: GuardPolicy) -> list[Finding]:
    """All findings: those found while reading, plus open and unverifiable admin ports."""
    findings = list(inventory.findings)
    ports = sorted(policy.admin_ports.items())
    numbers = [port for port, _ in ports]
    # group -> admin port -> the rules that may admit internet addresses to it, in the order they were read
    reaching: dict[str, dict[int, list[Permission]]] = {}
    for permission in inventory.permissions:
        source = permission.source
        if source.kind in _NOT_ADDRESSES or (source.kind == "prefix-list" and source.label in policy.trusted_prefix_lists):
            continue
        if permission.reaches_tcp_ports(numbers[0], numbers[-1]):
            low, high = permission.ports
            for port in numbers[bisect_left(numbers, low):bisect_right(numbers, high)]:
                reaching.setdefault(permission.group, {}).setdefault(port, []).append(permission)

    reported: set[tuple[str, Rule, int]] = set()  # (group or attachment, rule, port) already reported
    # (origin, rule, why) -> the ports it may open and, for rules of unknown ports, the sources, both in order
    doubtful: dict[tuple[Location, str, str], tuple[dict[int, None], dict[str, None]]] = {}
    for key, by_port in reaching.items():
        group = inventory.groups[key]  # every permission's group is defined or referred to (Resource.define_group/refer_group)
        for port, name in ports:
            for permissions in _scenarios(by_port.get(port, ()), (), inventory.possible):
                definite = [p for p in permissions if p.certain and p.source.network is not None]
                found = verdict([p.source.network for p in definite], policy.thresholds)
                if found.families:
                    # a group the templates only refer to (sg-..., imported) is anchored at a rule that opens it
                    anchor = group.location if group.defined else min((p.origin for p in definite), key=lambda o: (o.template, o.logical_id))
                    _report(findings, reported, key, _open_finding(anchor, _group_subject(group), port, name, found, definite, policy.thresholds, group.fix))
                    if found.world:
                        continue
                for permission in permissions:
                    if permission.certain and permission.source.network is not None:
                        continue  # definite: already measured
                    if _could_open(permission, definite, found, policy.thresholds):
                        reason = _doubt(permission)
                        doubt = doubtful.setdefault((permission.origin, permission.rule_label, reason), ({}, {}))
                        doubt[0][port] = None
                        if permission.source.network is not None:
                            doubt[1][permission.source.label] = None

    for attachment in inventory.attachments:
        for finding in _attachment_findings(attachment, reaching, ports, policy.thresholds, inventory.possible):
            _report(findings, reported, f"attachment {attachment.key}", finding)

    for (origin, label, reason), (doubtful_ports, sources) in doubtful.items():
        port_list = ", ".join(f"{port} ({policy.admin_ports[port]})" for port in doubtful_ports)
        if sources:
            reason += f" ({'source' if len(sources) == 1 else 'sources'} {', '.join(sources)})"
        message = f"{label} may open admin port {port_list} to the internet: {reason}"
        findings.append(Finding(origin, Rule.UNVERIFIABLE_INGRESS, message, port=next(iter(doubtful_ports))))
    findings += _broken_ssh_promises(inventory, {label for finding in findings for label in finding.contributors})
    return sorted(set(findings), key=Finding.sort_key)


def _broken_ssh_promises(inventory: Inventory, reported: set[str]) -> list[Finding]:
    """``WebServerSshSource``: on a group that promises SSH only from security groups (``Group.ssh_from_groups``),
    each rule that admits tcp/22 from anything else (a CIDR of any size, a prefix list, an unknown source), unless
    an open-port finding already names it."""
    findings = []
    for permission in inventory.permissions:
        group = inventory.groups[permission.group]  # as in evaluate: every permission's group is registered
        if (group.ssh_from_groups and permission.source.kind != "security-group"
                and permission.rule_label not in reported and permission.reaches_tcp_ports(SSH_PORT, SSH_PORT)):
            message = (f"{_group_subject(group)} takes SSH only from security groups, but allows tcp/22 from "
                       f"{permission.source.label} (rule {permission.rule_label})")
            findings.append(Finding(group.location, Rule.WEB_SERVER_SSH_SOURCE, message, contributors=(permission.rule_label,)))
    return findings


def _report(findings: list[Finding], reported: set[tuple[str, Rule, int]], subject: str, finding: Finding) -> None:
    """Add an open-port finding unless the same rule was reported for the same group (or attachment) and port,
    under another assignment of the conditions."""
    key = (subject, finding.rule, finding.port)
    if key not in reported:
        reported.add(key)
        findings.append(finding)


def _scenarios(
    permissions: Sequence[Permission], required: tuple[tuple[tuple[str, str], bool], ...], possible: Callable[[dict[tuple[str, str], bool]], bool],
) -> list[Sequence[Permission]]:
    """The sets of ``permissions`` that can exist together: one per assignment of the conditions they exist under
    (and that agrees with ``required``); all of them at once when no condition decides any, or too many do."""
    if not required and not any(p[7] for p in permissions):
        return [permissions] if permissions else []
    names = sorted({name for p in permissions for name, _ in p[7]} | {name for name, _ in required})
    if len(names) > MAX_ASSUMED:
        return [permissions]
    scenarios: dict[tuple[int, ...], Sequence[Permission]] = {}
    for truths in itertools.product((True, False), repeat=len(names)):
        assignment = dict(zip(names, truths))
        if any(assignment[name] is not truth for name, truth in required) or not possible(assignment):
            continue
        members = tuple(index for index, p in enumerate(permissions) if all(assignment[name] is truth for name, truth in p[7]))
        if members and members not in scenarios:
            scenarios[members] = [permissions[index] for index in members]
    return list(scenarios.values())


def _attachment_findings(
    attachment: Attachment,
    reaching: dict[str, dict[int, list[Permission]]],
    ports: list[tuple[int, str]],
    thresholds: Thresholds | None,
    possible: Callable[[dict[tuple[str, str], bool]], bool],
) -> list[Finding]:
    """What the union of an attachment's groups opens that none of its groups opens alone (under one assignment
    of the conditions)."""
    members = [key for key in attachment.groups if key in reaching]
    if len(members) < 2:
        return []
    findings = []
    for port, name in ports:
        together = [p for key in members for p in reaching[key].get(port, ())]
        for permissions in _scenarios(together, attachment.assumption, possible):
            definite = [p for p in permissions if p.certain and p.source.network is not None]
            found = verdict([p.source.network for p in definite], thresholds)
            if not found.families:
                continue
            alone = [verdict([p.source.network for p in definite if p.group == key], thresholds) for key in members]
            if any(one.world for one in alone) or (not found.world and any(one.families for one in alone)):
                continue  # a group already reports it (at least as strongly)
            groups = sorted({group_name(p.group) for p in definite})
            subject = f"{attachment.kind} {attachment.name} (security groups {' and '.join(groups)} on one network interface)"
            finding = _open_finding(attachment.location, subject, port, name, found, definite, thresholds, None)
            findings.append(finding._replace(message=finding.message + "; no group alone does, but EC2 unites the rules of the groups on an interface"))
    return findings


def _could_open(permission: Permission, definite: Sequence[Permission], found: Verdict, thresholds: Thresholds | None) -> bool:
    """Whether an uncertain permission, at its widest, could make the port open (or open to the world)."""
    if permission.source.network is None:
        return True  # an unknown source may be 0.0.0.0/0
    widest = verdict([permission.source.network, *(p.source.network for p in definite)], thresholds)
    return bool(widest.world) or (bool(widest.broad) and not found.broad)


def _doubt(permission: Permission) -> str:
    source = permission.source
    if source.kind == "prefix-list":
        return (
            f"the entries of prefix list {source.label} are managed outside the templates; if it holds only your admin "
            f"networks, declare it trusted (admin-port-guard.trustedPrefixLists in cdk.json, or --trust-prefix-list "
            f"{source.label}=REASON)"
        )
    if source.network is None:
        return source.label
    return "its protocol or ports are unknown at synth time"  # one finding per rule, whatever its sources


def _group_subject(group: Group) -> str:
    """How a message names a group: ``security group Web``, ``security group sg-0123 (not defined in the templates)``."""
    key = group.key
    if key.startswith("id:"):
        return f"{group.kind} {key[3:]} (not defined in the templates)"
    if key.startswith("name:"):
        return f"{group.kind} named {key[5:]!r} (not defined in the templates)"
    if key.startswith("unresolved:"):
        return f"the {group.kind} named by {key[11:]}"
    return f"{group.kind} {group_name(key)}"


def _open_finding(
    anchor: Location,
    subject: str,
    port: int,
    name: str,
    found: Verdict,
    definite: Sequence[Permission],
    thresholds: Thresholds | None,
    advice: str | None,
) -> Finding:
    families = found.families
    contributing = [p for p in definite if p.source.network.version in families and is_public(p.source.network)]
    sources = tuple(sorted({p.source.label for p in contributing}))
    protocols = ",".join(sorted({p.protocol for p in contributing}))
    contributors = tuple(sorted({p.rule_label for p in contributing}))
    which = f"{'rule' if len(contributors) == 1 else 'rules'} {'; '.join(contributors)}"
    if found.world:
        rule = Rule.WORLD_OPEN_ADMIN_PORT
        internet = " and ".join(f"IPv{family}" for family in families)
        message = f"{subject} allows tcp/{port} ({name}) from the whole {internet} internet via {', '.join(sources)} ({which})"
    else:
        rule = Rule.BROAD_ADMIN_SOURCE
        breadth = "; ".join(_breadth(family, found.public[family == 6], thresholds) for family in families)  # type: ignore[arg-type]  # a broad verdict is reached only with thresholds
        message = f"{subject} allows tcp/{port} ({name}) from {', '.join(sources)}: {breadth} ({which})"
    return Finding(anchor, rule, message, port, protocols, sources, contributors, advice)


def _breadth(family: int, count: int, thresholds: Thresholds) -> str:
    """``2,092,957,696 public IPv4 addresses (57 % of them), more than the limit of 65,536 addresses (a /16)``."""
    if family == 4:
        amount = f"{count:,} public IPv4 addresses ({count * 100 / PUBLIC_SIZE[4]:.2g} % of them)"
    else:
        bits = count.bit_length() - 1
        amount = f"public IPv6 space {'the size of' if count == 1 << bits else 'larger than'} a /{128 - bits}"
    return f"{amount}, more than the limit of {thresholds.describe(family)}"
