#!/usr/bin/env python3
"""CDK app: the reference bastion + web-server stack, checked at synth by the admin-port guard and cdk-nag's
AwsSolutions pack (cdk-nag 2 or 3: ``stacks/nag_compat.py``).

    npx cdk synth -c admin_cidr=203.0.113.10/32        # several: comma-separated or a JSON list
"""

import aws_cdk as cdk

from constructs_lib import add_admin_port_guard
from stacks import ReferenceStack, admin_cidrs_from_context
from stacks.nag_compat import add_aws_solutions_checks

STACK_NAME = "AdminPortGuardReference"


def main() -> None:
    app = cdk.App()
    add_aws_solutions_checks(app)  # cdk-nag 2: an aspect; cdk-nag 3: a validation plugin
    add_admin_port_guard(app)

    try:
        admin_cidrs = admin_cidrs_from_context(app)
        ReferenceStack(app, STACK_NAME, admin_cidrs=admin_cidrs)
    except ValueError as error:
        raise SystemExit(f"Cannot build {STACK_NAME} (check the admin_cidr context):\n{error}") from None
    app.synth()


if __name__ == "__main__":
    main()
