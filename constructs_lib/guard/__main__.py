"""``admin-port-guard PATH...``: check templates or cloud assemblies for admin ports open to the internet.

``admin-port-guard --live [--region R] [--endpoint-url URL]`` checks the security groups deployed in one
region instead (read with boto3, ``pip install 'admin-port-guard[live]'``; see ``live.py``), with the same
rules and policy.

``admin-port-guard --summary cdk.out`` prints one line from the report the guard wrote during ``cdk synth``
(``admin-port-guard-report.json``): the evidence that it ran, and what it checked.

The policy (admin ports, broad-source limits, trusted prefix lists) is the ``admin-port-guard`` context
of ``./cdk.json`` when there is one, or the file given with ``--config``; the flags change it further.

Exit status: 0 no findings, 1 findings (or a crashed validation plugin in a cdk.out), 2 usage error
or unreadable input.
"""

from __future__ import annotations

import os
import sys

from ..policy import PolicyError, TemplateError, check_templates, load
from .formats import RENDERERS, render
from .options import add_policy_arguments, new_parser, policy_from
from .validation_report import GUARD_REPORT_FILE

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence

EXIT_CLEAN, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
#: What the plugin writes into the cloud assembly on every synth (``constructs_lib/plugin.py``).


def _parser() -> argparse.ArgumentParser:
    parser = new_parser(
        "admin-port-guard", "constructs_lib.guard", "Fail when any admin port is reachable from the whole internet or a too-broad range."
    )
    parser.add_argument("paths", nargs="*", metavar="PATH", help="a cdk.out directory or template files (JSON/YAML)")
    parser.add_argument("--summary", action="store_true", help=f"print one line from PATH/{GUARD_REPORT_FILE} (PATH: a cdk.out)")
    live = parser.add_argument_group("live audit (instead of PATH)")
    live.add_argument("--live", action="store_true", help="check the security groups deployed in a region (boto3)")
    live.add_argument("--region", help="AWS region for --live (default: the AWS SDK's configuration)")
    live.add_argument("--endpoint-url", metavar="URL", help="EC2 endpoint for --live, e.g. a local emulator")
    parser.add_argument(
        "--skip-non-templates",
        action="store_true",
        help="skip PATH files that are not CloudFormation templates instead of failing (for pre-commit hooks)",
    )
    parser.add_argument("--format", choices=sorted(RENDERERS), default="text", help="output format")
    parser.add_argument("--output", metavar="FILE", help="write the report to FILE instead of standard output")
    add_policy_arguments(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    arguments = parser.parse_args(argv)
    if arguments.summary:
        if arguments.live or len(arguments.paths) != 1:
            parser.error("--summary takes exactly one PATH: the cdk.out of a synth with the guard registered")
        try:
            print(summary(arguments.paths[0]))
        except ValueError as error:
            print(f"error: {error}", file=sys.stderr)
            return EXIT_USAGE
        return EXIT_CLEAN
    if arguments.live and arguments.paths:
        parser.error("give either PATH... or --live, not both")
    if not arguments.live and not arguments.paths:
        parser.error("give PATH... (a cdk.out directory or templates) or --live")
    if not arguments.live and (arguments.region or arguments.endpoint_url):
        parser.error("--region and --endpoint-url need --live")
    try:
        policy = policy_from(arguments)
    except PolicyError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    if arguments.live:
        from .live import LiveAuditError, audit  # boto3 only for --live

        try:
            findings = audit(policy, region=arguments.region, endpoint_url=arguments.endpoint_url)
        except LiveAuditError as error:
            print(f"error: {error}", file=sys.stderr)
            return EXIT_USAGE
    else:
        try:
            templates = load(arguments.paths, skip_non_templates=arguments.skip_non_templates)
        except TemplateError as error:
            print(f"error: {error}", file=sys.stderr)
            return EXIT_USAGE
        findings = _with_evidence(check_templates(templates, policy), templates, arguments.paths)
    text = render(findings, arguments.format, policy)
    if arguments.output:
        try:
            with open(arguments.output, "w", encoding="utf-8") as file:
                file.write(text)
        except OSError as error:
            print(f"error: cannot write {arguments.output}: {error}", file=sys.stderr)
            return EXIT_USAGE
        if arguments.format != "text":
            sys.stdout.write(render(findings, "text", policy))
    else:
        sys.stdout.write(text)
    return EXIT_FINDINGS if any(finding.acknowledgement is None for finding in findings) else EXIT_CLEAN


def summary(assembly: str) -> str:
    """One line saying what the guard checked in the synth that wrote ``assembly`` and what it found.

    Raises ``ValueError`` when the guard left no readable report there (it did not run).
    """
    import json

    from .validation_report import read_validation_reports

    path = os.path.join(assembly, GUARD_REPORT_FILE)
    try:
        with open(path, encoding="utf-8") as file:
            report = json.load(file)
        checked, findings = report["checked"], report["findings"]
        counts = [f"{checked[key]} {noun}{'' if checked[key] == 1 else 's'}" for key, noun in
                  (("templates", "template"), ("groups", "security group"), ("rules", "ingress rule"), ("attachments", "attachment"))]
        head = f"{report['tool']} {report['version']} checked {', '.join(counts[:-1])} and {counts[-1]} in {report['seconds']:.3f} s"
    except FileNotFoundError:
        raise ValueError(f"{path} does not exist: the guard did not run in this synth (register it with add_admin_port_guard(app))") from None
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ValueError(f"{path} is not a readable guard report: {error!r}") from None
    validation = read_validation_reports([assembly])
    result = f"{len(findings)} finding{'' if len(findings) == 1 else 's'}, {len(validation.acknowledgements)} acknowledged" if findings else "no findings"
    if validation.crashes:
        result += f"; {len(validation.crashes)} crashed validation plugin(s): the synth is unchecked"
    return f"{head}: {result}."


def _with_evidence(findings: list, templates: list, paths: list[str]) -> list:
    """Findings with what the cloud assemblies among ``paths`` recorded: acknowledgements, crashed plugins,
    and the user's source lines."""
    assemblies = [path for path in paths if os.path.isfile(os.path.join(path, "manifest.json"))]
    if not assemblies:
        return findings
    from .sources import locate
    from .validation_report import read_validation_reports

    report = read_validation_reports(assemblies)
    findings = [finding._replace(acknowledgement=report.acknowledgement_for(finding)) for finding in findings]
    return locate(findings, templates) + report.crashes


if __name__ == "__main__":
    sys.exit(main())
