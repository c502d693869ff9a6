"""Check the exposure report against a real packet filter: nftables in network namespaces, scanned by nmap.

    python -m scan.harness TEMPLATE_OR_CDK_OUT [--listen WebServer=22,80] [--ports 22,80,443]

Two independent sources meet here. The **prediction** is the exposure report, the policy core's reading
of the templates. The **packet filter** is built from the templates as the local AWS emulator deploys
them (``scan.emulator``: moto, read back with ``DescribeSecurityGroups`` and ``DescribeInstances``), so a
template-reading bug in the core shows up as a disagreement with nmap. In network namespaces that only
exist on this machine the harness builds:

* a *switch* namespace holding a bridge, and one namespace per host, each joined to the bridge by a
  veth pair created directly inside the namespaces (nothing in the root namespace, no route out);
* an **internet** host, an **admin** host and one host per deployed EC2 instance, on private test
  addresses;
* in every instance namespace, the ingress of the instance's deployed security groups as nftables
  (``policy drop`` on input, ``ct state established,related accept``). A CIDR rule admits the hosts
  whose *represented* address lies in the CIDR: the internet host stands for a public IPv4 address
  outside every deployed CIDR but ``/0``, the admin host for an address of the first other deployed
  IPv4 CIDR (the admin CIDR), an instance for its own address. A security-group rule admits the hosts
  of the instances launched in the source group;
* listeners on the ports each instance serves (default: 22 on every instance, 80 on the web server).

nmap then scans every instance from every other host (one nmap per source, all at once), and each
probed port's state is compared with the prediction: allowed and listening -> ``open``, allowed and not
listening -> ``closed``, not allowed -> ``filtered``. ``open`` and ``closed`` are answers and cannot be
wrong; ``filtered`` is the absence of an answer, which a loaded machine can fake, so every filtered port
is probed again, patiently, before it counts. Namespaces and processes are removed (by name and PID) even
on failure. Requires root, ``nmap``, ``nft`` (nftables) and ``ip`` (iproute2).
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
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from constructs_lib.policy import load
from constructs_lib.policy.exposure import Analysis, Target, analyse
from scan.emulator import Deployment, EmulatorError, deploy

INTERNET = "internet"
ADMIN = "admin"
DEFAULT_PORTS = (22, 80, 443)
#: What the reference stack serves: sshd on both instances, httpd (port 80 only, no TLS) on the web server.
DEFAULT_LISTENERS: Mapping[str, tuple[int, ...]] = {"Bastion": (22,), "WebServer": (22, 80)}
TEST_NETWORK = ipaddress.IPv4Network("10.250.0.0/24")
APT_PACKAGES = "nmap nftables iproute2"

#: First pass: quick, since an answer (open, closed) is final whenever it comes.
NMAP_FIRST = ("-Pn", "-n", "-sS", "--max-retries", "1", "--initial-rtt-timeout", "100ms", "--max-rtt-timeout", "200ms",
              "--host-timeout", "30s", "--min-rate", "100")
#: Second pass, on the ports the first found filtered: three probes, each given at least 500 ms to be answered.
NMAP_RECHECK = ("-Pn", "-n", "-sS", "--max-retries", "2", "--min-rtt-timeout", "500ms", "--initial-rtt-timeout", "500ms",
                "--max-rtt-timeout", "1s", "--host-timeout", "60s")


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
    address: ipaddress.IPv4Address  # on the test network
    represents: ipaddress.IPv4Address  # whom it stands for when CIDRs are matched
    predicted_groups: tuple[str, ...] = ()  # its groups in the exposure report
    deployed_groups: tuple[str, ...] = ()  # its groups in the emulator
    target: Target | None = None
    namespace: str = ""


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
    deployed_groups: dict[str, tuple[str, ...]] = field(default_factory=dict)  # instance -> its groups in the emulator
    nft_rulesets: dict[str, str] = field(default_factory=dict)
    services: dict[int, str] = field(default_factory=dict)  # port -> nmap's service name
    #: (source, target, port) -> the state the second probe found for a port the first found filtered.
    rechecked: dict[tuple[str, str, int], str] = field(default_factory=dict)
    seconds: float = 0.0

    def observed(self, source: str, target: str) -> dict[int, str]:
        return {p.port: p.observed for p in self.probes if p.source == source and p.target == target}

    def nmap_lines(self, source: str, target: str) -> list[str]:
        """The scan from ``source`` to ``target`` as nmap prints its port table (``22/tcp open ssh``)."""
        lines = [f"{'PORT':<9} {'STATE':<9} SERVICE"]
        for port, state in self.observed(source, target).items():
            lines.append(f"{str(port) + '/tcp':<9} {state:<9} {self.services.get(port, '')}")
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
        allowed = target.allows("tcp", port, source="host", address=str(source.represents),
                                source_groups=source.predicted_groups)
    if not allowed:
        return "filtered"
    return "open" if port in listening else "closed"


def deployed_cidrs(deployment: Deployment) -> list[ipaddress.IPv4Network]:
    """The IPv4 CIDRs of the deployed groups of every instance, in order, each once."""
    cidrs: list[ipaddress.IPv4Network] = []
    for groups in deployment.instances.values():
        for group in groups:
            for permission in deployment.security_groups[group].get("IpPermissions", []):
                for ip_range in permission.get("IpRanges", []):
                    network = ipaddress.IPv4Network(ip_range["CidrIp"])
                    if network not in cidrs:
                        cidrs.append(network)
    return cidrs


def internet_address(cidrs: Sequence[ipaddress.IPv4Network]) -> ipaddress.IPv4Address:
    """A public IPv4 address outside every CIDR but ``/0``: admitted only by rules open to the whole internet."""
    named = [network for network in cidrs if network.prefixlen > 0]
    for first_octet in range(1, 224):
        candidate = ipaddress.IPv4Address((first_octet << 24) | 0x010101)
        if candidate.is_global and not any(candidate in network for network in named):
            return candidate
    raise HarnessError("every sampled public IPv4 address lies in a deployed CIDR: cannot place the internet host")


def admin_address(cidrs: Sequence[ipaddress.IPv4Network]) -> ipaddress.IPv4Address | None:
    """An address of the first CIDR other than ``/0`` (the admin CIDR), if any."""
    for network in cidrs:
        if network.prefixlen > 0:
            return next(iter(network.hosts()), network.network_address)
    return None


def plan_hosts(report: Analysis, deployment: Deployment) -> list[Host]:
    """The internet host, the admin host (if a CIDR names one) and one host per instance, joined to its prediction."""
    predicted = {target.key: target for target in report.targets if target.kind == "instance"}
    if set(predicted) != set(deployment.instances):
        raise HarnessError(f"instances predicted {sorted(predicted)} differ from those deployed {sorted(deployment.instances)}")
    if not predicted:
        raise HarnessError("no EC2 instance in the templates: nothing to scan")
    cidrs = deployed_cidrs(deployment)
    addresses = iter(TEST_NETWORK.hosts())
    hosts = [Host(INTERNET, next(addresses), internet_address(cidrs))]
    admin = admin_address(cidrs)
    if admin is not None:
        hosts.append(Host(ADMIN, next(addresses), admin))
    for key, target in predicted.items():
        address = next(addresses)
        hosts.append(Host(target.name, address, address, target.groups, deployment.instances[key], target))
    return hosts


_PROTOCOL_NAMES = {"6": "tcp", "17": "udp", "1": "icmp"}


def _nft_match(permission: Mapping[str, Any]) -> str | None:
    """The nftables match for a deployed permission's protocol and ports; ``None`` if not expressible."""
    protocol = str(permission.get("IpProtocol", "")).lower()
    protocol = _PROTOCOL_NAMES.get(protocol, protocol)
    if protocol == "-1":
        return ""
    if protocol in ("tcp", "udp"):
        low, high = permission["FromPort"], permission["ToPort"]
        return f"{protocol} dport {low if low == high else f'{low}-{high}'}"
    if protocol == "icmp" or protocol.isdigit():
        return f"ip protocol {protocol}"
    return None


