#!/usr/bin/env python3
"""The guard's findings on the public template corpus next to checkov's admin-port checks, file by file.

    make corpus-compare        # rewrites the generated part of docs/corpus.md (checkov: ~1-2 min at nice 10)

Run with the project venv. The guard's side is ``tests/corpus.py`` (each file checked on its own, the findings
``tests/test_corpus.py`` pins, with their reasons from ``tests/fixtures/corpus-expectations.yaml``). checkov
(pinned in requirements-bench.txt, ``.venv-bench``) runs in one process of its own on a copy of the corpus (it
is read-only), one file at a time through its Python API so that a file it cannot read costs only that file,
with its checks CKV_AWS_24 (SSH, tcp/22 from 0.0.0.0/0 on a security group or ingress rule), CKV_AWS_25
(RDP, tcp/3389) and CKV_AWS_100 (an EKS node group with SSH access and no source security groups). That
process is this script with ``--checkov-worker``.

Rows compare, per file, the ports both tools can report: 22 and 3389 open to the whole internet (the guard's
``WorldOpenAdminPort[22]``/``[3389]`` on a group or node group; checkov's failures). Every other guard finding is
listed too, with its reason: checkov has no check for it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_PYTHON = ROOT / ".venv-bench" / "bin" / "python"
DOC = ROOT / "docs" / "corpus.md"
BEGIN, END = "<!-- corpus-compare:begin -->", "<!-- corpus-compare:end -->"
#: checkov's checks and the admin port each one is about.
CHECKOV_PORTS = {"CKV_AWS_24": 22, "CKV_AWS_25": 3389, "CKV_AWS_100": 22}
#: The guard's findings checkov has a check for, and their port.
COMPARED_RULES = {"WorldOpenAdminPort[22]": 22, "WorldOpenAdminPort[3389]": 3389}


def checkov_worker(corpus: Path, files: list[str]) -> dict:
    """In .venv-bench: ``{file: {"failed": [[check, logical id]...]} | {"error": text}}``, checkov's API per file."""
    import logging

    logging.disable(logging.CRITICAL)
    from checkov.cloudformation.runner import Runner
    from checkov.runner_filter import RunnerFilter

    results = {}
    for name in files:
        try:
            report = Runner().run(root_folder=None, files=[str(corpus / name)],
                                  runner_filter=RunnerFilter(framework=["cloudformation"], checks=sorted(CHECKOV_PORTS)))
        except Exception as error:  # noqa: BLE001 - a file checkov cannot check is a result too
            results[name] = {"error": f"checkov raised {type(error).__name__}: {error}"}
            continue
        if report.parsing_errors:
            results[name] = {"error": "checkov could not parse it"}
            continue
        results[name] = {"failed": sorted([check.check_id, check.resource.rpartition(".")[2]] for check in report.failed_checks)}
    return results


def run_checkov(corpus: Path, files: list[str]) -> tuple[str, dict]:
    version = subprocess.run([str(BENCH_PYTHON), "-c", "import importlib.metadata as m; print(m.version('checkov'))"],
                             check=True, capture_output=True, text=True).stdout.strip()
    with tempfile.TemporaryDirectory() as work:
        copy = Path(work) / corpus.name
        shutil.copytree(corpus, copy)
        process = subprocess.run(
            ["nice", "-n", "10", str(BENCH_PYTHON), __file__, "--checkov-worker", str(copy)],
            input=json.dumps(files), capture_output=True, text=True, check=True, cwd=work,
        )
    return version, json.loads(process.stdout)


def _cell(pairs: set[tuple[int, str]]) -> str:
    return ", ".join(f"{port} {resource}" for port, resource in sorted(pairs)) or "-"


def verdict(guard_ports: set[int], guard_other: bool, checkov_ports: set[int], checkov_error: bool) -> str:
    """How the two tools compare on one file: ``same ports``, ``guard only``, ``checkov only``, ``differ`` or
    ``checkov cannot read``; ``None`` when neither reports anything."""
    if checkov_error:
        return "checkov cannot read"
    if guard_ports and guard_ports == checkov_ports:
        return "same ports" + (", guard reports more" if guard_other else "")
    if not checkov_ports:
        return "guard only" if guard_ports or guard_other else None
    return "checkov only" if not guard_ports and not guard_other else "differ"


