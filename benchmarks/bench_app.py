#!/usr/bin/env python3
"""A generated CDK app with N security groups, for the benchmarks (not part of the library).

    python benchmarks/bench_app.py --sgs 2000 --pack none|guard|nag --outdir DIR

The app is fully determined by ``--sgs``: stacks of ``SGS_PER_STACK`` security groups (plus a small
VPC each) in four tiers with realistic rules:

* ``web``   - HTTP/HTTPS from the whole internet (IPv4 and IPv6), inline rules;
* ``app``   - 8080 from the web tier (security-group reference: a standalone ingress resource) and
  8443 from the corporate CIDR 10.0.0.0/8;
* ``db``    - 5432 from the app tier (reference) and from 10.20.0.0/16;
* ``admin`` - 22 from an office /24 and 3389 from one /32.

Planted violations (:func:`planted_violations`): in every stack the first admin group also opens
22 to 0.0.0.0/0, and in the first stack the second admin group opens 3389 to ::/0.

Findings make ``app.synth()`` raise once validation has run (templates and
``validation-report.json`` are already written). The benchmark wants the cost of a complete synth
*including* the report, so the app catches exactly that failure, prints one marker line and exits 0;
the harness checks that the report exists and that the expected pack ran. Every mode runs the same
code path, so the comparison is fair.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

SGS_PER_STACK = 100  # ~100 SGs + ~50 standalone ingress resources + ~10 VPC resources: far under 500
TIERS = ("web", "app", "db", "admin")
VALIDATION_FAILED_MARKER = "BENCH: validation reported findings"


def stack_sizes(n: int) -> list[int]:
    """How many security groups each stack gets."""
    sizes = [SGS_PER_STACK] * (n // SGS_PER_STACK)
    if n % SGS_PER_STACK:
        sizes.append(n % SGS_PER_STACK)
    return sizes


def tier(index: int) -> str:
    return TIERS[index % len(TIERS)]


def planted_violations(n: int) -> list[tuple[int, int, int, str]]:
    """``(stack, sg index in stack, port, source)`` of every deliberately world-open admin port."""
    planted = []
    for stack, size in enumerate(stack_sizes(n)):
        admins = [i for i in range(size) if tier(i) == "admin"]
        if admins:
            planted.append((stack, admins[0], 22, "0.0.0.0/0"))
        if stack == 0 and len(admins) > 1:
            planted.append((stack, admins[1], 3389, "::/0"))
    return planted


def build(app, n: int) -> None:  # noqa: ANN001 - aws_cdk imported lazily so the helpers stay importable
    import aws_cdk as cdk
    from aws_cdk import aws_ec2 as ec2

    planted = {(stack, index): (port, source) for stack, index, port, source in planted_violations(n)}
    for stack_index, size in enumerate(stack_sizes(n)):
        stack = cdk.Stack(app, f"BenchSgs{stack_index:02d}")
        vpc = ec2.Vpc(
            stack,
            "Vpc",
            max_azs=2,
            nat_gateways=0,
            subnet_configuration=[ec2.SubnetConfiguration(name="private", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)],
        )
        last: dict[str, ec2.SecurityGroup] = {}
        for index in range(size):
            kind = tier(index)
            sg = ec2.SecurityGroup(
                stack, f"{kind.capitalize()}Sg{index:03d}", vpc=vpc, description=f"{kind} tier {index}",
                allow_all_outbound=kind != "db",
            )
            if kind == "web":
                sg.add_ingress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(80), "http")
                sg.add_ingress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "https")
                sg.add_ingress_rule(ec2.Peer.any_ipv6(), ec2.Port.tcp(80), "http v6")
                sg.add_ingress_rule(ec2.Peer.any_ipv6(), ec2.Port.tcp(443), "https v6")
            elif kind == "app":
                sg.add_ingress_rule(last["web"], ec2.Port.tcp(8080), "from web tier")
                sg.add_ingress_rule(ec2.Peer.ipv4("10.0.0.0/8"), ec2.Port.tcp(8443), "corporate")
            elif kind == "db":
                sg.add_ingress_rule(last["app"], ec2.Port.tcp(5432), "from app tier")
                sg.add_ingress_rule(ec2.Peer.ipv4("10.20.0.0/16"), ec2.Port.tcp(5432), "reporting")
            else:
                sg.add_ingress_rule(ec2.Peer.ipv4("203.0.113.0/24"), ec2.Port.tcp(22), "office ssh")
                sg.add_ingress_rule(ec2.Peer.ipv4("198.51.100.10/32"), ec2.Port.tcp(3389), "jump host rdp")
                if (stack_index, index) in planted:
                    port, source = planted[(stack_index, index)]
                    peer = ec2.Peer.ipv6(source) if ":" in source else ec2.Peer.ipv4(source)
                    sg.add_ingress_rule(peer, ec2.Port.tcp(port), "PLANTED VIOLATION")
            last[kind] = sg


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sgs", type=int, required=True)
    parser.add_argument("--pack", choices=("none", "guard", "nag"), default="none")
    parser.add_argument("--outdir", required=True)
    parser.add_argument("--validate-log", help="guard mode: append the pack's own validate() seconds here")
    arguments = parser.parse_args(argv)

    started = time.perf_counter()
    import aws_cdk as cdk

    app = cdk.App(outdir=arguments.outdir, context={"@aws-cdk/core:validationReportJson": True})
    if arguments.pack == "guard":
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
        from constructs_lib.plugin import AdminPortGuard

        class TimedGuard(AdminPortGuard):
            def validate(self, context):  # noqa: ANN001, ANN202
                t0 = time.perf_counter()
                try:
                    return super().validate(context)
                finally:
                    if arguments.validate_log:
                        with open(arguments.validate_log, "a", encoding="utf-8") as log:
                            log.write(f"{time.perf_counter() - t0:.6f}\n")

        cdk.Validations.of(app).add_plugins(TimedGuard(app))
    elif arguments.pack == "nag":
        from cdk_nag import AwsSolutionsChecks

        cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    build(app, arguments.sgs)
    try:
        app.synth()
    except Exception as error:  # jsii surfaces ValidationFailed as RuntimeError/JSIIError
        report = Path(arguments.outdir) / "validation-report.json"
        if arguments.pack == "none" or not report.is_file():
            raise
        print(f"{VALIDATION_FAILED_MARKER} ({type(error).__name__})", file=sys.stderr)
    print(json.dumps({"app_seconds": time.perf_counter() - started, "pid": os.getpid()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
