#!/usr/bin/env python3
"""CDK app: the reference bastion + web-server stack, checked at synth by the admin-port guard and cdk-nag's AwsSolutions pack.

    npx cdk synth -c admin_cidr=203.0.113.10/32        # several: comma-separated or a JSON list
"""

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from constructs_lib import add_admin_port_guard
from stacks import ReferenceStack, admin_cidrs_from_context

STACK_NAME = "AdminPortGuardReference"


def main() -> None:
    app = cdk.App()
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))

    add_admin_port_guard(app)

    try:
        admin_cidrs = admin_cidrs_from_context(app)
        ReferenceStack(app, STACK_NAME, admin_cidrs=admin_cidrs)
    except ValueError as error:
        raise SystemExit(f"Cannot build {STACK_NAME} (check the admin_cidr context):\n{error}") from None
    app.synth()


if __name__ == "__main__":
    main()
