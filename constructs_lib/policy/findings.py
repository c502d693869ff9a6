"""What the guard reports: rule ids, their documentation, and findings."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


#: The guard's name: the cdk-nag pack name and the prefix of every rule name it reports.
PACK_NAME = "AdminPortGuard"


class Rule(Enum):
    """The guard's rules. The value is the rule id, also used by cdk-nag, SARIF and acknowledgements."""

    WORLD_OPEN_ADMIN_PORT = "WorldOpenAdminPort"
    UNVERIFIABLE_INGRESS = "UnverifiableIngress"
    MALFORMED_INGRESS = "MalformedIngress"
    VALIDATION_FAILED = "ValidationFailed"

    @property
    def summary(self) -> str:
        return _SUMMARIES[self]

    @property
    def fix(self) -> str:
        return _FIXES[self]


_SUMMARIES = {
    Rule.WORLD_OPEN_ADMIN_PORT: "An admin port is reachable from the whole internet (IPv4 or IPv6).",
    Rule.UNVERIFIABLE_INGRESS: "An ingress rule that may reach an admin port cannot be evaluated at synth time.",
    Rule.MALFORMED_INGRESS: "An ingress rule is malformed, so what it would allow cannot be trusted.",
    Rule.VALIDATION_FAILED: "A validation plugin (this guard or another) crashed, so the synth was not checked.",
}

_FIXES = {
    Rule.WORLD_OPEN_ADMIN_PORT: (
        "Allow the admin port only from a bastion security group (SourceSecurityGroupId) or from named "
        "admin networks; use Session Manager instead of inbound SSH/RDP where possible."
    ),
    Rule.UNVERIFIABLE_INGRESS: (
        "Use a literal CIDR, a parameter with AllowedValues, a prefix list defined in the same app, or a "
        "security-group source; or acknowledge the finding with the reason the source is safe."
    ),
    Rule.MALFORMED_INGRESS: (
        "Write the rule as EC2 expects: IpProtocol tcp/udp/icmp/icmpv6/-1 or a protocol number, FromPort <= "
        "ToPort within 0-65535, exactly one source, and a CIDR of the form address/length without host bits."
    ),
    Rule.VALIDATION_FAILED: (
        "Read the error, fix the app or the plugin, and synthesize again; a crashed check is never a pass."
    ),
}


@dataclass(frozen=True, order=True)
class Location:
    """Where a finding is anchored: a resource of a template (and its CDK construct path, if known)."""

    template: str
    logical_id: str
    construct_path: str | None = None
    template_path: str | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Finding:
    """One violation of a rule at one location (for world-open ports: one port of one security group)."""

    location: Location
    rule: Rule
    message: str
    port: int | None = None
    protocol: str | None = None
    sources: tuple[str, ...] = ()
    contributors: tuple[str, ...] = ()
    acknowledgement: str | None = None

    @property
    def rule_id(self) -> str:
        return self.rule.value

    @property
    def fix(self) -> str:
        return self.rule.fix

    @property
    def check_name(self) -> str:
        """The rule name with the port for world-open findings: ``WorldOpenAdminPort[22]``.

        Acknowledgements name this, so acknowledging SSH never silences RDP.
        """
        return f"{self.rule.value}[{self.port}]" if self.rule is Rule.WORLD_OPEN_ADMIN_PORT else self.rule.value

    @property
    def rule_name(self) -> str:
        """The name cdk-nag reports, ``AdminPortGuard-WorldOpenAdminPort[22]``; prefix ``AdminPortGuard::`` to acknowledge."""
        return f"{PACK_NAME}-{self.check_name}"

    def sort_key(self) -> tuple:
        return (self.location.template, self.location.logical_id, self.rule.value, self.port or 0, self.message)
