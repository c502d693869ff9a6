"""``admin-port-guard PATH...``: check templates or cloud assemblies for admin ports open to the internet.

``admin-port-guard --live [--region R] [--endpoint-url URL]`` checks the security groups deployed in one
region instead (read with boto3, the ``live`` extra; see ``live.py``), with the same
rules and policy.

``admin-port-guard --summary cdk.out`` prints one line from the report the guard wrote during ``cdk synth``
(``admin-port-guard-report.json``): the evidence that it ran, and what it checked.

The policy (admin ports, broad-source limits, trusted prefix lists): for a cloud assembly the one it
was synthesized with, as the guard recorded it; otherwise ``--config FILE`` or the nearest declaration
upward from the working directory (``.admin-port-guard.yaml``, ``pyproject.toml``, ``cdk.json``), and
the flags change it further (``options.py`` says how the two meet).

Adoption: ``--create-baseline FILE`` / ``--baseline FILE`` (``baseline.py``), acknowledgements in a raw
template's resource ``Metadata`` (``template_acknowledgements.py``), ``--rule`` / ``--skip-rule``, and
``--soft-fail``. None of them can pass a crashed check or a malformed template.

Exit status: 0 no findings, 1 findings (or a crashed validation plugin in a cdk.out; with ``--soft-fail``
only those and malformed templates), 2 usage error or unreadable input.
"""

from __future__ import annotations

import os
import sys

from ..policy import PolicyError, TemplateError, check_templates, load
from ..policy.findings import UNACKNOWLEDGEABLE, rule_named
from .baseline import BaselineError, apply_baseline, read_baseline, write_baseline
from .formats import RENDERERS, Outcome, failing, render
from .options import add_policy_arguments, new_parser, policy_from
from .validation_report import GUARD_REPORT_FILE

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence

    from ..policy import Finding, Rule, Template

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
    adoption = parser.add_argument_group("adoption (never for ValidationFailed or MalformedTemplate)")
    adoption.add_argument("--create-baseline", metavar="FILE", help="write today's findings to FILE as a baseline (they pass from now on)")
    adoption.add_argument("--baseline", metavar="FILE", help="findings in this baseline are reported as BASELINED and pass; new ones fail")
    adoption.add_argument("--rule", metavar="RULE", action="append", default=[], type=_rule,
                          help="report only this rule (repeatable), e.g. WorldOpenAdminPort or WorldOpenAdminPort[22]")
    adoption.add_argument("--skip-rule", metavar="RULE", action="append", default=[], type=_rule, help="do not report this rule (repeatable)")
    adoption.add_argument("--soft-fail", action="store_true",
                          help="report, and exit 0 on findings; a crashed check, a malformed or unreadable template still fail")
    add_policy_arguments(parser)
    return parser


def _rule(text: str) -> tuple[Rule, int | None]:
    import argparse

    try:
        rule, port = rule_named(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    if rule in UNACKNOWLEDGEABLE:
        raise argparse.ArgumentTypeError(f"{rule.id} is always reported: a crashed or unreadable check is never a pass")
    if port is not None and not rule.per_port:
        raise argparse.ArgumentTypeError(f"{rule.id} findings have no port")
    return rule, port


def _selected(finding: Finding, selectors: list[tuple[Rule, int | None]]) -> bool:
    return any(finding.rule is rule and (port is None or finding.port == port) for rule, port in selectors)


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
    if arguments.baseline and arguments.create_baseline:
        parser.error("give --baseline FILE (check against it) or --create-baseline FILE (write it), not both")
    try:
        policy = policy_from(arguments, arguments.paths)
    except PolicyError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    templates: list[Template] = []
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
        try:
            findings = _with_evidence(check_templates(templates, policy), templates, arguments.paths)
        except PolicyError as error:
            print(f"error: {error}", file=sys.stderr)
            return EXIT_USAGE
    if arguments.rule:
        findings = [f for f in findings if f.rule in UNACKNOWLEDGEABLE or _selected(f, arguments.rule)]
    findings = [f for f in findings if not _selected(f, arguments.skip_rule)]
    try:
        outcome = _baseline_outcome(arguments, findings, tuple(template.name for template in templates))
    except BaselineError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    text = render(findings, arguments.format, policy, outcome)
    if arguments.output:
        try:
            with open(arguments.output, "w", encoding="utf-8") as file:
                file.write(text)
        except OSError as error:
            print(f"error: cannot write {arguments.output}: {error}", file=sys.stderr)
            return EXIT_USAGE
        if arguments.format != "text":
            sys.stdout.write(render(findings, "text", policy, outcome))
    else:
        sys.stdout.write(text)
    failed = [finding for finding in findings if failing(finding, outcome)]
    if arguments.soft_fail:
        failed = [finding for finding in failed if finding.rule in UNACKNOWLEDGEABLE]
    return EXIT_FINDINGS if failed else EXIT_CLEAN


def _baseline_outcome(arguments: argparse.Namespace, findings: list[Finding], templates: tuple[str, ...]) -> Outcome:
    """What ``--create-baseline`` writes (the findings it holds then pass) or ``--baseline`` accepts."""
    path = arguments.create_baseline or arguments.baseline
    if path is None:
        return Outcome(templates=templates)
    if arguments.create_baseline:
        count = write_baseline(path, findings)
        print(f"baseline written to {path}: {count} finding(s)", file=sys.stderr)
    baselined, stale = apply_baseline(findings, read_baseline(path))
    return Outcome(baselined, tuple(stale), path, templates)


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


def _with_evidence(findings: list[Finding], templates: list[Template], paths: list[str]) -> list[Finding]:
    """Findings with the acknowledgements of raw templates' ``Metadata``, and what the cloud assemblies among
    ``paths`` recorded: acknowledgements, crashed plugins, and the user's source lines. ``PolicyError`` for a
    malformed acknowledgement."""
    assemblies = [path for path in paths if os.path.isfile(os.path.join(path, "manifest.json"))]
    findings = _acknowledged_in_templates(findings, templates, assemblies)
    if not assemblies:
        return findings
    from .sources import locate
    from .validation_report import read_validation_reports

    report = read_validation_reports(assemblies)
    findings = [finding._replace(acknowledgement=report.acknowledgement_for(finding)) for finding in findings]
    return locate(findings, templates) + report.crashes


def _acknowledged_in_templates(findings: list[Finding], templates: list[Template], assemblies: list[str]) -> list[Finding]:
    """Findings acknowledged in the ``Metadata`` of templates that are not part of a cloud assembly."""
    from .template_acknowledgements import acknowledge, read_acknowledgements

    roots = [os.path.realpath(assembly) + os.sep for assembly in assemblies]
    raw = [template for template in templates if not os.path.realpath(template.path).startswith(tuple(roots))] if roots else templates
    acknowledgements = read_acknowledgements(raw)
    return acknowledge(findings, acknowledgements) if acknowledgements else findings


if __name__ == "__main__":
    sys.exit(main())
