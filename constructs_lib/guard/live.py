"""Live audit: check the security groups deployed in an account with the same core and rule ids as synth.

Console edits drift from the template. ``python -m constructs_lib.guard --live`` reads every security group
of one region with ``ec2:DescribeSecurityGroups`` (paginated), turns them into one synthetic CloudFormation
template and runs ``check_templates`` on it, so a finding here carries exactly the rule id it would carry
at synth time.

The synthetic template has one ``AWS::EC2::SecurityGroup`` per group, with logical id
``"<group id> (<group name>)"`` so that findings name the group, and one ``SecurityGroupIngress`` entry
per source of each permission: ``IpRanges`` → ``CidrIp``, ``Ipv6Ranges`` → ``CidrIpv6``,
``UserIdGroupPairs`` → ``SourceSecurityGroupId`` (or ``SourceSecurityGroupName``), ``PrefixListIds`` →
``SourcePrefixListId``. A referenced prefix list whose entries can be read
(``ec2:GetManagedPrefixListEntries``) becomes an ``AWS::EC2::PrefixList`` resource of the same template,
so its CIDRs are checked; one that cannot be read stays a literal id and is reported as unverifiable
(unless the policy declares it trusted). Network interfaces (``DescribeNetworkInterfaces`` items), when
given, become ``AWS::EC2::NetworkInterface`` resources whose ``GroupSet`` refers to the groups, so the
core also judges the union of the groups on one interface (the AWS Config rule passes them).

Needs ``boto3`` (imported only here, only when the live audit runs) and read-only EC2 permissions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ..policy import Finding, GuardPolicy, Template, check_templates

#: Permissions the live audit needs (for documentation and error messages).
REQUIRED_ACTIONS = (
    "ec2:DescribeSecurityGroups", "ec2:DescribeNetworkInterfaces", "ec2:GetManagedPrefixListEntries", "ec2:DescribeManagedPrefixLists",
)


class LiveAuditError(Exception):
    """The live security groups could not be read (credentials, region, endpoint, permissions)."""


def group_logical_id(group: Mapping[str, Any]) -> str:
    """The logical id of ``group`` in the synthetic template: its id and, if known, its name."""
    name = group.get("GroupName")
    return f"{group['GroupId']} ({name})" if name else str(group["GroupId"])


def prefix_list_logical_id(prefix_list_id: str, name: str | None = None) -> str:
    return f"{prefix_list_id} ({name})" if name else prefix_list_id


def interface_logical_id(interface: Mapping[str, Any]) -> str:
    """The logical id of a network interface: its id and, if attached to one, the instance's."""
    instance = (interface.get("Attachment") or {}).get("InstanceId")
    return f"{interface['NetworkInterfaceId']} ({instance})" if instance else str(interface["NetworkInterfaceId"])


