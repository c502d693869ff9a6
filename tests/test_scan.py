"""Reproduce the seed with real packets: the naive and reference stacks, synthesized by the real CDK,
deployed to the local emulator (moto), filtered by nftables in network namespaces and scanned by nmap,
agree with the exposure report.

The packet filter comes from the emulator's security groups, the prediction from the policy core's reading
of the template, so a template-reading bug fails these tests. The scans need root, nmap, nftables and
iproute2 (`make test` installs them); where they are missing these tests FAIL with what to install: a port
scan that did not run is not a pass.
"""

from __future__ import annotations

import os
import subprocess

import pytest

from constructs_lib.config_rule import remediate
from constructs_lib.guard import live
from constructs_lib.policy import GuardPolicy, load
from constructs_lib.policy.exposure import analyse
from constructs_lib.policy.readers import READERS
from scan import harness
from scan.variants import DEFAULT_ADMIN_CIDR, synth_variants


def _require_tools() -> None:
    missing = harness.missing_requirements()
    if missing:
        pytest.fail("port-scan tests need " + "; ".join(missing) + f". Install: apt-get install -y {harness.APT_PACKAGES}",
                    pytrace=False)


def _namespaces_left() -> bool:
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    return f"apgscan{os.getpid() % 10000}" in listed


@pytest.fixture(scope="module")
def variants(tmp_path_factory):
    """Both variants, synthesized in one process (one jsii start-up)."""
    return synth_variants(tmp_path_factory.mktemp("variants"), DEFAULT_ADMIN_CIDR)


@pytest.fixture(scope="module")
def naive_scan(variants):
    _require_tools()
    return harness.run_scan([variants["naive"]])


@pytest.fixture(scope="module")
def reference_scan(variants):
    _require_tools()
    return harness.run_scan([variants["reference"]])


def test_exposure_report_predicts_the_seed(variants):
    naive = analyse(load([variants["naive"]])).target("WebServer")
    reference = analyse(load([variants["reference"]])).target("WebServer")
    assert naive.allows("tcp", 22) and naive.allows("tcp", 80) and naive.allows("tcp", 443)
    assert not reference.allows("tcp", 22) and reference.allows("tcp", 80) and reference.allows("tcp", 443)
    assert [g.name for g in reference.security_groups] == ["Bastion"]


def test_naive_variant_scans_as_the_seed(naive_scan):
    print(naive_scan.table())
    assert naive_scan.observed("internet", "WebServer") == {22: "open", 80: "open", 443: "closed"}
    assert naive_scan.nmap_lines("internet", "WebServer") == [
        "PORT      STATE     SERVICE", "22/tcp    open      ssh", "80/tcp    open      http", "443/tcp   closed    https"]
    assert naive_scan.mismatches == []


def test_reference_stack_scans_with_ssh_gone_from_the_internet(reference_scan):
    print(reference_scan.table())
    assert reference_scan.observed("internet", "WebServer") == {22: "filtered", 80: "open", 443: "closed"}
    assert reference_scan.observed("Bastion", "WebServer")[22] == "open"
    assert reference_scan.observed("internet", "Bastion") == {22: "filtered", 80: "filtered", 443: "filtered"}
    assert reference_scan.observed("admin", "Bastion")[22] == "open"
    assert len(reference_scan.probes) == 18 and reference_scan.mismatches == []


def _remediate_every_non_compliant_group(clients) -> None:
    """What the Config rule's remediation does to each group it finds NON_COMPLIANT, on the emulator's EC2."""
    ec2 = clients("ec2")
    for group in live.read_security_groups(ec2):
        findings, change, authorize, revoke = remediate.group_plan(ec2, group, GuardPolicy())
        if findings and change.cuts:
            remediate.apply_plan(ec2, group["GroupId"], change, authorize, revoke)


def test_remediation_of_the_naive_variant_filters_ssh_from_the_internet_again_and_keeps_http(variants):
    # GIVEN the naive variant (SSH from 0.0.0.0/0 on the web server) deployed, WHEN the remediation runs on it
    _require_tools()
    scan = harness.run_scan([variants["naive"]], change=_remediate_every_non_compliant_group)
    print(scan.table())
    # THEN nmap sees SSH filtered from the internet again, HTTP still answered, the bastion's SSH untouched
    assert scan.observed("internet", "WebServer") == {22: "filtered", 80: "open", 443: "closed"}
    assert scan.observed("Bastion", "WebServer")[22] == "open" and scan.observed("admin", "Bastion")[22] == "open"
    # and the only ports that differ from the template's prediction are the web server's SSH from internet addresses
    assert {(p.source, p.target, p.port, p.predicted, p.observed) for p in scan.mismatches} == {
        ("internet", "WebServer", 22, "open", "filtered"), ("admin", "WebServer", 22, "open", "filtered")}


