"""What the guard reports: its rules, where a finding is anchored, and findings."""

from __future__ import annotations

from collections import namedtuple

#: The guard's name: the plugin name and the prefix of every rule name it reports.
PACK_NAME = "AdminPortGuard"


class Rule:
    """One of the guard's rules. ``id`` is used by the plugin, SARIF and acknowledgements; rules with
    ``per_port`` are reported and acknowledged per admin port (``WorldOpenAdminPort[22]``)."""

    __slots__ = ("id", "name", "summary", "fix", "per_port")

    def __init__(self, rule_id: str, name: str, summary: str, fix: str, *, per_port: bool = False) -> None:
        self.id, self.name, self.summary, self.fix, self.per_port = rule_id, name, summary, fix, per_port

    @property
    def value(self) -> str:  # the rule id, as it was spelled when rules were an Enum
        return self.id

    def __repr__(self) -> str:
        return f"Rule.{self.id}"

    WORLD_OPEN_ADMIN_PORT: Rule
    BROAD_ADMIN_SOURCE: Rule
    WEB_SERVER_SSH_SOURCE: Rule
    UNVERIFIABLE_INGRESS: Rule
    MALFORMED_INGRESS: Rule
    MALFORMED_TEMPLATE: Rule
    VALIDATION_FAILED: Rule


Rule.WORLD_OPEN_ADMIN_PORT = Rule(
    "WorldOpenAdminPort",
    "Admin port open to the whole internet",
    "An admin port is reachable from the whole internet (IPv4 or IPv6).",
    "Allow the admin port only from a bastion security group (SourceSecurityGroupId) or from named admin networks; "
    "use Session Manager instead of inbound SSH/RDP where possible.",
    per_port=True,
)
Rule.BROAD_ADMIN_SOURCE = Rule(
    "BroadAdminSource",
    "Admin port open to a too-broad public range",
    "An admin port is reachable from more public addresses than the configured limit "
    "(default: more than 65,536 IPv4 addresses, a /16, or an IPv6 range larger than a /48).",
    "Narrow the source to the admin networks that need it (a /32 per workstation, the VPN's egress range), or "
    "reach the host through a bastion or Session Manager; if the range is intended, raise the limit with a reason.",
    per_port=True,
)
Rule.WEB_SERVER_SSH_SOURCE = Rule(
    "WebServerSshSource",
    "SSH to a web server from something other than a security group",
    "A group that promises SSH only from security groups (a WebServerSecurityGroup; in a template, Metadata "
    "admin-port-guard: {sshFrom: security-groups}) admits tcp/22 from a CIDR, a prefix list or an unknown source.",
    "Grant SSH with allow_ssh_from(bastion) (a SourceSecurityGroupId) and put the admin networks on the bastion's group.",
)
Rule.UNVERIFIABLE_INGRESS = Rule(
    "UnverifiableIngress",
    "Ingress that cannot be checked at synth time",
    "A rule that may reach an admin port cannot be evaluated at synth time.",
    "Use a literal CIDR, a parameter with AllowedValues, a prefix list defined in the app (or one declared trusted "
    "in admin-port-guard.trustedPrefixLists), or a security-group source; or acknowledge with the reason it is safe.",
)
Rule.MALFORMED_INGRESS = Rule(
    "MalformedIngress",
    "Malformed ingress rule",
    "An ingress rule is malformed, so what it would allow cannot be trusted.",
    "Write the rule as EC2 expects: IpProtocol tcp/udp/icmp/icmpv6/-1 or a protocol number, FromPort <= ToPort "
    "within 0-65535, exactly one source, and a CIDR of the form address/length.",
)
Rule.MALFORMED_TEMPLATE = Rule(
    "MalformedTemplate",
    "Template CloudFormation would refuse or read differently",
    "The template has a structure CloudFormation would refuse or read differently from how it looks.",
    "Fix the template: unique keys, only CloudFormation's YAML tags, a Resources mapping whose resources are "
    "mappings with a string Type and a Properties mapping.",
)
Rule.VALIDATION_FAILED = Rule(
    "ValidationFailed",
    "The check itself failed",
    "A validation plugin (this guard or another) crashed, so the synth was not checked.",
    "Read the error, fix the app or the plugin, and synthesize again; a crashed check is never a pass.",
)