def nft_ruleset(host: Host, deployment: Deployment, hosts: Sequence[Host]) -> str:
    """The host's deployed security groups as one nftables table: stateful, default drop on input.

    IPv6 ranges and prefix lists admit no host: the test network is IPv4 and has no prefix lists.
    """
    rules = []
    for group_id in host.deployed_groups:
        for permission in deployment.security_groups[group_id].get("IpPermissions", []):
            match = _nft_match(permission)
            if match is None:
                continue
            sources = [(r["CidrIp"], [h for h in hosts if h.represents in ipaddress.IPv4Network(r["CidrIp"])])
                       for r in permission.get("IpRanges", [])]
            sources += [(pair["GroupId"], [h for h in hosts if pair["GroupId"] in h.deployed_groups])
                        for pair in permission.get("UserIdGroupPairs", [])]
            for label, members in sources:
                members = [h for h in members if h is not host]
                if members:
                    addresses = ", ".join(str(h.address) for h in members)
                    comment = f"{group_id} {permission['IpProtocol']} from {label}"
                    rules.append(f'        ip saddr {{ {addresses} }} {match} accept comment "{comment}"'.replace("  accept", " accept"))
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

#: One nmap run: from a namespace, to some addresses, on some ports.
NmapJob = tuple[str, Sequence[ipaddress.IPv4Address], Sequence[int]]


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

    def run_nmaps(self, jobs: Sequence[NmapJob], timing: Sequence[str]) -> list[dict[str, dict[int, tuple[str, str]]]]:
        """Run one nmap per job, all at once; per job: address -> port -> (state, service name)."""
        processes = []
        for namespace, addresses, ports in jobs:
            command = ["ip", "netns", "exec", namespace, "nmap", *timing, "-p", ",".join(map(str, sorted(ports))),
                       "-oX", "-", *map(str, addresses)]
            processes.append(subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
            self.processes.append(processes[-1])
        results = []
        for process in processes:
            xml, errors = process.communicate(timeout=300)
            if process.returncode != 0:
                raise HarnessError(f"`{' '.join(process.args)}` failed ({process.returncode}): {errors.strip()}")
            results.append(_nmap_states(xml))
        return results

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


def _nmap_states(xml: str) -> dict[str, dict[int, tuple[str, str]]]:
    states: dict[str, dict[int, tuple[str, str]]] = {}
    for host in ElementTree.fromstring(xml).iter("host"):
        address = host.find("address").get("addr")
        for port in host.iter("port"):
            state, service = port.find("state"), port.find("service")
            states.setdefault(address, {})[int(port.get("portid"))] = (
                state.get("state") if state is not None else "unknown", service.get("name") if service is not None else "")
    return states


def scan_states(network: TestNetwork, plan: Mapping[Host, Sequence[Host]], ports: Sequence[int],
                result: ScanResult) -> dict[tuple[str, str, int], str]:
    """nmap from each source to its targets: ``(source, target, port) -> state``, filtered ports probed twice."""
    by_address = {str(t.address): t for targets in plan.values() for t in targets}
    sources = list(plan)
    states: dict[tuple[str, str, int], str] = {}
    first = network.run_nmaps([(s.namespace, [t.address for t in plan[s]], ports) for s in sources], NMAP_FIRST)
    for source, found in zip(sources, first):
        for address, port_states in found.items():
            for port, (state, service) in port_states.items():
                states[(source.name, by_address[address].name, port)] = state
                result.services.setdefault(port, service)
    filtered = {s: [t for t in plan[s] if any(states.get((s.name, t.name, p)) == "filtered" for p in ports)] for s in sources}
    retry = [s for s in sources if filtered[s]]
    jobs = [(s.namespace, [t.address for t in filtered[s]],
             sorted({p for t in filtered[s] for p in ports if states.get((s.name, t.name, p)) == "filtered"})) for s in retry]
    for source, found in zip(retry, network.run_nmaps(jobs, NMAP_RECHECK)):
        for address, port_states in found.items():
            for port, (state, _) in port_states.items():
                key = (source.name, by_address[address].name, port)
                if states.get(key) == "filtered":
                    states[key] = result.rechecked[key] = state
    return states


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
    change: Callable[[Callable[[str], Any]], None] | None = None,
) -> ScanResult:
    """Deploy the templates at ``paths`` to the emulator, build the test network from what was deployed, scan
    it and compare with the exposure report.

    ``sources``: the hosts that scan (``internet``, ``admin`` or instance names); default all of them.
    Every source scans every instance other than itself. ``change``: run on the emulator after the deploy
    (``scan.emulator.deploy``), so the packets show a changed deployment against the templates' prediction.
    """
    require_tools()
    started = time.monotonic()
    templates = load(paths)
    report = analyse(templates)
    try:
        deployment = deploy(templates, change)
    except EmulatorError as error:
        raise HarnessError(str(error)) from None
    hosts = plan_hosts(report, deployment)
    listeners = dict(DEFAULT_LISTENERS if listeners is None else listeners)
    result = ScanResult(", ".join(map(str, paths)))
    network = TestNetwork()
    try:
        hosts = [Host(h.name, h.address, h.represents, h.predicted_groups, h.deployed_groups, h.target,
                      network.add_host(f"h{index}", h.address)) for index, h in enumerate(hosts)]
        for host in hosts:
            if host.target is not None:
                result.deployed_groups[host.name] = host.deployed_groups
                result.nft_rulesets[host.name] = nft_ruleset(host, deployment, hosts)
                network.load_nft(host.namespace, result.nft_rulesets[host.name])
                network.listen(host.namespace, listeners.get(host.name, ()))
        plan = {s: [t for t in hosts if t.target is not None and t is not s]
                for s in hosts if sources is None or s.name in sources}
        observed = scan_states(network, plan, ports, result)
        predicted = {(s.name, t.name, port): expected_state(t.target, s, port, listeners.get(t.name, ()))
                     for s, targets in plan.items() for t in targets for port in ports}
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
            print(f"\n# nftables on {name} (its security groups as deployed to the emulator)\n{ruleset}")
    print(result.table())
    answered = [f"{s} -> {t} {p}/tcp {state}" for (s, t, p), state in result.rechecked.items() if state != "filtered"]
    print(f"\n{len(result.rechecked)} filtered port(s) probed again; answered the second time: {', '.join(answered) or 'none'}")
    if args.nmap:
        for source, target in dict.fromkeys((p.source, p.target) for p in result.probes):
            print(f"\n# nmap from {source} to {target}")
            print("\n".join(result.nmap_lines(source, target)))
    if result.mismatches:
        print(f"\n{len(result.mismatches)} port(s) where nmap disagrees with the exposure report", file=sys.stderr)
        return 1
    print(f"\nAll {len(result.probes)} probed ports agree with the exposure report.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
