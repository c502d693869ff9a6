"""SSH in stacks of a Stage and of a Stage in a Stage, as real apps lay them out; in the outer stage's stack also
in the templates it deploys as assets (a Service Catalog product built from a ProductStack, a StackSet whose
TemplateURL is a file asset) and by an AwsCustomResource's SDK call (closed: the call reads an SSM parameter).

``OPEN=0`` closes the port (203.0.113.10/32 instead of 0.0.0.0/0); ``GUARD=inner`` registers the guard on the
inner stage only (after it was created) instead of on the app (first thing, as the README says).
"""

import json
import os
import tempfile

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_s3_assets as assets
from aws_cdk import aws_servicecatalog as servicecatalog
from aws_cdk import custom_resources

from constructs_lib import add_admin_port_guard


def web_tier(stack: cdk.Stack, source: ec2.IPeer) -> None:
    vpc = ec2.Vpc.from_vpc_attributes(stack, "Vpc", vpc_id="vpc-0123456789abcdef0", availability_zones=["us-east-1a"])
    group = ec2.SecurityGroup(stack, "Web", vpc=vpc, description="web server", allow_all_outbound=False)
    group.add_ingress_rule(source, ec2.Port.tcp(22), "SSH")


class WebProduct(servicecatalog.ProductStack):
    def __init__(self, scope: cdk.Stack, construct_id: str, source: ec2.IPeer) -> None:
        super().__init__(scope, construct_id)
        web_tier(self, source)


def deployed_as_assets(stack: cdk.Stack, cidr: str) -> None:
    product = WebProduct(stack, "WebProduct", ec2.Peer.ipv4(cidr))
    servicecatalog.CloudFormationProduct(stack, "Catalog", product_name="web", owner="platform", product_versions=[
        servicecatalog.CloudFormationProductVersion(product_version_name="v1",
                                                    cloud_formation_template=servicecatalog.CloudFormationTemplate.from_product_stack(product))])
    rule = {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIp": cidr}
    body = {"Resources": {"Baseline": {"Type": "AWS::EC2::SecurityGroup", "Properties": {"GroupDescription": "baseline", "SecurityGroupIngress": [rule]}}}}
    path = os.path.join(tempfile.mkdtemp(), "baseline.json")
    with open(path, "w", encoding="utf-8") as file:
        json.dump(body, file)
    template = assets.Asset(stack, "BaselineTemplate", path=path)
    cdk.CfnStackSet(stack, "Baseline", stack_set_name="baseline", permission_model="SELF_MANAGED", template_url=template.http_url)
    ops = ec2.CfnSecurityGroup(stack, "Ops", group_description="opened at deploy time", vpc_id="vpc-0123456789abcdef0")
    if cidr == "0.0.0.0/0":
        call = custom_resources.AwsSdkCall(service="EC2", action="authorizeSecurityGroupIngress", physical_resource_id=custom_resources.PhysicalResourceId.of("ops-ssh"),
                                           parameters={"GroupId": ops.attr_group_id, "IpPermissions": [{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": cidr}]}]})
    else:
        call = custom_resources.AwsSdkCall(service="@aws-sdk/client-ssm", action="GetParameter", parameters={"Name": "/ops/admin-cidr"},
                                           physical_resource_id=custom_resources.PhysicalResourceId.of("ops-cidr"))
    custom_resources.AwsCustomResource(stack, "OpsCall", on_create=call, on_update=call,
                                       policy=custom_resources.AwsCustomResourcePolicy.from_sdk_calls(resources=custom_resources.AwsCustomResourcePolicy.ANY_RESOURCE))


source = ec2.Peer.any_ipv4() if os.environ.get("OPEN", "1") == "1" else ec2.Peer.ipv4("203.0.113.10/32")
app = cdk.App()
if os.environ.get("GUARD", "app") == "app":
    add_admin_port_guard(app)
web_tier(cdk.Stack(app, "Shared"), ec2.Peer.ipv4("203.0.113.10/32"))
prod = cdk.Stage(app, "Prod")
outer = cdk.Stack(prod, "Web")
web_tier(outer, source)
deployed_as_assets(outer, "0.0.0.0/0" if os.environ.get("OPEN", "1") == "1" else "203.0.113.10/32")
inner = cdk.Stage(prod, "Inner")
web_tier(cdk.Stack(inner, "Deep"), source)
if os.environ.get("GUARD") == "inner":
    add_admin_port_guard(inner)
app.synth()
