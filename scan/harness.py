"""Check the exposure report against a real packet filter: nftables in network namespaces, scanned by nmap.

    python -m scan.harness TEMPLATE_OR_CDK_OUT [--listen WebServer=22,80] [--ports 22,80,443]

From a synthesized template it builds, in network namespaces that only exist on this machine:

* a *switch* namespace holding a bridge, and one namespace per host, each joined to the bridge by a
  veth pair created directly inside the namespaces (nothing in the root namespace, no route out);
* an **internet** host, an **admin** host and one host per EC2 instance, on private test addresses;
* in every instance namespace, the instance's security-group ingress translated to nftables
  (``policy drop`` on input, ``ct state established,related accept``). A CIDR rule admits the hosts
  whose *represented* address lies in the CIDR: the internet host stands for a public IPv4 address
  outside every named non-world CIDR of the templates, the admin host for an address of the first
  named non-world CIDR (the admin CIDR), an instance for its own address. A security-group rule admits
  the addresses of the hosts launched in the source group;
* listeners on the ports each instance serves (default: 22 on every instance, 80 on the web server).

nmap then scans every instance from every other host, and each probed port's state is compared with the
exposure report's prediction: allowed and listening -> ``open``, allowed and not listening ->
``closed``, not allowed -> ``filtered``. Namespaces and processes are removed (by name and PID) even on
failure. Requires root, ``nmap``, ``nft`` (nftables) and ``ip`` (iproute2).
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import secrets
import shutil
import subprocess
import sys
import time
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from constructs_lib.policy import Inventory, load, read_inventory
from constructs_lib.policy.cidr import public_blocks, world_families
from constructs_lib.policy.exposure import Analysis, Target, analyse

INTERNET = "internet"
ADMIN = "admin"
DEFAULT_PORTS = (22, 80, 443)
#: What the reference stack serves: sshd on both instances, httpd (port 80 only, no TLS) on the web server.
DEFAULT_LISTENERS: Mapping[str, tuple[int, ...]] = {"Bastion": (22,), "WebServer": (22, 80)}
TEST_NETWORK = ipaddress.IPv4Network("10.250.0.0/24")
APT_PACKAGES = "nmap nftables iproute2"

_NMAP_TIMING = (
    "-Pn", "-n", "-sS", "--max-retries", "1", "--initial-rtt-timeout", "100ms", "--max-rtt-timeout", "200ms",
    "--host-timeout", "30s", "--min-rate", "100",
)


class HarnessUnavailable(RuntimeError):
    """The machine lacks what the harness needs (root, nmap, nft, ip)."""


class HarnessError(RuntimeError):
    """The test network could not be built or scanned."""


def missing_requirements() -> list[str]:
    """What is missing to run the harness, as readable items; empty when it can run."""
    missing = []
    if os.geteuid() != 0:
        missing.append("root privileges (network namespaces and nftables need them)")
    for tool, package in (("nmap", "nmap"), ("nft", "nftables"), ("ip", "iproute2")):
        if shutil.which(tool) is None:
            missing.append(f"the `{tool}` command (Debian package {package})")
    return missing


def require_tools() -> None:
    missing = missing_requirements()
    if missing:
        raise HarnessUnavailable(
            "the scan harness cannot run; missing: " + "; ".join(missing)
            + f". Install with: apt-get install -y {APT_PACKAGES} (as root)"
        )


@dataclass(frozen=True)
class Host:
    name: str
    namespace: str
    address: ipaddress.IPv4Address  # on the test network
    represents: ipaddress.IPv4Address  # whom it stands for when CIDRs are matched
    groups: tuple[str, ...] = ()
    target: Target | None = None


@dataclass(frozen=True)
class Probe:
    source: str
    target: str
    port: int
    predicted: str
    observed: str

    @property
    def agrees(self) -> bool:
        return self.predicted == self.observed


@dataclass
class ScanResult:
    template: str
    probes: list[Probe] = field(default_factory=list)
    nft_rulesets: dict[str, str] = field(default_factory=dict)
    nmap_output: dict[tuple[str, str], str] = field(default_factory=dict)
    seconds: float = 0.0

    def observed(self, source: str, target: str) -> dict[int, str]:
        return {p.port: p.observed for p in self.probes if p.source == source and p.target == target}

    def predicted(self, source: str, target: str) -> dict[int, str]:
        return {p.port: p.predicted for p in self.probes if p.source == source and p.target == target}

    def nmap_lines(self, source: str, target: str) -> list[str]:
        """nmap's own port table (``22/tcp open ssh``) for one scan, read from its XML output."""
        root = ElementTree.fromstring(self.nmap_output[(source, target)])
        lines = [f"{'PORT':<9} {'STATE':<9} SERVICE"]
        for port in root.iter("port"):
            state = port.find("state")
            service = port.find("service")
            lines.append(f"{port.get('portid') + '/' + port.get('protocol'):<9} {state.get('state') if state is not None else '?':<9} "
                         f"{service.get('name') if service is not None else ''}")
        return lines

    @property
    def mismatches(self) -> list[Probe]:
        return [p for p in self.probes if not p.agrees]

    def table(self) -> str:
        lines = [f"{'from':<10} {'to':<12} {'port':<9} {'predicted':<10} {'nmap':<10} ", "-" * 56]
        for p in self.probes:
            lines.append(
                f"{p.source:<10} {p.target:<12} {str(p.port) + '/tcp':<9} {p.predicted:<10} {p.observed:<10} "
                + ("ok" if p.agrees else "MISMATCH")
            )
        return "\n".join(lines)


