"""Smoke test of the benchmark generator (benchmarks/bench_app.py): it is not a timed test."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_app import SGS_PER_STACK, planted_violations, stack_sizes  # noqa: E402

from constructs_lib.policy import check_paths  # noqa: E402


def test_sizes_and_planted_violations_scale_with_n() -> None:
    assert stack_sizes(2000) == [SGS_PER_STACK] * 20
    assert stack_sizes(250) == [100, 100, 50]
    assert len(planted_violations(2000)) == 21  # 22/tcp in every stack, plus 3389/tcp from ::/0 in the first


def test_generated_app_synthesizes_and_the_guard_finds_exactly_the_planted_violations(tmp_path: Path) -> None:
    n = 150
    env = {**os.environ, "PATH": f"{ROOT / 'node_modules' / '.bin'}{os.pathsep}{os.environ.get('PATH', '')}"}
    outdir = tmp_path / "cdk.out"
    subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_app.py"), "--sgs", str(n), "--outdir", str(outdir)],
        check=True, cwd=ROOT, env=env, capture_output=True, timeout=120,
    )
    templates = sorted(outdir.glob("*.template.json"))
    assert [t.name for t in templates] == ["BenchSgs00.template.json", "BenchSgs01.template.json"]
    resources = [r for t in templates for r in json.loads(t.read_text())["Resources"].values()]
    assert sum(r["Type"] == "AWS::EC2::SecurityGroup" for r in resources) == n
    assert all(len(json.loads(t.read_text())["Resources"]) < 500 for t in templates)

    findings = check_paths([outdir])
    found = sorted((f.location.template, f.location.logical_id[:10], f.port) for f in findings)
    expected = sorted((f"BenchSgs{stack:02d}", f"AdminSg{index:03d}", port) for stack, index, port, _ in planted_violations(n))
    assert found == expected
