"""The two templates the scan compares, synthesized with the real CDK in one process (one jsii start-up).

* ``reference``: the reference stack as ``app.py`` builds it: SSH to the bastion from the admin CIDR
  only, SSH to the web server only from the bastion's security group.
* ``naive``: the same template with one rule added by hand after synthesis, tcp/22 from ``0.0.0.0/0``
  on the web server's security group: the mistake the seed describes, made the way the guard cannot
  stop at synth (editing the template). The constructs refuse to produce it (their own synth-time
  check sees every rule aimed at their groups) and so does the plugin; the guard CLI flags the
  edited template, and the scan shows what the mistake exposes.

    python -m scan.variants OUTDIR [--admin-cidr 203.0.113.10/32]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

#: The admin CIDR the scan's "admin host" stands for (TEST-NET-3, documentation space).
DEFAULT_ADMIN_CIDR = "203.0.113.10/32"
REFERENCE_STACK = "AdminPortGuardReference"
NAIVE_DESCRIPTION = "NAIVE, added by hand: SSH from anywhere (the seed's mistake). Never deploy it."
_ROOT = Path(__file__).resolve().parent.parent


def _cdk_context() -> dict:
    try:
        return dict(json.loads((_ROOT / "cdk.json").read_text(encoding="utf-8")).get("context") or {})
    except (OSError, ValueError):
        return {}


def synth_variants(outdir: str | Path, admin_cidr: str = DEFAULT_ADMIN_CIDR) -> dict[str, Path]:
    """Synthesize the reference stack into ``outdir/reference`` and its hand-edited naive copy into
    ``outdir/naive``; return the template paths."""
    import shutil

    import aws_cdk as cdk

    from constructs_lib.plugin import add_admin_port_guard
    from stacks import ReferenceStack

    outdir = Path(outdir)
    context = {**_cdk_context(), "admin_cidr": admin_cidr, "aws:cdk:enable-path-metadata": True}
    app = cdk.App(outdir=str(outdir / "reference"), context=context)
    add_admin_port_guard(app)
    ReferenceStack(app, REFERENCE_STACK, admin_cidrs=[admin_cidr])
    app.synth()
    reference = outdir / "reference" / f"{REFERENCE_STACK}.template.json"
    shutil.copytree(outdir / "reference", outdir / "naive")
    naive = outdir / "naive" / f"{REFERENCE_STACK}.template.json"
    template = json.loads(naive.read_text(encoding="utf-8"))
    web_group = next(
        logical_id
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == "AWS::EC2::SecurityGroup" and "/Tier/Web/" in resource.get("Metadata", {}).get("aws:cdk:path", "")
    )
    template["Resources"]["NaiveWorldSsh"] = {
        "Type": "AWS::EC2::SecurityGroupIngress",
        "Properties": {"GroupId": {"Fn::GetAtt": [web_group, "GroupId"]}, "IpProtocol": "tcp", "FromPort": 22,
                       "ToPort": 22, "CidrIp": "0.0.0.0/0", "Description": NAIVE_DESCRIPTION},
    }
    naive.write_text(json.dumps(template, indent=1), encoding="utf-8")
    return {"reference": reference, "naive": naive}


def main() -> None:
    parser = argparse.ArgumentParser(description="Synthesize the reference and naive variants for the scan")
    parser.add_argument("outdir")
    parser.add_argument("--admin-cidr", default=DEFAULT_ADMIN_CIDR)
    args = parser.parse_args()
    for variant, path in synth_variants(args.outdir, args.admin_cidr).items():
        print(f"{variant}: {path}")


if __name__ == "__main__":
    main()
