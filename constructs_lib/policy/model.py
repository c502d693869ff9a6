"""The normalized form every reader produces: sources, permissions, groups, attachments.

A *group* is anything whose rules admit traffic to one set of network interfaces: an EC2 security
group, or the firewall a service creates for its instances (an EKS node group's remote-access group,
a Lightsail instance's firewall, ...). An *attachment* is one network interface (or a template for
them: a launch template) and the groups that sit on it together; EC2 unites their rules.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable

from .cidr import Network
from .findings import Finding, Location

ALL_PORTS = (0, 65535)
_TCP_CAPABLE = frozenset({"tcp", "all", "unknown"})

#: Where traffic may come from. ``kind``: ``cidr`` (with ``network``), ``security-group`` (``label`` is the
#: group key), ``prefix-list`` (a managed prefix list by id, contents unknown) or ``unknown`` (``label`` says why).
Source = namedtuple("Source", "kind label network", defaults=(None,))


class Permission(namedtuple("Permission", "group protocol ports source origin rule_label certain assumption", defaults=((),))):
    """One normalized ingress permission of one group.

    ``protocol`` is tcp, udp, icmp, icmpv6, all, unknown or a protocol number; ``ports`` the inclusive
    port range (all ports for ``all``), or ``None`` where ports do not apply. ``certain`` is False when
    the protocol or ports were unknown at synth time and were widened to "anything". ``origin`` is the
    resource that declared it, ``rule_label`` the rule inside it (``Web.SecurityGroupIngress[0]``).
    ``assumption`` is the assignment of conditions it exists under, ``((template, condition), truth)``
    pairs (empty: whatever the conditions are).
    """

    __slots__ = ()

    def reaches_tcp_ports(self, low: int, high: int) -> bool:
        """Whether TCP traffic to some port in ``low``-``high`` is allowed."""
        ports = self[2]
        return self[1] in _TCP_CAPABLE and ports is not None and ports[0] <= high and low <= ports[1]


#: A group: ``key`` (``Stack:LogicalId`` for a security group of the templates, ``id:sg-...``/``name:...`` for one
#: only referenced), where it is declared, whether the templates define it, what it is (``kind``: "security group",
#: "EKS node group remote access", ...), for service-made groups the fix that applies (``None``: the rule's), and
#: whether its template promises SSH only from security groups (``ssh_from_groups``, ``config.SSH_PROMISE``).
Group = namedtuple("Group", "key location defined kind fix ssh_from_groups", defaults=("security group", None, False))


def group_name(key: str) -> str:
    """The name a report gives the group of ``key``: the id, name or unresolved value after ``id:``, ``name:`` or
    ``unresolved:``; else the logical id of ``Template:LogicalId`` (a template's file name may hold a colon, a logical id not)."""
    kind, _, rest = key.partition(":")
    return rest if kind in ("id", "name", "unresolved") else key.rsplit(":", 1)[-1]


#: One network interface (or a template for them) and the keys of the groups on it. ``unresolved`` lists why some
#: group could not be determined; ``assumption`` as for a permission.
Attachment = namedtuple("Attachment", "key location kind name groups unresolved assumption", defaults=((), ()))


class Inventory:
    """Everything the templates say about what may reach their network interfaces."""

    __slots__ = ("groups", "permissions", "attachments", "findings", "templates", "rules_read", "possible")

    def __init__(self) -> None:
        self.groups: dict[str, Group] = {}
        self.permissions: list[Permission] = []
        self.attachments: list[Attachment] = []
        self.findings: list[Finding] = []
        self.templates = 0
        self.rules_read = 0
        #: Whether an assignment ``{(template, condition): truth}`` can hold (the templates' conditions decide).
        self.possible: Callable[[dict[tuple[str, str], bool]], bool] = lambda assignment: True


__all__ = ["ALL_PORTS", "Attachment", "Group", "Inventory", "Location", "Network", "Permission", "Source", "group_name"]