def template_body(
    groups: Iterable[Mapping[str, Any]],
    prefix_lists: Mapping[str, tuple[str | None, Sequence[str]]] | None = None,
    interfaces: Iterable[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """A CloudFormation template body for ``groups`` (``DescribeSecurityGroups`` items).

    ``prefix_lists`` maps a prefix-list id to ``(name, cidrs)``; prefix lists not in it stay literal ids.
    ``interfaces`` (``DescribeNetworkInterfaces`` items) with more than one group put those groups together.
    """
    prefix_lists = prefix_lists or {}
    groups = list(groups)
    resources: dict[str, Any] = {}
    for prefix_list_id, (name, cidrs) in sorted(prefix_lists.items()):
        resources[prefix_list_logical_id(prefix_list_id, name)] = {
            "Type": "AWS::EC2::PrefixList",
            "Properties": {
                "PrefixListName": name or prefix_list_id,
                "AddressFamily": "IPv6" if any(":" in cidr for cidr in cidrs) else "IPv4",
                "MaxEntries": max(len(cidrs), 1),
                "Entries": [{"Cidr": cidr} for cidr in cidrs],
            },
        }
    for group in sorted(groups, key=lambda item: str(item["GroupId"])):
        properties: dict[str, Any] = {
            "GroupDescription": group.get("Description", ""),
            "GroupName": group.get("GroupName", ""),
            "SecurityGroupIngress": [
                entry for permission in group.get("IpPermissions", []) for entry in _entries(permission, prefix_lists)
            ],
        }
        if group.get("VpcId"):
            properties["VpcId"] = group["VpcId"]
        resources[group_logical_id(group)] = {"Type": "AWS::EC2::SecurityGroup", "Properties": properties}
    logical_ids = {group["GroupId"]: group_logical_id(group) for group in groups}
    for interface in interfaces:
        ids = [member.get("GroupId") for member in interface.get("Groups", [])]
        if len(ids) > 1:  # one group alone is judged as a group
            group_set = [{"Ref": logical_ids[i]} if i in logical_ids else i for i in ids]
            resources[interface_logical_id(interface)] = {"Type": "AWS::EC2::NetworkInterface", "Properties": {"GroupSet": group_set}}
    return {"Description": "Security groups read live with ec2:DescribeSecurityGroups", "Resources": resources}


def _entries(permission: Mapping[str, Any], prefix_lists: Mapping[str, tuple[str | None, Sequence[str]]]) -> list[dict[str, Any]]:
    """One ``SecurityGroupIngress`` entry per source of one ``IpPermissions`` item."""
    base: dict[str, Any] = {"IpProtocol": permission.get("IpProtocol")}
    for field in ("FromPort", "ToPort"):
        if field in permission:
            base[field] = permission[field]
    entries = []
    for source_list, source in _sources(permission):
        item = dict(base)
        if source_list == "IpRanges":
            item["CidrIp"] = source.get("CidrIp")
        elif source_list == "Ipv6Ranges":
            item["CidrIpv6"] = source.get("CidrIpv6")
        elif source_list == "PrefixListIds":
            prefix_list_id = source.get("PrefixListId")
            value: Any = prefix_list_id
            if isinstance(prefix_list_id, str) and prefix_list_id in prefix_lists:
                value = {"Ref": prefix_list_logical_id(prefix_list_id, prefix_lists[prefix_list_id][0])}
            item["SourcePrefixListId"] = value
        elif source.get("GroupId"):
            item["SourceSecurityGroupId"] = source["GroupId"]
        else:
            item["SourceSecurityGroupName"] = source.get("GroupName")
        if source.get("Description"):
            item["Description"] = source["Description"]
        entries.append(item)
    if not entries:
        entries.append(dict(base))  # no source at all: the core reports it as malformed rather than dropping it
    return entries


def _sources(permission: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    """``(source list, source)`` for each source of one ``IpPermissions`` item, in the order of its entries."""
    return [(field, source) for field in ("IpRanges", "Ipv6Ranges", "PrefixListIds", "UserIdGroupPairs") for source in permission.get(field, [])]


def entry_permissions(group: Mapping[str, Any]) -> list[dict[str, Any] | None]:
    """Per ``SecurityGroupIngress`` entry of ``group`` in the synthetic template (rule label ``...[i]``), the
    ``IpPermissions`` item with that one source, as ``RevokeSecurityGroupIngress`` takes it (``None``: no source)."""
    result: list[dict[str, Any] | None] = []
    for permission in group.get("IpPermissions", []):
        base = {key: permission[key] for key in ("IpProtocol", "FromPort", "ToPort") if key in permission}
        sources = _sources(permission)
        result += [{**base, field: [dict(source)]} for field, source in sources] or [None]
    return result


def live_template(
    groups: Iterable[Mapping[str, Any]],
    prefix_lists: Mapping[str, tuple[str | None, Sequence[str]]] | None = None,
    region: str | None = None,
    interfaces: Iterable[Mapping[str, Any]] = (),
) -> Template:
    """The synthetic template, named ``live:<region>``, ready for ``check_templates``."""
    name = f"live:{region or 'default-region'}"
    return Template(name, name, template_body(groups, prefix_lists, interfaces))


def referenced_prefix_lists(groups: Iterable[Mapping[str, Any]]) -> list[str]:
    return sorted(
        {
            reference["PrefixListId"]
            for group in groups
            for permission in group.get("IpPermissions", [])
            for reference in permission.get("PrefixListIds", [])
            if reference.get("PrefixListId")
        }
    )


def ec2_client(region: str | None = None, endpoint_url: str | None = None) -> Any:
    try:
        import boto3
    except ImportError:
        raise LiveAuditError("the live audit needs boto3: pip install boto3, or install this package with its live extra: pip install '/path/to/admin-port-guard[live]'") from None
    return boto3.client("ec2", region_name=region, endpoint_url=endpoint_url)


def read_security_groups(client: Any, group_ids: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Every security group the client's region holds, or only those of ``group_ids`` (all pages)."""
    if group_ids is not None and not group_ids:
        return []
    selection = {} if group_ids is None else {"GroupIds": list(group_ids)}
    groups: list[dict[str, Any]] = []
    for page in client.get_paginator("describe_security_groups").paginate(**selection):
        groups.extend(page.get("SecurityGroups", []))
    return groups


def read_prefix_lists(client: Any, prefix_list_ids: Sequence[str]) -> dict[str, tuple[str | None, list[str]]]:
    """Names and CIDRs of the given prefix lists; lists that cannot be read are left out."""
    from botocore.exceptions import BotoCoreError, ClientError

    result: dict[str, tuple[str | None, list[str]]] = {}
    for prefix_list_id in prefix_list_ids:
        try:
            described = client.describe_managed_prefix_lists(PrefixListIds=[prefix_list_id]).get("PrefixLists", [])
            if not described:
                continue  # not found (AWS raises, moto answers with no list): its contents are unknown
            name = described[0].get("PrefixListName")
            cidrs: list[str] = []
            paginator = client.get_paginator("get_managed_prefix_list_entries")
            for page in paginator.paginate(PrefixListId=prefix_list_id):
                cidrs.extend(entry["Cidr"] for entry in page.get("Entries", []) if entry.get("Cidr"))
        except (BotoCoreError, ClientError):
            continue  # stays a literal id: the core reports its contents as unverifiable
        result[prefix_list_id] = (name, cidrs)
    return result


def read_network_interfaces(ec2: Any, group_id: str | None = None) -> list[dict[str, Any]]:
    """The network interfaces with more than one security group: all of them, or those carrying ``group_id``."""
    selection = {"Filters": [{"Name": "group-id", "Values": [group_id]}]} if group_id else {}
    interfaces: list[dict[str, Any]] = []
    for page in ec2.get_paginator("describe_network_interfaces").paginate(**selection):
        interfaces.extend(i for i in page.get("NetworkInterfaces", []) if len(i.get("Groups", [])) > 1)
    return interfaces


def audit(
    policy: GuardPolicy | None = None,
    *,
    region: str | None = None,
    endpoint_url: str | None = None,
    client: Any = None,
) -> list[Finding]:
    """Findings for the live security groups of one region. Raises ``LiveAuditError`` if they cannot be read."""
    try:
        from botocore.exceptions import BotoCoreError, ClientError
    except ImportError:
        raise LiveAuditError("the live audit needs boto3: pip install boto3, or install this package with its live extra: pip install '/path/to/admin-port-guard[live]'") from None
    try:
        client = client or ec2_client(region, endpoint_url)
        groups = read_security_groups(client)
        prefix_lists = read_prefix_lists(client, referenced_prefix_lists(groups))
        interfaces = read_network_interfaces(client)
    except (BotoCoreError, ClientError) as error:
        raise LiveAuditError(f"cannot read security groups: {error}") from None
    return check_templates([live_template(groups, prefix_lists, client.meta.region_name, interfaces)], policy)