#: Every rule, in the order reports list them.
RULES = (
    Rule.WORLD_OPEN_ADMIN_PORT,
    Rule.BROAD_ADMIN_SOURCE,
    Rule.WEB_SERVER_SSH_SOURCE,
    Rule.UNVERIFIABLE_INGRESS,
    Rule.MALFORMED_INGRESS,
    Rule.MALFORMED_TEMPLATE,
    Rule.VALIDATION_FAILED,
)

#: Rules a user cannot accept (acknowledge, baseline, skip): fix the app or the template instead.
UNACKNOWLEDGEABLE = (Rule.VALIDATION_FAILED, Rule.MALFORMED_TEMPLATE)


def rule_named(text: str) -> tuple[Rule, int | None]:
    """The rule and port of ``WorldOpenAdminPort[22]``, ``AdminPortGuard-WorldOpenAdminPort[22]`` or
    ``AdminPortGuard::AdminPortGuard-WorldOpenAdminPort[22]`` (the spellings the plugin prints); ``ValueError`` if none."""
    name = text.strip().removeprefix(f"{PACK_NAME}::").removeprefix(f"{PACK_NAME}-")
    rule_id, bracket, rest = name.partition("[")
    rule = next((rule for rule in RULES if rule.id == rule_id), None)
    if rule is None:
        raise ValueError(f"{text!r} names no rule of the guard; known: {', '.join(rule.id for rule in RULES)}")
    port = None
    if bracket:
        digits = rest.removesuffix("]")
        if not rest.endswith("]") or not (digits.isascii() and digits.isdigit()) or not 0 < int(digits) <= 65535:
            raise ValueError(f"{text!r}: the port in brackets must be a TCP port number 1-65535, e.g. {rule_id}[22]")
        port = int(digits)
    return rule, port


def acknowledged_check(rule: Rule, port: int | None) -> str:
    """The check name an acknowledgement of ``rule`` names (per-port rules: at ``port``); ``ValueError`` when
    the rule cannot be acknowledged or the port is missing or superfluous. The plugin's and the CLI's rule."""
    if rule in UNACKNOWLEDGEABLE:
        raise ValueError(f"{rule.id} cannot be acknowledged: fix the error instead (a crashed or unreadable check is never a pass)")
    if rule.per_port:
        if port is None:
            raise ValueError(f"acknowledging {rule.id} needs the port (e.g. port=22)")
        return f"{rule.id}[{port}]"
    if port is not None:
        raise ValueError(f"{rule.id} findings are acknowledged without a port")
    return rule.id


#: Where a finding is anchored: a resource of a template, its CDK construct path if known, the template's file.
Location = namedtuple("Location", "template logical_id construct_path template_path", defaults=(None, None))

#: A source line in the user's code (CDK apps: the line that created the construct), path relative to the repo.
CodeLocation = namedtuple("CodeLocation", "path line")


class Finding(
    namedtuple(
        "Finding",
        "location rule message port protocol sources contributors advice acknowledgement code_location",
        defaults=(None, None, (), (), None, None, None),
    )
):
    """One violation of a rule at one location (for per-port rules: one port of one group or attachment).

    ``sources`` are the sources that make the port open, ``contributors`` the rules that admit them,
    ``advice`` a fix specific to this finding (else the rule's), ``acknowledgement`` the reason it was
    acknowledged, ``code_location`` the user's source line, when the cloud assembly records it.
    """

    __slots__ = ()

    @property
    def rule_id(self) -> str:
        return self.rule.id

    @property
    def fix(self) -> str:
        return self.advice or self.rule.fix

    @property
    def check_name(self) -> str:
        """The rule id, with the port for per-port rules: ``WorldOpenAdminPort[22]``.

        Acknowledgements name this, so acknowledging SSH never silences RDP.
        """
        return f"{self.rule.id}[{self.port}]" if self.rule.per_port else self.rule.id

    @property
    def rule_name(self) -> str:
        """The name the plugin reports, ``AdminPortGuard-WorldOpenAdminPort[22]``; acknowledge ``AdminPortGuard::`` + it."""
        return f"{PACK_NAME}-{self.check_name}"

    @property
    def help_anchor(self) -> str:
        """The anchor of the rule's section in RULES.md (``#worldopenadminport``)."""
        return f"#{self.rule.id.lower()}"

    def sort_key(self) -> tuple[str, str, str, int, str]:
        location = self.location
        return (location.template, location.logical_id, self.rule.id, self.port or 0, self.message)
