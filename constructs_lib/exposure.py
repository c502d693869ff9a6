"""The exposure report: what a port scan of each network interface would find, rendered for people.

    admin-port-exposure cdk.out --format markdown|json [--output FILE]

The analysis is the policy core's (``constructs_lib.policy.exposure``, built on the same reach
decision as the guard's rules); this module only renders it: a Markdown table with a Mermaid graph,
or JSON. Like the guard, it imports neither ``aws_cdk`` nor ``jsii``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

from .policy import PolicyError, TemplateError, load
from .policy.exposure import Analysis, analyse, ports_text
from .policy.reach import PORTED, Reach

def reach_items(reach: Reach, *, bare_tcp: bool = False) -> list[str]:
    """``["tcp/22", "tcp/8000-8080", "icmp", "all traffic"]``; with ``bare_tcp`` TCP ports are plain numbers."""
    items = []
    for protocol, ranges in reach.items():
        if protocol == "all":
            items.append("all traffic")
        elif protocol in PORTED:
            for low_high in ranges:
                port = ports_text(low_high)
                items.append(port if bare_tcp and protocol == "tcp" else f"{protocol}/{port}")
        else:
            items.append(protocol if not protocol.isdigit() else f"protocol {protocol}")
    return items


def _reach_json(reach: Reach) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for protocol, ranges in reach.items():
        if protocol in PORTED:
            rows.extend({"protocol": protocol, "from_port": low, "to_port": high} for low, high in ranges)
        else:
            rows.append({"protocol": protocol})
    return rows


def _families_text(by_family: dict[int, Reach]) -> str:
    families = {family: reach_items(reach) for family, reach in by_family.items() if reach}
    if not families:
        return "—"
    if len(families) == 2 and families[4] == families[6]:
        return ", ".join(families[4]) + " (IPv4+IPv6)"
    return "; ".join(f"{', '.join(items)} (IPv{family})" for family, items in sorted(families.items()))


def _label(text: str) -> str:
    return text.replace('"', "'")


def to_mermaid(report: Analysis) -> str:
    lines = ["graph LR", '    internet(("Internet"))']
    nodes: dict[str, str] = {}
    edges: list[str] = []

    identifiers: dict[str, str] = {}

    def node(key: str, label: str, shape: str = "[{}]") -> str:
        if key not in identifiers:
            identifiers[key] = identifier = f"n{len(identifiers) + 1}"
            nodes[identifier] = f"    {identifier}{shape.format(chr(34) + _label(label) + chr(34))}"
        return identifiers[key]

    for target in report.targets:
        exposed = target.internet_reach()
        extra_cidrs = [c for c in target.cidrs if c.beyond_internet]
        if not (exposed or extra_cidrs or target.security_groups) and not target.attached:
            continue
        me = node(target.key, target.name if target.attached else f"SG {target.name}")
        if exposed:
            edges.append(f'    internet -->|"{_label(", ".join(reach_items(exposed, bare_tcp=True)))}"| {me}')
        for row in extra_cidrs:
            source = node(f"cidr {row.cidr}", f"{row.cidr} ({row.scope})", "[/{}/]")
            edges.append(f'    {source} -->|"{_label(", ".join(reach_items(row.beyond_internet, bare_tcp=True)))}"| {me}')
        for group_row in target.security_groups:
            source_target = next((t for t in report.targets if group_row.group in t.groups and t.attached), None)
            source = node(source_target.key, source_target.name) if source_target else node(group_row.group, f"SG {group_row.name}")
            if source_target and len([t for t in report.targets if group_row.group in t.groups]) > 1:
                source = node(group_row.group, f"SG {group_row.name}")
            edges.append(f'    {source} -->|"{_label(", ".join(reach_items(group_row.reach, bare_tcp=True)))}"| {me}')
    return "\n".join(lines + list(nodes.values()) + edges)


def to_markdown(report: Analysis) -> str:
    out = [
        "## Exposure report",
        "",
        "What a port scan would find reachable, per network interface, read from the synthesized templates "
        "(from the internet: ports whose allowed CIDRs cover the whole public IPv4 or IPv6 internet; from broad "
        "ranges: more public addresses than the guard's limit).",
        "",
        "| Target | Security groups | From the internet | From broad ranges | From named CIDRs | From other security groups | Unverifiable |",
        "|---|---|---|---|---|---|---|",
    ]
    for t in report.targets:
        cidrs = "<br>".join(
            f"`{c.cidr}` ({c.scope}): {', '.join(reach_items(c.beyond_internet))}" for c in t.cidrs if c.beyond_internet
        ) or "—"
        groups = "<br>".join(f"{g.name}: {', '.join(reach_items(g.reach))}" for g in t.security_groups) or "—"
        uncertain = "<br>".join(t.uncertain) or "—"
        kind = "" if t.kind == "instance" else f" ({t.kind})" if t.attached else " (attached to nothing)"
        group_list = ", ".join(f"`{g.split(':', 1)[-1]}`" for g in t.groups) or "—"
        out.append(
            f"| **{t.name}**{kind} | {group_list} | {_families_text(t.internet)} | {_families_text(t.broad)} | {cidrs} | {groups} | {uncertain} |"
        )
    out += ["", "```mermaid", to_mermaid(report), "```"]
    if report.notes:
        out += ["", "Rules the report could not read exactly:", ""] + [f"- {note}" for note in report.notes]
    return "\n".join(out) + "\n"


def to_json(report: Analysis) -> str:
    targets = [
        {
            "kind": t.kind,
            "key": t.key,
            "name": t.name,
            "security_groups": list(t.groups),
            "internet": {f"ipv{family}": _reach_json(reach) for family, reach in sorted(t.internet.items())},
            "broad": {f"ipv{family}": _reach_json(reach) for family, reach in sorted(t.broad.items())},
            "cidrs": [
                {"cidr": c.cidr, "scope": c.scope, "reach": _reach_json(c.reach), "beyond_internet": _reach_json(c.beyond_internet)}
                for c in t.cidrs
            ],
            "from_security_groups": [{"group": g.group, "name": g.name, "reach": _reach_json(g.reach)} for g in t.security_groups],
            "uncertain": t.uncertain,
        }
        for t in report.targets
    ]
    return json.dumps({"targets": targets, "notes": report.notes}, indent=2) + "\n"


#: ``{format: renderer}``; the CLI offers exactly these.
RENDERERS: dict[str, Callable[[Analysis], str]] = {"markdown": to_markdown, "json": to_json}


def main(argv: Sequence[str] | None = None) -> int:
    from .guard.options import add_policy_arguments, new_parser, policy_from

    parser = new_parser("admin-port-exposure", "constructs_lib.exposure", __doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="+", help="cloud assembly directories (cdk.out) or template files")
    parser.add_argument("--format", choices=sorted(RENDERERS), default="markdown")
    parser.add_argument("--output", help="write the report here instead of standard output")
    add_policy_arguments(parser)
    args = parser.parse_args(argv)
    try:
        report = analyse(load(args.paths), policy_from(args, args.paths))
    except (TemplateError, PolicyError) as error:
        print(f"exposure: {error}", file=sys.stderr)
        return 2
    text = RENDERERS[args.format](report)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as file:
            file.write(text)
        print(f"exposure report written to {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
