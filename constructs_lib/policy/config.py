"""The guard's policy: which ports are admin ports, how broad a source may be, which prefix lists are trusted.

One declaration serves every front end. In a CDK app it is the ``admin-port-guard`` context key
(``cdk.json``), which the constructs and the plugin read from the app and the CLI reads from
``cdk.json`` (or ``--config FILE``)::

    "context": {
      "admin-port-guard": {
        "adminPorts": [22, 3389],
        "broadSources": {"maxPublicIpv4Addresses": 65536, "maxIpv6Prefix": 48},
        "trustedPrefixLists": {"pl-0123456789abcdef0": "corporate VPN egress, managed by NetOps (NET-12)"}
      }
    }

``broadSources`` may be ``false`` to turn the broad-source rule off. Every key is optional; an unknown
key, or a value of the wrong shape, is an error (a misspelled trust declaration must not pass silently).
"""

from __future__ import annotations

from .ports import normalize_admin_ports
from .reach import DEFAULT_THRESHOLDS, Thresholds

CONTEXT_KEY = "admin-port-guard"
#: The key of a resource's ``Metadata`` the guard reads: acknowledgements in raw templates (the CLI), and a
#: security group's promise of SSH only from security groups (``sshFrom: security-groups``, the core).
METADATA_KEY = CONTEXT_KEY
#: The promise, under ``METADATA_KEY``, that a group takes SSH only from security groups (``WebServerSecurityGroup``).
SSH_PROMISE = {"sshFrom": "security-groups"}
_KEYS = ("adminPorts", "broadSources", "trustedPrefixLists")
_HEX = frozenset("0123456789abcdef")
MIN_REASON = 10


class PolicyError(ValueError):
    """A policy declaration of the wrong shape."""


def is_prefix_list_id(value: object) -> bool:
    """``pl-`` followed by 8 or 17 lowercase hex digits."""
    return (
        isinstance(value, str) and value.startswith("pl-") and len(value) in (11, 20) and _HEX.issuperset(value[3:])
    )


def check_reason(reason: object, what: str) -> str:
    """``reason`` stripped, or ``PolicyError`` when it is not a specific reason (at least 10 characters)."""
    if not isinstance(reason, str) or len(reason.strip()) < MIN_REASON:
        raise PolicyError(f"{what} needs a specific reason (at least {MIN_REASON} characters): who decided, and why")
    return reason.strip()


class GuardPolicy:
    """Admin ports ``{port: name}``, broad-source ``thresholds`` (``None``: rule off) and
    ``trusted_prefix_lists`` ``{id: reason}``; ``origin`` says where it was declared (for reports)."""

    __slots__ = ("admin_ports", "thresholds", "trusted_prefix_lists", "origin")

    def __init__(
        self,
        admin_ports: object = None,
        thresholds: Thresholds | None = DEFAULT_THRESHOLDS,
        trusted_prefix_lists: dict[str, str] | None = None,
        origin: str = "defaults",
    ) -> None:
        self.admin_ports = normalize_admin_ports(admin_ports)
        self.thresholds = _thresholds(thresholds)
        trusted = {}
        for prefix_list_id, reason in (trusted_prefix_lists or {}).items():
            if not is_prefix_list_id(prefix_list_id):
                raise PolicyError(
                    f"trusted prefix list {prefix_list_id!r} is not a prefix-list id (pl- and 8 or 17 lowercase hex digits)"
                )
            trusted[prefix_list_id] = check_reason(reason, f"trusting prefix list {prefix_list_id}")
        self.trusted_prefix_lists = trusted
        self.origin = origin

    @classmethod
    def from_mapping(cls, data: object, origin: str) -> GuardPolicy:
        """The policy declared by ``data`` (the ``admin-port-guard`` object); ``None`` means the defaults."""
        if data is None:
            return cls(origin="defaults")
        if not isinstance(data, dict):
            raise PolicyError(f"{origin}: {CONTEXT_KEY} must be an object with keys {', '.join(_KEYS)}, not {data!r}")
        unknown = sorted(set(data) - set(_KEYS))
        if unknown:
            raise PolicyError(f"{origin}: unknown {CONTEXT_KEY} key(s) {', '.join(map(repr, unknown))}; known: {', '.join(_KEYS)}")
        try:
            return cls(
                data.get("adminPorts"),
                _thresholds_from(data.get("broadSources", True)),
                _trusted_from(data.get("trustedPrefixLists")),
                origin,
            )
        except ValueError as error:
            raise PolicyError(f"{origin}: {error}") from None

    def replace(self, **changes: object) -> GuardPolicy:
        values = {name: getattr(self, name) for name in self.__slots__}
        values.update(changes)
        return GuardPolicy(**values)

    def to_mapping(self) -> dict[str, object]:
        """The policy as the ``admin-port-guard`` object (for reports)."""
        broad: object = False
        if self.thresholds is not None:
            broad = {"maxPublicIpv4Addresses": self.thresholds.max_public_ipv4, "maxIpv6Prefix": self.thresholds.max_ipv6_prefix}
        return {"adminPorts": sorted(self.admin_ports), "broadSources": broad, "trustedPrefixLists": dict(self.trusted_prefix_lists)}


