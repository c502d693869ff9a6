#!/usr/bin/env python3
"""The policy core alone: ``python benchmarks/core_bench.py TEMPLATE_DIR [BATCHES]`` prints JSON.

Runs in its own fresh process (so the harness's memory and history do not colour it) on templates
parsed once: ``BATCHES`` batches, each repeating ``check_templates`` for at least 0.3 s; the rate of
each batch is rules / mean call time. Reports the median and the best batch (timeit-style), plus one
cold ``load`` + ``check_templates`` (JSON parsing included).
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from constructs_lib.policy import check_templates, load  # noqa: E402


def count_ingress_rules(templates) -> int:  # noqa: ANN001
    """Inline ``SecurityGroupIngress`` entries plus standalone ``AWS::EC2::SecurityGroupIngress`` resources."""
    count = 0
    for template in templates:
        for resource in template.body["Resources"].values():
            kind = resource.get("Type")
            if kind == "AWS::EC2::SecurityGroup":
                count += len((resource.get("Properties") or {}).get("SecurityGroupIngress") or [])
            elif kind == "AWS::EC2::SecurityGroupIngress":
                count += 1
    return count


def main(directory: str, batches: int = 5) -> dict:
    started = time.perf_counter()
    findings = check_templates(load([directory]))
    cold = time.perf_counter() - started
    templates = load([directory])
    rules = count_ingress_rules(templates)
    per_call = []
    for _ in range(batches):
        calls, started = 0, time.perf_counter()
        while True:
            check_templates(templates)
            calls += 1
            elapsed = time.perf_counter() - started
            if elapsed >= 0.3:
                break
        per_call.append(elapsed / calls)
    return {
        "rules": rules,
        "findings": len(findings),
        "seconds_median": statistics.median(per_call),
        "seconds_best": min(per_call),
        "cold_load_and_check_seconds": cold,
    }


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 5)))
