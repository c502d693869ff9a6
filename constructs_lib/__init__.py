"""Constructs and a synth-time guard that keep admin ports off the whole internet.

Exports are loaded lazily, so the pure-Python policy core (``constructs_lib.policy``) and the
guard CLI never pay for importing ``aws_cdk`` and starting jsii. Type checkers read the imports
below instead, so ``from constructs_lib import BastionWebTier`` is as typed as the submodule's.
"""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from constructs_lib.config_rule.construct import AdminPortGuardConfigRule as AdminPortGuardConfigRule
    from constructs_lib.config_rule.construct import AdminPortGuardMemberRole as AdminPortGuardMemberRole
    from constructs_lib.config_rule.construct import Remediation as Remediation
    from constructs_lib.plugin import AdminPortGuard as AdminPortGuard
    from constructs_lib.plugin import acknowledge_admin_port_finding as acknowledge_admin_port_finding
    from constructs_lib.plugin import add_admin_port_guard as add_admin_port_guard
    from constructs_lib.security_groups import WEB_SERVER_SSH_SOURCE as WEB_SERVER_SSH_SOURCE
    from constructs_lib.security_groups import BastionSecurityGroup as BastionSecurityGroup
    from constructs_lib.security_groups import BastionWebTier as BastionWebTier
    from constructs_lib.security_groups import WebServerSecurityGroup as WebServerSecurityGroup

_EXPORTS = {
    "BastionSecurityGroup": "constructs_lib.security_groups",
    "WebServerSecurityGroup": "constructs_lib.security_groups",
    "BastionWebTier": "constructs_lib.security_groups",
    "WEB_SERVER_SSH_SOURCE": "constructs_lib.security_groups",
    "AdminPortGuard": "constructs_lib.plugin",
    "add_admin_port_guard": "constructs_lib.plugin",
    "acknowledge_admin_port_finding": "constructs_lib.plugin",
    "AdminPortGuardConfigRule": "constructs_lib.config_rule.construct",
    "AdminPortGuardMemberRole": "constructs_lib.config_rule.construct",
    "Remediation": "constructs_lib.config_rule.construct",
}

__all__ = sorted(_EXPORTS)

if not TYPE_CHECKING:  # at run time only: a type checker reports a name missing here as missing

    def __getattr__(name: str) -> object:
        if name not in _EXPORTS:
            raise AttributeError(f"module 'constructs_lib' has no attribute {name!r}")
        from importlib import import_module  # only when a construct is asked for (the CLI never does)

        try:
            module = import_module(_EXPORTS[name])
        except ModuleNotFoundError as error:
            if error.name not in _CDK_MODULES:
                raise
            raise ModuleNotFoundError(
                f"constructs_lib.{name} needs the AWS CDK ({error.name} is not installed): install this package with "
                "its cdk extra, e.g. pip install '/path/to/admin-port-guard[cdk]' or "
                "pip install 'admin-port-guard[cdk] @ git+<repository URL>' (the guard CLI alone needs neither)",
                name=error.name,
            ) from error
        return getattr(module, name)

    #: What the constructs import that the guard CLI does not (the ``cdk`` extra).
    _CDK_MODULES = frozenset({"aws_cdk", "constructs", "jsii"})
