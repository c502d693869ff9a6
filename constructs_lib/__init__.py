"""Constructs and a synth-time guard that keep admin ports off the whole internet.

Exports are loaded lazily, so the pure-Python policy core (``constructs_lib.policy``) and the
guard CLI never pay for importing ``aws_cdk`` and starting jsii.
"""

_EXPORTS = {
    "BastionSecurityGroup": "constructs_lib.security_groups",
    "WebServerSecurityGroup": "constructs_lib.security_groups",
    "BastionWebTier": "constructs_lib.security_groups",
    "AdminPortGuard": "constructs_lib.plugin",
    "add_admin_port_guard": "constructs_lib.plugin",
    "acknowledge_admin_port_finding": "constructs_lib.plugin",
    "AdminPortGuardConfigRule": "constructs_lib.config_rule.construct",
    "AdminPortGuardMemberRole": "constructs_lib.config_rule.construct",
    "Remediation": "constructs_lib.config_rule.construct",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'constructs_lib' has no attribute {name!r}")
    from importlib import import_module  # only when a construct is asked for (the CLI never does)

    return getattr(import_module(_EXPORTS[name]), name)
