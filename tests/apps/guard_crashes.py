"""An app whose guard crashes (crash injected into the policy core) and that acknowledges, app-wide and in
advance, every id spelling CDK accepts for the crash: the synth must fail all the same."""

import os

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2

import constructs_lib.plugin
from constructs_lib import add_admin_port_guard
from constructs_lib.policy import RULES


def _crash(*_args, **_kwargs):
    raise MemoryError("injected crash inside the policy core")


constructs_lib.plugin.evaluate = _crash

#: Every spelling of the crash's rule id that Validations.acknowledge accepts, and every other rule of the guard.
SPELLINGS = [
    "AdminPortGuard::AdminPortGuard-ValidationFailed",
    "AdminPortGuard-ValidationFailed",
    "AdminPortGuard::ValidationFailed",
    "ValidationFailed",
    "Annotation::AdminPortGuard-ValidationFailed",
    "AdminPortGuard::AdminPortGuard ValidationFailed",
    *(f"AdminPortGuard::AdminPortGuard-{rule.id}" for rule in RULES),
]

app = cdk.App(outdir=os.environ.get("CDK_OUTDIR"))
stack = cdk.Stack(app, "GuardCrashes")
ec2.CfnSecurityGroup(stack, "Web", group_description="web server", vpc_id="vpc-0123456789abcdef0")
for scope in (app, stack):
    cdk.Validations.of(scope).acknowledge(*(cdk.Acknowledgment(id=spelling, reason="pre-acknowledged crash, to prove it cannot be") for spelling in SPELLINGS))
add_admin_port_guard(app)
app.synth()
