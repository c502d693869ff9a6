"""Reproduce the seed with real packets: the naive and reference stacks, synthesized by the real CDK,
filtered by nftables in network namespaces and scanned by nmap, agree with the exposure report.

The scans need root, nmap, nftables and iproute2 (CI installs them in .ci/run). Where they are missing
these tests FAIL with what to install: a port scan that did not run is not a pass.
"""

from __future__ import annotations

import os
import subprocess

import pytest

from constructs_lib.policy import load
from constructs_lib.policy.exposure import analyse
from scan import harness
from scan.variants import DEFAULT_ADMIN_CIDR, synth_variants


@pytest.fixture(scope="module")
def variants(tmp_path_factory):
    """Both variants, synthesized in one process (one jsii start-up)."""
    return synth_variants(tmp_path_factory.mktemp("variants"), DEFAULT_ADMIN_CIDR)


def _scan(path) -> harness.ScanResult:
    missing = harness.missing_requirements()
    if missing:
        pytest.fail("port-scan tests need " + "; ".join(missing) + f". Install: apt-get install -y {harness.APT_PACKAGES}")
    return harness.run_scan([path])


@pytest.fixture(scope="module")
def naive_scan(variants):
    return _scan(variants["naive"])


@pytest.fixture(scope="module")
def reference_scan(variants):
    return _scan(variants["reference"])


def test_exposure_report_predicts_the_seed(variants):
    naive = analyse(load([variants["naive"]])).target("WebServer")
    reference = analyse(load([variants["reference"]])).target("WebServer")
    assert naive.allows("tcp", 22) and naive.allows("tcp", 80) and naive.allows("tcp", 443)
    assert not reference.allows("tcp", 22) and reference.allows("tcp", 80) and reference.allows("tcp", 443)
    assert [g.name for g in reference.security_groups] == ["Bastion"]


def test_naive_variant_scans_as_the_seed(naive_scan):
    print(naive_scan.table())
    assert naive_scan.observed("internet", "WebServer") == {22: "open", 80: "open", 443: "closed"}
    assert naive_scan.mismatches == []


def test_reference_stack_scans_with_ssh_gone_from_the_internet(reference_scan):
    print(reference_scan.table())
    assert reference_scan.observed("internet", "WebServer") == {22: "filtered", 80: "open", 443: "closed"}
    assert reference_scan.observed("Bastion", "WebServer")[22] == "open"
    assert reference_scan.observed("internet", "Bastion") == {22: "filtered", 80: "filtered", 443: "filtered"}
    assert reference_scan.observed("admin", "Bastion")[22] == "open"
    assert reference_scan.mismatches == []


def test_a_wrong_prediction_fails_the_comparison(reference_scan):
    observed = {(p.source, p.target, p.port): p.observed for p in reference_scan.probes}
    predicted = {(p.source, p.target, p.port): p.predicted for p in reference_scan.probes}
    assert harness.compare(predicted, observed) and not [p for p in harness.compare(predicted, observed) if not p.agrees]
    wrong = dict(predicted)
    wrong[("internet", "WebServer", 22)] = "open"  # what the naive stack would show
    mismatches = [p for p in harness.compare(wrong, observed) if not p.agrees]
    assert [(p.source, p.target, p.port, p.predicted, p.observed) for p in mismatches] == [
        ("internet", "WebServer", 22, "open", "filtered")
    ]
    # A port nmap did not report counts as a mismatch too.
    del observed[("internet", "WebServer", 80)]
    assert any(p.observed == "missing" for p in harness.compare(predicted, observed))


def test_scan_cleans_up_its_namespaces(naive_scan, reference_scan):
    prefix = f"apgscan{os.getpid() % 10000}"
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    assert prefix not in listed


def test_missing_tools_are_named(monkeypatch):
    monkeypatch.setattr(harness.shutil, "which", lambda tool: None)
    monkeypatch.setattr(harness.os, "geteuid", lambda: 1000)
    with pytest.raises(harness.HarnessUnavailable) as error:
        harness.require_tools()
    message = str(error.value)
    for needed in ("root", "nmap", "nftables", "iproute2", "apt-get install -y nmap nftables iproute2"):
        assert needed in message


def test_failure_mid_scan_still_removes_namespaces_and_listeners(variants, monkeypatch):
    if harness.missing_requirements():
        pytest.fail("port-scan tests need " + "; ".join(harness.missing_requirements()))
    started = []
    original_listen = harness.TestNetwork.listen

    def listen(self, namespace, ports):
        original_listen(self, namespace, ports)
        started.extend(self.processes)

    def broken_nmap(self, namespace, address, ports):
        raise harness.HarnessError("simulated nmap failure")

    monkeypatch.setattr(harness.TestNetwork, "listen", listen)
    monkeypatch.setattr(harness.TestNetwork, "nmap", broken_nmap)
    with pytest.raises(harness.HarnessError, match="simulated"):
        harness.run_scan([variants["reference"]])
    assert started and all(process.poll() is not None for process in started)
    assert f"apgscan{os.getpid() % 10000}" not in subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
