"""``python -m constructs_lib.guard PATH...``: check templates or cloud assemblies for world-open admin ports.

``python -m constructs_lib.guard --live [--region R] [--endpoint-url URL]`` checks the security groups
deployed in one region instead (read with boto3; see ``live.py``), with the same rules.

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
from ..policy.templates import read_template
from .formats import render
from .validation_report import read_validation_reports

EXIT_CLEAN, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m constructs_lib.guard",
        description="Fail when any admin port is reachable from the whole internet (IPv4 or IPv6).",
    )
    parser.add_argument("paths", nargs="*", metavar="PATH", help="a cdk.out directory or template files (JSON/YAML)")
    live = parser.add_argument_group("live audit (instead of PATH)")
    live.add_argument("--live", action="store_true", help="check the security groups deployed in a region (boto3)")
    live.add_argument("--region", help="AWS region for --live (default: the AWS SDK's configuration)")
    live.add_argument("--endpoint-url", metavar="URL", help="EC2 endpoint for --live, e.g. a local emulator")
    parser.add_argument(
        "--skip-non-templates",
        action="store_true",
        help="skip PATH files that are not CloudFormation templates instead of failing (for pre-commit hooks)",
    )
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
    parser = _parser()
    arguments = parser.parse_args(argv)
    if arguments.live and arguments.paths:
        parser.error("give either PATH... or --live, not both")
    if not arguments.live and not arguments.paths:
        parser.error("give PATH... (a cdk.out directory or templates) or --live")
    if not arguments.live and (arguments.region or arguments.endpoint_url):
        parser.error("--region and --endpoint-url need --live")
    if arguments.live:
        from .live import LiveAuditError, audit  # boto3 only for --live

        try:
            findings = audit(arguments.admin_ports, region=arguments.region, endpoint_url=arguments.endpoint_url)
        except LiveAuditError as error:
            print(f"error: {error}", file=sys.stderr)
            return EXIT_USAGE
    else:
        if arguments.skip_non_templates:
            arguments.paths = [path for path in arguments.paths if _is_template_or_directory(Path(path))]
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


def _is_template_or_directory(path: Path) -> bool:
    if not path.is_file():
        return True
    try:
        read_template(path)
    except TemplateError as error:
        print(f"skipped: {error}", file=sys.stderr)
        return False
    return True


if __name__ == "__main__":
    sys.exit(main())
