"""An app with a clean template but a validation plugin that crashes: the CDK CLI still exits 0."""

import aws_cdk as cdk
import jsii
from aws_cdk import aws_ec2 as ec2


@jsii.implements(cdk.IPolicyValidationPlugin)
class CrashingPlugin:
    @property
    def name(self) -> str:
        return "CrashingPlugin"

    def validate(self, context):
        raise RuntimeError("injected crash in another validation plugin")


app = cdk.App()
stack = cdk.Stack(app, "OtherPluginCrashes")
ec2.CfnSecurityGroup(stack, "Web", group_description="web server", vpc_id="vpc-0123456789abcdef0")
cdk.Validations.of(app).add_plugins(CrashingPlugin())
app.synth()
