"""The two stacks the scan compares, synthesized with the real CDK in one process (one jsii start-up).

* ``reference``: the reference stack as ``app.py`` builds it: SSH to the bastion from the admin CIDR
  only, SSH to the web server only from the bastion's security group.
* ``naive``: the same stack plus tcp/22 from ``0.0.0.0/0`` on the web server's security group, the
  mistake the seed describes. The admin-port guard is registered on both apps; on the naive one its
  finding is acknowledged **for this demonstration only**, so the synth succeeds and the scan can show
  what the mistake exposes.

    python -m scan.variants OUTDIR [--admin-cidr 203.0.113.10/32]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

#: The admin CIDR the scan's "admin host" stands for (TEST-NET-3, documentation space).
DEFAULT_ADMIN_CIDR = "203.0.113.10/32"
REFERENCE_STACK = "AdminPortGuardReference"
NAIVE_STACK = "AdminPortGuardNaive"
NAIVE_REASON = (
    "Demonstration only (scan/variants.py): the naive variant reproduces the seed's mistake, SSH open to "
    "0.0.0.0/0 on the web server, so the port scan can show it. Never deploy it."
)
_ROOT = Path(__file__).resolve().parent.parent


def _cdk_context() -> dict:
    try:
        return dict(json.loads((_ROOT / "cdk.json").read_text(encoding="utf-8")).get("context") or {})
    except (OSError, ValueError):
        return {}


def synth_variants(outdir: str | Path, admin_cidr: str = DEFAULT_ADMIN_CIDR) -> dict[str, Path]:
    """Synthesize both variants into ``outdir/reference`` and ``outdir/naive``; return the template paths."""
    import aws_cdk as cdk
    from aws_cdk import aws_ec2 as ec2

    from constructs_lib.nag import acknowledge_admin_port_finding, add_admin_port_guard
    from constructs_lib.policy import Rule
    from stacks import ReferenceStack

    outdir = Path(outdir)
    context = {**_cdk_context(), "admin_cidr": admin_cidr, "aws:cdk:enable-path-metadata": True}
    paths = {}
    for variant, stack_name in (("reference", REFERENCE_STACK), ("naive", NAIVE_STACK)):
        app = cdk.App(outdir=str(outdir / variant), context=context)
        add_admin_port_guard(app)
        stack = ReferenceStack(app, stack_name, admin_cidrs=[admin_cidr])
        if variant == "naive":
            # A hand-written rule beside the constructs (they refuse to write it themselves).
            ec2.CfnSecurityGroupIngress(
                stack.tier.web,
                "NaiveWorldSsh",
                group_id=stack.tier.web.security_group_id,
                ip_protocol="tcp",
                from_port=22,
                to_port=22,
                cidr_ip="0.0.0.0/0",
                description="NAIVE: SSH from anywhere (the seed's mistake)",
            )
            acknowledge_admin_port_finding(stack.tier.web, Rule.WORLD_OPEN_ADMIN_PORT, NAIVE_REASON, port=22)
        app.synth()
        paths[variant] = outdir / variant / f"{stack_name}.template.json"
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description="Synthesize the reference and naive variants for the scan")
    parser.add_argument("outdir")
    parser.add_argument("--admin-cidr", default=DEFAULT_ADMIN_CIDR)
    args = parser.parse_args()
    for variant, path in synth_variants(args.outdir, args.admin_cidr).items():
        print(f"{variant}: {path}")


if __name__ == "__main__":
    main()
