"""``python -m constructs_lib.guard PATH...``: check templates or cloud assemblies for world-open admin ports.

Exit status: 0 no findings, 1 findings (or a crashed validation plugin in a cdk.out), 2 usage error
or unreadable input.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Sequence
from pathlib import Path

from ..policy import DEFAULT_ADMIN_PORTS, TemplateError, check_paths, parse_admin_ports
from .formats import render
from .validation_report import read_validation_reports

EXIT_CLEAN, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m constructs_lib.guard",
        description="Fail when any admin port is reachable from the whole internet (IPv4 or IPv6).",
    )
    parser.add_argument("paths", nargs="+", metavar="PATH", help="a cdk.out directory or template files (JSON/YAML)")
    parser.add_argument("--format", choices=("text", "json", "sarif"), default="text", help="output format")
    parser.add_argument("--output", metavar="FILE", help="write the report to FILE instead of standard output")
    parser.add_argument(
        "--admin-ports",
        metavar="PORTS",
        type=_admin_ports,
        default=dict(DEFAULT_ADMIN_PORTS),
        help="comma-separated TCP ports to treat as admin ports (default: %(default)s)".replace(
            "%(default)s", ",".join(map(str, DEFAULT_ADMIN_PORTS))
        ),
    )
    return parser


def _admin_ports(text: str) -> dict[int, str]:
    try:
        return parse_admin_ports(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def main(argv: Sequence[str] | None = None) -> int:
    arguments = _parser().parse_args(argv)
    try:
        findings = check_paths(arguments.paths, arguments.admin_ports)
    except TemplateError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    report = read_validation_reports([Path(path) for path in arguments.paths])
    findings = [
        dataclasses.replace(finding, acknowledgement=report.acknowledgement_for(finding.rule_name, finding))
        for finding in findings
    ] + report.crashes
    text = render(findings, arguments.format)
    if arguments.output:
        try:
            Path(arguments.output).write_text(text, encoding="utf-8")
        except OSError as error:
            print(f"error: cannot write {arguments.output}: {error}", file=sys.stderr)
            return EXIT_USAGE
        if arguments.format != "text":
            sys.stdout.write(render(findings, "text"))
    else:
        sys.stdout.write(text)
    return EXIT_FINDINGS if any(finding.acknowledgement is None for finding in findings) else EXIT_CLEAN


if __name__ == "__main__":
    sys.exit(main())