def _thresholds(value: object) -> Thresholds | None:
    if value is None or isinstance(value, Thresholds):
        return value
    raise PolicyError(f"broad-source thresholds {value!r} must be a Thresholds or None")


def _thresholds_from(value: object) -> Thresholds | None:
    if value is False:
        return None
    if value is True:
        return DEFAULT_THRESHOLDS
    if not isinstance(value, dict) or set(value) - {"maxPublicIpv4Addresses", "maxIpv6Prefix"}:
        raise PolicyError(
            f"broadSources must be false or an object with maxPublicIpv4Addresses and/or maxIpv6Prefix, not {value!r}"
        )
    ipv4 = value.get("maxPublicIpv4Addresses", DEFAULT_THRESHOLDS.max_public_ipv4)
    ipv6 = value.get("maxIpv6Prefix", DEFAULT_THRESHOLDS.max_ipv6_prefix)
    return make_thresholds(ipv4, ipv6)


def make_thresholds(max_public_ipv4: object, max_ipv6_prefix: object) -> Thresholds:
    """``Thresholds`` from untrusted values: a count of 1-2^32 IPv4 addresses and an IPv6 prefix length 1-128."""
    if isinstance(max_public_ipv4, bool) or not isinstance(max_public_ipv4, int) or not 1 <= max_public_ipv4 <= 1 << 32:
        raise PolicyError(f"maxPublicIpv4Addresses {max_public_ipv4!r} must be a whole number from 1 to 4294967296")
    if isinstance(max_ipv6_prefix, bool) or not isinstance(max_ipv6_prefix, int) or not 1 <= max_ipv6_prefix <= 128:
        raise PolicyError(f"maxIpv6Prefix {max_ipv6_prefix!r} must be a prefix length from 1 to 128")
    return Thresholds(max_public_ipv4, max_ipv6_prefix)


def _trusted_from(value: object) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise PolicyError(f'trustedPrefixLists must be an object {{"pl-...": "reason"}}, not {value!r}')
    return value


def load_policy_file(path: str, text: str) -> GuardPolicy:
    """The policy in a file: a ``cdk.json`` (its ``context`` key ``admin-port-guard``), a ``pyproject.toml`` (its
    ``[tool.admin-port-guard]`` table), a YAML file (``.admin-port-guard.yaml``) or a JSON file holding the object
    itself; a file that declares none (a ``cdk.json`` without the key) means the defaults."""
    declared = read_declaration(path, text)
    return GuardPolicy.from_mapping(declared[0], declared[1]) if declared is not None else GuardPolicy()


def read_declaration(path: str, text: str) -> tuple[object, str] | None:
    """The ``admin-port-guard`` object ``text`` (the file ``path``) declares and where, or ``None`` when a
    ``cdk.json`` or ``pyproject.toml`` declares none. ``PolicyError`` when the file cannot be parsed."""
    name = path.replace("\\", "/").rsplit("/", 1)[-1]
    if name.endswith(".toml"):
        import tomllib

        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as error:
            raise PolicyError(f"{path} is not valid TOML: {error}") from None
        tool = data.get("tool")
        if not isinstance(tool, dict) or CONTEXT_KEY not in tool:
            return None
        return tool[CONTEXT_KEY], f"{path} [tool.{CONTEXT_KEY}]"
    if name.endswith((".yaml", ".yml")):
        import yaml

        try:
            return yaml.safe_load(text), path
        except yaml.YAMLError as error:
            raise PolicyError(f"{path} is not valid YAML: {error}") from None
    import json

    try:
        data = json.loads(text)
    except ValueError as error:
        raise PolicyError(f"{path} is not valid JSON: {error}") from None
    if isinstance(data, dict) and ("context" in data or "app" in data):
        context = data.get("context") or {}
        if not isinstance(context, dict) or CONTEXT_KEY not in context:
            return None
        return context[CONTEXT_KEY], f"{path} (context {CONTEXT_KEY})"
    return data, path
