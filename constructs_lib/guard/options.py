"""What the command-line tools (``admin-port-guard``, ``admin-port-exposure``) share: their parser, and the policy.

The declared policy is the ``admin-port-guard`` context of ``./cdk.json`` (when there is one) or the
file given with ``--config``: the same declaration the CDK app reads. Flags change it further.
"""

from __future__ import annotations

import argparse
import os
import sys

from ..policy import CONTEXT_KEY, GuardPolicy, PolicyError, parse_admin_ports
from ..policy.config import check_reason, is_prefix_list_id, load_policy_file, make_thresholds
from ..policy.reach import DEFAULT_THRESHOLDS


def new_parser(script: str, module: str, description: str) -> argparse.ArgumentParser:
    """A parser named as the user called the tool (``admin-port-guard`` or ``python -m constructs_lib.guard``),
    with ``--version``."""
    run_as_module = bool(sys.argv) and os.path.basename(sys.argv[0]) == "__main__.py"
    parser = argparse.ArgumentParser(prog=f"python -m {module}" if run_as_module else script, description=description,
                                     formatter_class=_HelpFormatter)
    parser.add_argument("--version", action=_Version)
    return parser


class _HelpFormatter(argparse.HelpFormatter):
    """argparse's formatter, sized from the terminal without importing ``shutil`` (argparse builds one per argument)."""

    def __init__(self, prog: str) -> None:
        try:
            width = os.get_terminal_size(sys.stdout.fileno()).columns
        except (OSError, ValueError, AttributeError):
            width = int(os.environ.get("COLUMNS", "80")) if os.environ.get("COLUMNS", "").isdigit() else 80
        super().__init__(prog, width=max(width - 2, 40))


class _Version(argparse.Action):
    """``--version``: the installed package's version (read only when asked: ``importlib.metadata`` is slow)."""

    def __init__(self, option_strings: list[str], dest: str, **_: object) -> None:
        super().__init__(option_strings, dest, nargs=0, help="print the version and exit")

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> None:
        from ..version import package_version

        print(f"{parser.prog} {package_version()}")
        parser.exit()


def add_policy_arguments(parser: argparse.ArgumentParser) -> None:
    policy = parser.add_argument_group("policy (default: the admin-port-guard context of ./cdk.json, if any)")
    policy.add_argument("--config", metavar="FILE", help=f"a cdk.json (its {CONTEXT_KEY} context) or a JSON policy object")
    policy.add_argument("--admin-ports", metavar="PORTS", type=_admin_ports, help="comma-separated TCP admin ports (default: 22,23,3389,5900,5985,5986)")
    policy.add_argument("--broad-ipv4-max", metavar="N", type=int, help=f"most public IPv4 addresses an admin port may be open to (default: {DEFAULT_THRESHOLDS.max_public_ipv4})")
    policy.add_argument("--broad-ipv6-prefix", metavar="LEN", type=int, help=f"largest public IPv6 range, as a prefix length (default: {DEFAULT_THRESHOLDS.max_ipv6_prefix})")
    policy.add_argument("--no-broad-sources", action="store_true", help="turn the BroadAdminSource rule off")
    policy.add_argument(
        "--trust-prefix-list", metavar="PL=REASON", action="append", default=[], type=_trusted,
        help="treat a managed prefix list as admin networks only (repeatable), e.g. pl-0123456789abcdef0='VPN egress (NET-12)'",
    )


def _admin_ports(text: str) -> dict[int, str]:
    import argparse

    try:
        return parse_admin_ports(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _trusted(text: str) -> tuple[str, str]:
    import argparse

    prefix_list_id, _, reason = text.partition("=")
    if not is_prefix_list_id(prefix_list_id):
        raise argparse.ArgumentTypeError(f"{prefix_list_id!r} is not a prefix-list id (pl- and 8 or 17 lowercase hex digits)")
    try:
        return prefix_list_id, check_reason(reason, f"trusting prefix list {prefix_list_id}")
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def policy_from(arguments: argparse.Namespace) -> GuardPolicy:
    """The declared policy (``--config``, else ``./cdk.json``), changed by the flags. Raises ``PolicyError``."""
    path = arguments.config or ("cdk.json" if os.path.isfile("cdk.json") else None)
    policy = GuardPolicy()
    if path is not None:
        try:
            with open(path, encoding="utf-8") as file:
                policy = load_policy_file(path, file.read())
        except OSError as error:
            raise PolicyError(f"cannot read {path}: {error}") from None
    changes: dict[str, object] = {}
    if arguments.admin_ports is not None:
        changes["admin_ports"] = arguments.admin_ports
    if arguments.no_broad_sources:
        changes["thresholds"] = None
    elif arguments.broad_ipv4_max is not None or arguments.broad_ipv6_prefix is not None:
        current = policy.thresholds or DEFAULT_THRESHOLDS
        changes["thresholds"] = make_thresholds(
            arguments.broad_ipv4_max if arguments.broad_ipv4_max is not None else current.max_public_ipv4,
            arguments.broad_ipv6_prefix if arguments.broad_ipv6_prefix is not None else current.max_ipv6_prefix,
        )
    if arguments.trust_prefix_list:
        changes["trusted_prefix_lists"] = {**policy.trusted_prefix_lists, **dict(arguments.trust_prefix_list)}
    if changes:
        changes["origin"] = f"{policy.origin} and command-line flags"
    return policy.replace(**changes) if changes else policy
