"""What the command-line tools (``admin-port-guard``, ``admin-port-exposure``) share: their parser, and the policy.

Which policy judges the input:

1. A cloud assembly synthesized with the guard registered records the policy it was judged under
   (``admin-port-guard-report.json``): that one, whatever folder the CLI runs in, so the same ``cdk.out``
   gets the same verdict anywhere. Policy flags or ``--config`` that ask for a different one are an error
   (re-synthesize instead); a declaration found around the working directory that differs is named in a
   note on standard error, and not used.
2. Otherwise (templates, or an assembly that records none): ``--config FILE``, else the nearest declaration
   found from the working directory upward: ``.admin-port-guard.yaml``, ``[tool.admin-port-guard]`` in
   ``pyproject.toml`` or the ``admin-port-guard`` context of ``cdk.json`` (two in one folder are an error);
   the flags change it further.
"""

from __future__ import annotations

import argparse
import os
import sys

from ..policy import CONTEXT_KEY, GuardPolicy, PolicyError, parse_admin_ports
from ..policy.config import check_reason, is_prefix_list_id, load_policy_file, make_thresholds, read_declaration
from ..policy.ports import PROFILES
from ..policy.reach import DEFAULT_THRESHOLDS

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

#: The guard's own configuration file, found from the working directory upward.
CONFIG_FILE = ".admin-port-guard.yaml"
#: Where a folder may declare the policy, in the order they are named in messages.
_DECLARING_FILES = (CONFIG_FILE, "pyproject.toml", "cdk.json")


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
    policy = parser.add_argument_group(
        f"policy (a cdk.out's recorded one; else {CONFIG_FILE}, pyproject.toml [tool.{CONTEXT_KEY}] or cdk.json, nearest upward)")
    policy.add_argument("--config", metavar="FILE", help=f"a cdk.json (its {CONTEXT_KEY} context), a pyproject.toml, a {CONFIG_FILE} or a JSON policy object")
    policy.add_argument("--admin-ports", metavar="PORTS", type=_admin_ports,
                        help=f"comma-separated TCP admin ports and profiles ({', '.join(PROFILES)}; default: the default profile, 22,23,3389,5900,5985,5986)")
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


def policy_from(arguments: argparse.Namespace, paths: Sequence[str] = ()) -> GuardPolicy:
    """The policy that judges ``paths`` (see the module docstring). Raises ``PolicyError``."""
    from .validation_report import recorded_policy

    recorded = [(path, policy) for path in paths if (policy := recorded_policy(path)) is not None]
    changes = _flag_changes(arguments)
    explicit = arguments.config is not None or bool(changes)
    declared = _declared(arguments.config)
    asked = _changed(declared, changes)
    if not recorded:
        return asked
    (first, policy), *others = recorded
    for other, other_policy in others:
        if other_policy.to_mapping() != policy.to_mapping():
            raise PolicyError(f"{first} and {other} were synthesized under different policies ({policy.to_mapping()} and "
                              f"{other_policy.to_mapping()}): check them one at a time")
    if asked.to_mapping() != policy.to_mapping():
        if explicit:
            raise PolicyError(
                f"{first} was synthesized and judged under the policy {policy.to_mapping()} ({policy.origin}); the command line asks "
                f"for {asked.to_mapping()} ({asked.origin}). A cloud assembly is judged under the policy it was synthesized with: "
                "change the app's admin-port-guard context and synthesize again, or drop the policy flags"
            )
        if declared.origin != "defaults":
            print(f"note: {declared.origin} declares {declared.to_mapping()}, not the policy {first} was synthesized with; "
                  f"judging it under the recorded one ({policy.origin})", file=sys.stderr)
    return policy


def _declared(config: str | None) -> GuardPolicy:
    """The policy of ``--config``, else of the nearest folder upward from the working directory that declares one."""
    if config is not None:
        return _load(config)
    directory = os.getcwd()
    while True:
        found = [path for path in (os.path.join(directory, name) for name in _DECLARING_FILES) if os.path.isfile(path) and _declares(path)]
        if len(found) > 1:
            raise PolicyError(f"the policy is declared twice, in {' and '.join(found)}: keep one declaration")
        if found:
            return _load(found[0])
        parent = os.path.dirname(directory)
        if parent == directory:
            return GuardPolicy()
        directory = parent


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as file:
            return file.read()
    except OSError as error:
        raise PolicyError(f"cannot read {path}: {error}") from None


def _declares(path: str) -> bool:
    return os.path.basename(path) == CONFIG_FILE or read_declaration(path, _read(path)) is not None


def _load(path: str) -> GuardPolicy:
    return load_policy_file(path, _read(path))


def _flag_changes(arguments: argparse.Namespace) -> dict[str, Any]:
    """What the flags ask to change, as ``GuardPolicy.replace`` arguments (thresholds as (ipv4, ipv6) overrides)."""
    changes: dict[str, Any] = {}
    if arguments.admin_ports is not None:
        changes["admin_ports"] = arguments.admin_ports
    if arguments.no_broad_sources:
        changes["thresholds"] = None
    elif arguments.broad_ipv4_max is not None or arguments.broad_ipv6_prefix is not None:
        changes["thresholds"] = (arguments.broad_ipv4_max, arguments.broad_ipv6_prefix)
    if arguments.trust_prefix_list:
        changes["trusted_prefix_lists"] = dict(arguments.trust_prefix_list)
    return changes


def _changed(policy: GuardPolicy, changes: dict[str, Any]) -> GuardPolicy:
    if not changes:
        return policy
    changes = dict(changes)
    if isinstance(changes.get("thresholds"), tuple):
        ipv4, ipv6 = changes["thresholds"]
        current = policy.thresholds or DEFAULT_THRESHOLDS
        changes["thresholds"] = make_thresholds(ipv4 if ipv4 is not None else current.max_public_ipv4,
                                                ipv6 if ipv6 is not None else current.max_ipv6_prefix)
    if "trusted_prefix_lists" in changes:
        changes["trusted_prefix_lists"] = {**policy.trusted_prefix_lists, **changes["trusted_prefix_lists"]}
    changes["origin"] = f"{policy.origin} and command-line flags"
    return policy.replace(**changes)