def test_packet_filter_is_the_emulators_security_groups(reference_scan):
    # The web server's rules are its group as moto deployed it, named by the emulator's group ids
    # (its IPv6 rules are not scanned: the test network is IPv4).
    [web] = reference_scan.deployed_groups["WebServer"]
    [bastion] = reference_scan.deployed_groups["Bastion"]
    rules = [line.strip() for line in reference_scan.nft_rulesets["WebServer"].splitlines() if "accept comment" in line]
    assert rules == [
        f'ip saddr {{ 10.250.0.1, 10.250.0.2, 10.250.0.3 }} tcp dport 80 accept comment "{web} tcp from 0.0.0.0/0"',
        f'ip saddr {{ 10.250.0.1, 10.250.0.2, 10.250.0.3 }} tcp dport 443 accept comment "{web} tcp from 0.0.0.0/0"',
        f'ip saddr {{ 10.250.0.3 }} tcp dport 22 accept comment "{web} tcp from {bastion}"',
    ]
    assert web.startswith("sg-") and bastion.startswith("sg-") and web != bastion


def test_broken_template_reading_shows_as_a_mismatch(variants, monkeypatch):
    # GIVEN a core that ignores standalone AWS::EC2::SecurityGroupIngress resources (the prediction only:
    # the emulator deploys the template as it is)
    _require_tools()
    monkeypatch.setitem(READERS, "AWS::EC2::SecurityGroupIngress", lambda resource: None)
    # WHEN the naive variant, whose world SSH rule is such a resource, is scanned
    result = harness.run_scan([variants["naive"]])
    # THEN nmap finds the web server's SSH open where the prediction said filtered: from the internet and the
    # admin host (the hand-added 0.0.0.0/0 rule), and from the bastion (the standalone rule CDK wrote)
    assert [(p.source, p.target, p.port, p.predicted, p.observed) for p in result.mismatches] == [
        ("internet", "WebServer", 22, "filtered", "open"),
        ("admin", "WebServer", 22, "filtered", "open"),
        ("Bastion", "WebServer", 22, "filtered", "open"),
    ]


def test_a_filtered_port_counts_only_after_a_second_probe(variants, monkeypatch):
    # GIVEN a first nmap pass that loses every answer (what a loaded machine can do to short timeouts)
    _require_tools()
    run_nmaps = harness.TestNetwork.run_nmaps

    def lossy(self, jobs, timing):
        found = run_nmaps(self, jobs, timing)
        if timing is harness.NMAP_FIRST:
            for ports in (ports for by_address in found for ports in by_address.values()):
                ports.update({port: ("filtered", service) for port, (_, service) in ports.items()})
        return found

    monkeypatch.setattr(harness.TestNetwork, "run_nmaps", lossy)
    # WHEN the reference stack is scanned from the internet host
    result = harness.run_scan([variants["reference"]], sources=["internet"])
    # THEN the second probe restores every answer, and only the truly filtered ports stay filtered
    assert result.observed("internet", "WebServer") == {22: "filtered", 80: "open", 443: "closed"}
    assert {key: state for key, state in result.rechecked.items() if state != "filtered"} == {
        ("internet", "WebServer", 80): "open", ("internet", "WebServer", 443): "closed"}
    assert result.mismatches == []


def test_a_wrong_prediction_fails_the_comparison(reference_scan):
    observed = {(p.source, p.target, p.port): p.observed for p in reference_scan.probes}
    predicted = {(p.source, p.target, p.port): p.predicted for p in reference_scan.probes}
    assert len(harness.compare(predicted, observed)) == 18 and not [p for p in harness.compare(predicted, observed) if not p.agrees]
    wrong = dict(predicted)
    wrong[("internet", "WebServer", 22)] = "open"  # what the naive stack would show
    mismatches = [p for p in harness.compare(wrong, observed) if not p.agrees]
    assert [(p.source, p.target, p.port, p.predicted, p.observed) for p in mismatches] == [
        ("internet", "WebServer", 22, "open", "filtered")
    ]
    # A port nmap did not report counts as a mismatch too.
    del observed[("internet", "WebServer", 80)]
    assert [(p.port, p.observed) for p in harness.compare(predicted, observed) if not p.agrees] == [(80, "missing")]


def test_scan_cleans_up_its_namespaces(naive_scan, reference_scan):
    assert not _namespaces_left()


def test_missing_tools_are_named(monkeypatch):
    monkeypatch.setattr(harness.shutil, "which", lambda tool: None)
    monkeypatch.setattr(harness.os, "geteuid", lambda: 1000)
    with pytest.raises(harness.HarnessUnavailable) as error:
        harness.require_tools()
    message = str(error.value)
    for needed in ("root", "nmap", "nftables", "iproute2", "apt-get install -y nmap nftables iproute2"):
        assert needed in message


def test_failure_mid_scan_still_removes_namespaces_and_listeners(variants, monkeypatch):
    _require_tools()
    started = []
    original_listen = harness.TestNetwork.listen

    def listen(self, namespace, ports):
        original_listen(self, namespace, ports)
        started.extend(self.processes)

    def broken_nmap(self, jobs, timing):
        raise harness.HarnessError("simulated nmap failure")

    monkeypatch.setattr(harness.TestNetwork, "listen", listen)
    monkeypatch.setattr(harness.TestNetwork, "run_nmaps", broken_nmap)
    with pytest.raises(harness.HarnessError, match="simulated"):
        harness.run_scan([variants["reference"]])
    assert started and all(process.poll() is not None for process in started)
    assert not _namespaces_left()
