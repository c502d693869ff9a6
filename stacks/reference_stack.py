"""The reference stack: a bastion and a web server, SSH to the web server only through the bastion.

Synthesizes with no AWS account and no credentials: the stack is environment-agnostic (availability
zones come from ``Fn::GetAZs``) and the Amazon Linux 2023 image id is an SSM parameter that
CloudFormation resolves at deploy time.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from aws_cdk import CfnOutput, RemovalPolicy, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct

from constructs_lib.security_groups import BastionWebTier
from stacks.nag_compat import accept_nag_finding

ADMIN_CIDR_CONTEXT_KEY = "admin_cidr"
_SSM_CORE_POLICY_ARN = "arn:<AWS::Partition>:iam::aws:policy/AmazonSSMManagedInstanceCore"

_UPDATES_USER_DATA = (
    # AL2023 pins its repositories to the AMI's release; follow the latest release so updates keep coming.
    "echo latest > /etc/dnf/vars/releasever",
    "dnf -y upgrade",
    "dnf -y install dnf-automatic",
    "sed -i -e 's/^upgrade_type *=.*/upgrade_type = security/' "
    "-e 's/^apply_updates *=.*/apply_updates = yes/' /etc/dnf/automatic.conf",
    "systemctl enable --now dnf-automatic.timer",
)

_WEB_PAGE = """<!doctype html>
<html><head><title>Reference web server</title></head>
<body><h1>Hello from the reference web server</h1>
<p>HTTP and HTTPS are open to the internet. SSH is reachable only from the bastion security group.</p>
</body></html>"""


def admin_cidrs_from_context(scope: Construct, key: str = ADMIN_CIDR_CONTEXT_KEY) -> list[str]:
    """The admin CIDRs given as context: ``-c admin_cidr=203.0.113.10/32,198.51.100.0/24``, or a JSON list
    (in ``cdk.json``, or ``-c 'admin_cidr=["203.0.113.10/32"]'``). Absent or empty: no admin CIDRs.

    Only splits and trims; the CIDRs themselves are checked by :class:`BastionSecurityGroup`.
    """
    raw: Any = scope.node.try_get_context(key)
    if raw is None:
        return []
    if isinstance(raw, str) and raw.strip().startswith("["):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError as error:
            raise ValueError(f"context {key}={raw!r} is not a valid JSON list: {error}") from None
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
        raise ValueError(
            f"context {key}={raw!r} must be a CIDR string, comma-separated CIDRs or a list of CIDR strings, "
            "for example 203.0.113.10/32"
        )
    return [part.strip() for item in raw for part in item.split(",") if part.strip()]


class ReferenceStack(Stack):
    """VPC with public subnets only, a bastion host and a web server.

    :param admin_cidrs: who may SSH into the bastion (CIDRs or prefix-list ids). Default: nobody; use
        Session Manager. World-wide CIDRs raise ``ValueError``.
    :param instance_type: type of both instances. Default: ``t3.micro``.
    :param max_azs: availability zones for the public subnets (at most 2 for an environment-agnostic
        stack). Default: 2.
    :param kwargs: passed to ``Stack`` (``description``, ``env``, ``tags``...).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        admin_cidrs: Sequence[str] = (),
        instance_type: ec2.InstanceType | None = None,
        max_azs: int = 2,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault(
            "description", "Reference bastion + web server: SSH only from admin CIDRs to the bastion, and from it"
        )
        super().__init__(scope, construct_id, **kwargs)
        instance_type = instance_type or ec2.InstanceType.of(ec2.InstanceClass.T3, ec2.InstanceSize.MICRO)

        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            ip_addresses=ec2.IpAddresses.cidr("10.0.0.0/16"),
            max_azs=max_azs,
            nat_gateways=0,
            subnet_configuration=[ec2.SubnetConfiguration(name="Public", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=24)],
            # Restricting the default security group needs a Lambda-backed custom resource; nothing in this
            # stack uses the default group, so it stays as EC2 creates it.
            restrict_default_security_group=False,
        )
        flow_log_group = logs.LogGroup(
            self, "FlowLogGroup", retention=logs.RetentionDays.ONE_MONTH, removal_policy=RemovalPolicy.DESTROY
        )
        self.vpc.add_flow_log("FlowLog", destination=ec2.FlowLogDestination.to_cloud_watch_logs(flow_log_group))

        self.tier = BastionWebTier(self, "Tier", vpc=self.vpc, admin_sources=list(admin_cidrs))
        for group in (self.tier.bastion, self.tier.web):
            group.connections.allow_to(
                ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "HTTPS out: Session Manager and package updates"
            )

        self.bastion_instance = self._instance("Bastion", self.tier.bastion.security_group, instance_type)
        self.web_instance = self._instance("WebServer", self.tier.web.security_group, instance_type, web_page=True)

        outputs = {
            "BastionSecurityGroupId": (self.tier.bastion.security_group_id, "Bastion security group"),
            "WebSecurityGroupId": (self.tier.web.security_group_id, "Web server security group"),
            "BastionInstanceId": (self.bastion_instance.instance_id, "Bastion instance (Session Manager target)"),
            "WebInstanceId": (self.web_instance.instance_id, "Web server instance"),
            "BastionPublicIp": (self.bastion_instance.instance_public_ip, "SSH here from an admin CIDR"),
            "WebPublicIp": (self.web_instance.instance_public_ip, "Web server public address"),
            "WebUrl": (f"http://{self.web_instance.instance_public_dns_name}/", "The page served by httpd"),
        }
        for output_id, (value, description) in outputs.items():
            CfnOutput(self, output_id, value=value, description=description)

        self._acknowledge_nag_findings()

    def _instance(
        self, name: str, security_group: ec2.ISecurityGroup, instance_type: ec2.InstanceType, *, web_page: bool = False
    ) -> ec2.Instance:
        role = iam.Role(
            self,
            f"{name}Role",
            assumed_by=iam.ServicePrincipal("ec2.amazonaws.com"),
            description=f"{name} instance: Session Manager only",
            managed_policies=[iam.ManagedPolicy.from_aws_managed_policy_name("AmazonSSMManagedInstanceCore")],
        )
        user_data = ec2.UserData.for_linux()
        user_data.add_commands("set -euxo pipefail", *_UPDATES_USER_DATA)
        if web_page:
            user_data.add_commands(
                "dnf -y install httpd",
                f"cat > /var/www/html/index.html <<'HTML'\n{_WEB_PAGE}\nHTML",
                "systemctl enable --now httpd",
            )
        instance = ec2.Instance(
            self,
            name,
            vpc=self.vpc,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PUBLIC),
            instance_type=instance_type,
            # An SSM parameter resolved by CloudFormation at deploy time: no lookup at synth.
            machine_image=ec2.MachineImage.latest_amazon_linux2023(),
            security_group=security_group,
            role=role,
            user_data=user_data,
            user_data_causes_replacement=True,
            http_tokens=ec2.HttpTokens.REQUIRED,
            block_devices=[
                ec2.BlockDevice(
                    device_name="/dev/xvda",
                    volume=ec2.BlockDeviceVolume.ebs(
                        8, encrypted=True, volume_type=ec2.EbsDeviceVolumeType.GP3, delete_on_termination=True
                    ),
                )
            ],
        )
        return instance

    def _acknowledge_nag_findings(self) -> None:
        """AwsSolutions findings that are intended in this stack, each with its reason (shown in the report)."""
        accept_nag_finding(
            self.tier.web,
            "EC23",
            "Public web server: only tcp/80 and tcp/443 are open to 0.0.0.0/0 and ::/0. "
            "WebServerSecurityGroup refuses admin ports in web_ports and admits SSH only from the bastion group.",
        )
        for instance in (self.bastion_instance, self.web_instance):
            accept_nag_finding(
                instance.role,
                "IAM4",
                "AmazonSSMManagedInstanceCore is the AWS-maintained minimum for Session Manager; "
                "it is the only policy of this instance role.",
                applies_to=f"Policy::{_SSM_CORE_POLICY_ARN}",
            )
            accept_nag_finding(
                instance,
                "EC28",
                "Reference stack: 5-minute basic metrics suffice; detailed monitoring would add cost for every instance.",
            )
            accept_nag_finding(
                instance,
                "EC29",
                "Disposable reference stack that is removed with cdk destroy; termination protection "
                "would block that. Production users should enable it or run the tier in an ASG.",
            )
