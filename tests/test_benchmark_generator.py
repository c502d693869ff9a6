"""Smoke tests of the benchmark generators (benchmarks/bench_app.py, benchmarks/small_templates.py), of how
benchmarks/run.py reads ``-X importtime`` and of the corpus comparison's verdicts (benchmarks/corpus_compare.py): none is a timed test."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

import small_templates  # noqa: E402
from bench_app import SGS_PER_STACK, planted_violations, stack_sizes  # noqa: E402
from corpus_compare import verdict  # noqa: E402
from run import cli_imports  # noqa: E402

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


def test_small_templates_are_a_pull_request_and_the_guard_finds_exactly_the_planted_violations(tmp_path: Path) -> None:
    paths = small_templates.write_templates(tmp_path / "a")
    assert len(paths) == small_templates.COUNT
    for path in paths:
        resources = json.loads(path.read_text())["Resources"].values()
        assert 5 <= len(resources) <= 7
        assert 1 <= sum(r["Type"] == "AWS::EC2::SecurityGroup" for r in resources) <= 2
    planted = small_templates.planted_violations()
    assert {port for _, _, port in planted} == {22, 3389} and len(planted) == 6

    findings = check_paths([tmp_path / "a"])
    assert sorted((Path(f.location.template).name, f.location.logical_id, f.port) for f in findings) == planted
    assert [p.read_bytes() for p in small_templates.write_templates(tmp_path / "b")] == [p.read_bytes() for p in paths]


IMPORTTIME = """\
import time: self [us] | cumulative | imported package
import time:       200 |        200 |   _io
import time:       500 |        700 | _frozen_importlib_external
import time:      5000 |       5000 | site
import time:       300 |        300 |     contextlib
import time:       100 |        400 |   importlib.util
import time:       100 |        500 | runpy
import time:       150 |        150 | constructs_lib
import time:        50 |         50 |       re._parser
import time:        60 |        110 |     re
import time:        70 |        180 |   json
import time:        20 |        200 | constructs_lib.policy
usage: a line the CLI printed
import time:        80 |         80 | locale
"""


def test_cli_imports_are_the_top_level_entries_after_start_up_less_runpy() -> None:
    entries = cli_imports(IMPORTTIME)
    assert entries == [
        ("constructs_lib", "-", 150, 150),
        ("re._parser", "re", 50, 50),
        ("re", "json", 60, 110),
        ("json", "constructs_lib.policy", 70, 180),
        ("constructs_lib.policy", "-", 20, 200),
        ("locale", "-", 80, 80),
    ]
    assert sum(cumulative for _, parent, _, cumulative in entries if parent == "-") == 430


def test_the_corpus_comparison_names_who_reports_what() -> None:
    assert verdict({22}, False, {22}, False) == "same ports"
    assert verdict({22}, True, {22}, False) == "same ports, guard reports more"
    assert verdict({22, 3389}, False, set(), False) == "guard only"
    assert verdict(set(), True, set(), False) == "guard only"
    assert verdict(set(), False, {22}, False) == "checkov only"
    assert verdict({3389}, False, {22}, False) == "differ"
    assert verdict(set(), False, set(), True) == "checkov cannot read"
    assert verdict(set(), False, set(), False) is None