def table(outcomes: list, reasons: dict, checkov: dict) -> tuple[list[str], dict[str, int]]:
    """Markdown rows (one per file either tool reports anything on) and counts of the verdicts."""
    rows = ["| file | guard: 22/3389 open to the world (reason) | checkov: CKV_AWS_24/25/100 | verdict | the guard's other findings (reason) |",
            "| --- | --- | --- | --- | --- |"]
    counts: dict[str, int] = {}
    for outcome in outcomes:
        result = checkov[outcome.file]
        world = {(COMPARED_RULES[entry.rule], entry.resource) for entry in outcome.entries if entry.rule in COMPARED_RULES}
        failed = {(CHECKOV_PORTS[check], resource) for check, resource in result.get("failed", ())}
        others: dict[str, int] = {}
        for entry in outcome.entries:
            if entry.rule not in COMPARED_RULES:
                label = f"{entry.rule} ({reasons.get(tuple(entry), 'unlisted')})"
                others[label] = others.get(label, 0) + 1
        if outcome.not_a_template:
            others[f"not a template, exit 2 ({reasons.get(outcome.file, 'unlisted')})"] = 1
        kind = verdict({port for port, _ in world}, bool(others), {port for port, _ in failed}, "error" in result)
        if kind is None:
            continue
        counts[kind] = counts.get(kind, 0) + 1
        guard_cell, checkov_cell = _cell(world), result.get("error") or _cell(failed)
        world_reasons = sorted({reasons.get(tuple(entry), "unlisted") for entry in outcome.entries if entry.rule in COMPARED_RULES})
        if world_reasons:
            guard_cell += f" ({', '.join(world_reasons)})"
        other_cell = "; ".join(f"{label}" + (f" x{n}" if n > 1 else "") for label, n in sorted(others.items())) or "-"
        rows.append(f"| `{outcome.file}` | {guard_cell} | {checkov_cell} | {kind} | {other_cell} |")
    return rows, counts


def generate() -> str:
    sys.path.insert(0, str(ROOT / "tests"))
    sys.path.insert(0, str(ROOT))
    import yaml
    from corpus import EXPECTATIONS, check_file, corpus_dir, corpus_files

    corpus = corpus_dir()
    outcomes = [check_file(corpus, path) for path in corpus_files(corpus)]
    expected = yaml.safe_load(EXPECTATIONS.read_text(encoding="utf-8"))
    reasons: dict = {(item["file"], item["rule"], item["resource"], item["message"]): item["reason"] for item in expected["findings"]}
    reasons.update(expected["not_templates"])
    version, checkov = run_checkov(corpus, [outcome.file for outcome in outcomes])
    rows, counts = table(outcomes, reasons, checkov)
    summary = ", ".join(f"{kind}: {n}" for kind, n in sorted(counts.items()))
    return "\n".join([
        BEGIN,
        f"Generated by `make corpus-compare` (benchmarks/corpus_compare.py): the guard of this tree, checkov {version}, "
        f"{len(outcomes)} files, {len(rows) - 2} with a finding of either tool or a file checkov cannot read ({summary}).",
        "",
        *rows,
        END,
    ])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkov-worker", metavar="CORPUS", help=argparse.SUPPRESS)
    parser.add_argument("--print", action="store_true", help="print the generated table instead of writing docs/corpus.md")
    arguments = parser.parse_args()
    if arguments.checkov_worker:
        json.dump(checkov_worker(Path(arguments.checkov_worker), json.load(sys.stdin)), sys.stdout)
        return 0
    if not BENCH_PYTHON.exists():
        print(f"error: {BENCH_PYTHON} is missing: run `make bench-env` first", file=sys.stderr)
        return 2
    generated = generate()
    if arguments.print:
        print(generated)
        return 0
    text = DOC.read_text(encoding="utf-8")
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    DOC.write_text(head + generated + tail, encoding="utf-8")
    print(f"wrote {os.path.relpath(DOC)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
