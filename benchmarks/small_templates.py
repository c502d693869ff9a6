"""A pull request's worth of small CloudFormation templates, for the small-input benchmark rows.

Fully determined by the count (``COUNT`` by default). Template ``i`` (``Small00.template.json``, ...) is
what one change to one service looks like: a VPC and a subnet, an instance behind an application group
(443 from the whole internet, 8080 from 10.0.0.0/8) and a bucket; every odd template also has an admin
group (22 from an office /24, and 22 from the application group through a standalone ingress resource)
on the same instance, i.e. five to seven resources and one or two security groups per template.

Planted violations (:func:`planted_violations`): the admin group of every fourth odd template opens an
admin port to the whole internet, alternately 22/tcp from 0.0.0.0/0 and 3389/tcp from ::/0.
"""

from __future__ import annotations

import json
from pathlib import Path

COUNT = 48
IMAGE_PARAMETER = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
PLANTED = ((22, "CidrIp", "0.0.0.0/0"), (3389, "CidrIpv6", "::/0"))


def file_name(index: int) -> str:
    return f"Small{index:02d}.template.json"


def _planted(index: int) -> tuple[int, str, str] | None:
    """The world-open admin rule of template ``index``, if it has one: templates 3, 11, 19, ... alternately."""
    if index % 8 != 3:
        return None
    return PLANTED[(index // 8) % len(PLANTED)]


def planted_violations(count: int = COUNT) -> list[tuple[str, str, int]]:
    """``(file name, logical id, port)`` of every deliberately world-open admin port."""
    return [(file_name(i), "AdminSg", planted[0]) for i in range(count) if (planted := _planted(i))]


def _tcp(port: int, **source: object) -> dict[str, object]:
    return {"IpProtocol": "tcp", "FromPort": port, "ToPort": port, **source}


def template(index: int) -> dict[str, object]:
    """The CloudFormation template number ``index``."""
    group_id = {"Fn::GetAtt": ["AppSg", "GroupId"]}
    resources: dict[str, object] = {
        "Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": f"10.{index}.0.0/16"}},
        "Subnet": {"Type": "AWS::EC2::Subnet", "Properties": {"VpcId": {"Ref": "Vpc"}, "CidrBlock": f"10.{index}.0.0/24"}},
        "AppSg": {
            "Type": "AWS::EC2::SecurityGroup",
            "Properties": {
                "GroupDescription": f"service {index}: application",
                "VpcId": {"Ref": "Vpc"},
                "SecurityGroupIngress": [_tcp(443, CidrIp="0.0.0.0/0"), _tcp(8080, CidrIp="10.0.0.0/8")],
            },
        },
        "Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"VersioningConfiguration": {"Status": "Enabled"}}},
    }
    groups: list[object] = [group_id]
    if index % 2:
        admin_rules = [_tcp(22, CidrIp="203.0.113.0/24")]
        if planted := _planted(index):
            port, key, cidr = planted
            admin_rules.append(_tcp(port, **{key: cidr}))
        resources["AdminSg"] = {
            "Type": "AWS::EC2::SecurityGroup",
            "Properties": {"GroupDescription": f"service {index}: administration", "VpcId": {"Ref": "Vpc"}, "SecurityGroupIngress": admin_rules},
        }
        resources["AdminFromApp"] = {
            "Type": "AWS::EC2::SecurityGroupIngress",
            "Properties": {**_tcp(22, SourceSecurityGroupId=group_id), "GroupId": {"Fn::GetAtt": ["AdminSg", "GroupId"]}},
        }
        groups.append({"Fn::GetAtt": ["AdminSg", "GroupId"]})
    resources["Instance"] = {
        "Type": "AWS::EC2::Instance",
        "Properties": {"ImageId": {"Ref": "ImageId"}, "InstanceType": "t3.micro", "SubnetId": {"Ref": "Subnet"}, "SecurityGroupIds": groups},
    }
    return {
        "Description": f"Small service {index}",
        "Parameters": {"ImageId": {"Type": "AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>", "Default": IMAGE_PARAMETER}},
        "Resources": resources,
    }


def write_templates(directory: Path, count: int = COUNT) -> list[Path]:
    """Write templates ``0 .. count - 1`` into ``directory`` (created); their paths, in order."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = [directory / file_name(i) for i in range(count)]
    for index, path in enumerate(paths):
        path.write_text(json.dumps(template(index), indent=1) + "\n", encoding="utf-8")
    return paths