def compare(predicted: Mapping[tuple[str, str, int], str], observed: Mapping[tuple[str, str, int], str]) -> list[Probe]:
    """Pair predictions with observations (``(source, target, port) -> state``); a probe missing on either
    side counts as a mismatch (state ``missing``)."""
    keys = list(predicted) + [key for key in observed if key not in predicted]
    return [Probe(s, t, port, predicted.get((s, t, port), "missing"), observed.get((s, t, port), "missing"))
            for s, t, port in keys]


def expected_state(target: Target, source: Host, port: int, listening: Iterable[int]) -> str:
    """The exposure report's prediction for one TCP port, as nmap names port states."""
    if source.name == INTERNET:
        allowed = target.allows("tcp", port, source="internet")
    else:
        allowed = target.allows("tcp", port, source="host", address=str(source.represents), source_groups=source.groups)
    if not allowed:
        return "filtered"
    return "open" if port in listening else "closed"


def internet_address(inventory: Inventory) -> ipaddress.IPv4Address:
    """A public IPv4 address outside every IPv4 CIDR of the templates that does not by itself cover the internet.

    Traffic from it is then admitted only where the CIDRs together cover the whole internet, which is
    what "reachable from the internet" means.
    """
    partial = {p.source.network for p in inventory.permissions
               if p.source.network is not None and p.source.network.version == 4 and not world_families([p.source.network])}
    for block in public_blocks(4):
        for candidate in (block.first + block.num_addresses // 2, block.first + 1):
            if not any((4, candidate) in network for network in partial):
                return ipaddress.IPv4Address(candidate)
    raise HarnessError("every sampled public IPv4 address lies in a named CIDR: cannot place the internet host")


def admin_address(report: Analysis) -> ipaddress.IPv4Address | None:
    for target in report.targets:
        for row in target.cidrs:
            network = ipaddress.ip_network(row.cidr)
            if network.version == 4 and row.scope != "world":
                return next(iter(network.hosts()), network.network_address)
    return None


def nft_ruleset(host: Host, inventory: Inventory, hosts: Sequence[Host]) -> str:
    """The host's security groups as one nftables table: stateful, default drop on input."""
    rules = []
    for permission in inventory.permissions:
        if permission.group not in host.groups or not permission.certain:
            continue
        source = permission.source
        if source.kind == "cidr" and source.network is not None and source.network.version == 4:
            members = [h for h in hosts if h is not host and (4, int(h.represents)) in source.network]
        elif source.kind == "security-group":
            members = [h for h in hosts if h is not host and source.label in h.groups]
        else:
            continue  # IPv6 sources (the test network is IPv4), unknown sources: nothing to admit
        if not members:
            continue
        addresses = "{ " + ", ".join(str(h.address) for h in members) + " }"
        if permission.protocol in ("tcp", "udp"):
            low, high = permission.ports
            ports = str(low) if low == high else f"{low}-{high}"
            match = f"{permission.protocol} dport {ports}"
        elif permission.protocol == "all":
            match = ""
        elif permission.protocol in ("icmp",) or permission.protocol.isdigit():
            match = f"ip protocol {permission.protocol}"
        else:
            continue
        comment = f"{permission.rule_label} from {source.label}"[:120].replace('"', "'")
        rules.append(f'        ip saddr {addresses} {match} accept comment "{comment}"'.replace("  accept", " accept"))
    return "\n".join([
        "table inet security_group {",
        "    chain input {",
        "        type filter hook input priority 0; policy drop;",
        "        ct state established,related accept",
        "        iif lo accept",
        *rules,
        "    }",
        "}",
    ]) + "\n"


_LISTENER = r"""
import selectors, socket, sys
selector = selectors.DefaultSelector()
for port in map(int, sys.argv[1:]):
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("0.0.0.0", port))
    server.listen(64)
    selector.register(server, selectors.EVENT_READ)
print("ready", flush=True)
while True:
    for key, _ in selector.select():
        connection, _ = key.fileobj.accept()
        connection.close()
"""


class TestNetwork:
    """Namespaces, veths, nftables and listeners for one scan; ``close()`` removes all of it."""

    def __init__(self) -> None:
        self.prefix = f"apgscan{os.getpid() % 10000}{secrets.token_hex(2)}"
        self.namespaces: list[str] = []
        self.processes: list[subprocess.Popen] = []
        self.switch = self._namespace("sw")
        self._run("ip", "-n", self.switch, "link", "add", "br0", "type", "bridge")
        self._run("ip", "-n", self.switch, "link", "set", "br0", "up")
        self._ports = 0

    def _run(self, *command: str, stdin: str | None = None) -> str:
        completed = subprocess.run(command, input=stdin, capture_output=True, text=True, timeout=120)
        if completed.returncode != 0:
            raise HarnessError(f"`{' '.join(command)}` failed ({completed.returncode}): {completed.stderr.strip()}")
        return completed.stdout

    def _namespace(self, suffix: str) -> str:
        name = f"{self.prefix}-{suffix}"
        self._run("ip", "netns", "add", name)
        self.namespaces.append(name)
        self._run("ip", "-n", name, "link", "set", "lo", "up")
        return name

    def add_host(self, suffix: str, address: ipaddress.IPv4Address) -> str:
        namespace = self._namespace(suffix)
        self._ports += 1
        port = f"p{self._ports}"
        # Both ends are created inside the namespaces: nothing appears in the root namespace.
        self._run("ip", "-n", self.switch, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", namespace)
        self._run("ip", "-n", self.switch, "link", "set", port, "master", "br0", "up")
        self._run("ip", "-n", namespace, "addr", "add", f"{address}/{TEST_NETWORK.prefixlen}", "dev", "eth0")
        self._run("ip", "-n", namespace, "link", "set", "eth0", "up")
        return namespace

    def load_nft(self, namespace: str, ruleset: str) -> None:
        self._run("ip", "netns", "exec", namespace, "nft", "-f", "-", stdin=ruleset)

    def listen(self, namespace: str, ports: Sequence[int]) -> None:
        if not ports:
            return
        process = subprocess.Popen(
            ["ip", "netns", "exec", namespace, sys.executable, "-c", _LISTENER, *map(str, ports)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        self.processes.append(process)
        line = process.stdout.readline()
        if line.strip() != "ready":
            raise HarnessError(f"listener on {namespace} ports {list(ports)} did not start: {process.stderr.read()}")

    def nmap(self, namespace: str, address: ipaddress.IPv4Address, ports: Sequence[int]) -> tuple[dict[int, str], str]:
        xml = self._run("ip", "netns", "exec", namespace, "nmap", *_NMAP_TIMING, "-p", ",".join(map(str, ports)),
                        "-oX", "-", str(address))
        states: dict[int, str] = {}
        root = ElementTree.fromstring(xml)
        for port in root.iter("port"):
            state = port.find("state")
            states[int(port.get("portid"))] = state.get("state") if state is not None else "unknown"
        return states, xml

    def close(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=5)
        self.processes.clear()
        for namespace in reversed(self.namespaces):
            # Killing remaining processes in the namespace by PID, then deleting it.
            pids = subprocess.run(["ip", "netns", "pids", namespace], capture_output=True, text=True).stdout.split()
            for pid in pids:
                try:
                    os.kill(int(pid), 9)
                except (ProcessLookupError, ValueError):
                    pass
            subprocess.run(["ip", "netns", "del", namespace], capture_output=True)
        self.namespaces.clear()


def _parse_listeners(items: Sequence[str] | None) -> dict[str, tuple[int, ...]]:
    if not items:
        return dict(DEFAULT_LISTENERS)
    result = {}
    for item in items:
        name, _, ports = item.partition("=")
        result[name] = tuple(int(port) for port in ports.split(",") if port)
    return result


def run_scan(
    paths: Sequence[str | Path],
    *,
    listeners: Mapping[str, Sequence[int]] | None = None,
    ports: Sequence[int] = DEFAULT_PORTS,
    sources: Sequence[str] | None = None,
) -> ScanResult:
    """Build the test network for the templates at ``paths``, scan it and compare with the exposure report.

    ``sources``: the hosts that scan (``internet``, ``admin`` or instance names); default all of them.
    Every source scans every instance other than itself.
    """
    require_tools()
    started = time.monotonic()
    templates = load(paths)
    inventory = read_inventory(templates)
    report = analyse(templates, inventory=inventory)
    listeners = dict(DEFAULT_LISTENERS if listeners is None else listeners)
    instances = [t for t in report.targets if t.kind == "instance"]
    if not instances:
        raise HarnessError(f"no EC2 instance in {', '.join(map(str, paths))}: nothing to scan")
    addresses = iter(TEST_NETWORK.hosts())
    hosts = [Host(INTERNET, "", (a := next(addresses)), internet_address(inventory))]
    admin = admin_address(report)
    a = next(addresses)
    if admin is not None:
        hosts.append(Host(ADMIN, "", a, admin))
    for target in instances:
        a = next(addresses)
        hosts.append(Host(target.name, "", a, a, target.groups, target))
    result = ScanResult(", ".join(map(str, paths)))
    network = TestNetwork()
    try:
        placed = []
        for index, host in enumerate(hosts):
            namespace = network.add_host(f"h{index}", host.address)
            placed.append(Host(host.name, namespace, host.address, host.represents, host.groups, host.target))
        hosts = placed
        for host in hosts:
            if host.target is None:
                continue
            ruleset = nft_ruleset(host, inventory, hosts)
            result.nft_rulesets[host.name] = ruleset
            network.load_nft(host.namespace, ruleset)
            network.listen(host.namespace, listeners.get(host.name, ()))
        predicted: dict[tuple[str, str, int], str] = {}
        observed: dict[tuple[str, str, int], str] = {}
        for source in hosts:
            if sources is not None and source.name not in sources:
                continue
            for target_host in hosts:
                if target_host.target is None or target_host is source:
                    continue
                states, xml = network.nmap(source.namespace, target_host.address, ports)
                result.nmap_output[(source.name, target_host.name)] = xml
                for port in ports:
                    key = (source.name, target_host.name, port)
                    predicted[key] = expected_state(target_host.target, source, port, listeners.get(target_host.name, ()))
                    observed[key] = states.get(port, "missing")
        result.probes = compare(predicted, observed)
    finally:
        network.close()
    result.seconds = time.monotonic() - started
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scan.harness", description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="+", help="template files or cdk.out directories")
    parser.add_argument("--listen", action="append", metavar="INSTANCE=PORT,...",
                        help="ports an instance serves (repeatable); default: Bastion=22 WebServer=22,80")
    parser.add_argument("--ports", default=",".join(map(str, DEFAULT_PORTS)), help="TCP ports nmap probes")
    parser.add_argument("--from", dest="sources", action="append", help="scan only from these hosts (repeatable)")
    parser.add_argument("--nmap", action="store_true", help="also print nmap's port table of every scan")
    parser.add_argument("--show-rules", action="store_true", help="print the nftables ruleset of every instance")
    args = parser.parse_args(argv)
    try:
        result = run_scan(args.paths, listeners=_parse_listeners(args.listen),
                          ports=[int(p) for p in args.ports.split(",")], sources=args.sources)
    except HarnessUnavailable as error:
        print(f"scan: {error}", file=sys.stderr)
        return 3
    except HarnessError as error:
        print(f"scan: {error}", file=sys.stderr)
        return 2
    print(f"Scan of {result.template} ({result.seconds:.1f} s): exposure report prediction vs nmap")
    if args.show_rules:
        for name, ruleset in result.nft_rulesets.items():
            print(f"\n# nftables on {name}\n{ruleset}")
    print(result.table())
    if args.nmap:
        for (source, target) in result.nmap_output:
            print(f"\n# nmap from {source} to {target}")
            print("\n".join(result.nmap_lines(source, target)))
    if result.mismatches:
        print(f"\n{len(result.mismatches)} port(s) where nmap disagrees with the exposure report", file=sys.stderr)
        return 1
    print(f"\nAll {len(result.probes)} probed ports agree with the exposure report.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
