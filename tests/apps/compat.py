"""`make compat`: the guard on a matrix of dependency versions, through the real CDK CLI (``node_modules/.bin/cdk synth``).

    python tests/apps/compat.py OUTDIR VENV [VENV ...]      # each VENV: one aws-cdk-lib, constructs, cdk-nag, PyYAML

For every venv: the world-SSH app must fail synth with the guard's finding (and no other error), the guard
registered as an aspect must fail saying how to register it, an app with an acknowledged group beside two open
ones (one in a stage's stack) must fail on exactly those two, at their lines, the guard CLI must find SSH in a
YAML template at its line, and the reference app must pass with the guard run and every AwsSolutions finding
accepted with its reason. The accepted findings (rule, resource, reason) must be the same in every venv.
Exit status 1 if anything differs.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APPS = Path(__file__).resolve().parent
CLI = ROOT / "node_modules" / ".bin" / "cdk"
GUARD_FINDING = "AdminPortGuard::AdminPortGuard-WorldOpenAdminPort[22]"
REGISTER_HINT = "register it with cdk.Validations.of(app).add_plugins(AdminPortGuard(app))"


def synth(python: Path, app: Path, outdir: Path, *context: str, **app_env: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": f"{CLI.parent}{os.pathsep}{os.environ['PATH']}", "PYTHONPATH": str(ROOT),
           "CDK_DISABLE_VERSION_CHECK": "1", "CDK_DISABLE_CLI_TELEMETRY": "true", **app_env}
    # A relative --output, like cdk synth's default cdk.out: CDK then hands plugins relative template paths.
    output = os.path.relpath(outdir, ROOT)
    command = [str(CLI), "synth", "--quiet", "--no-notices", "--app", f"{python} {app}", "--output", output]
    for item in context:
        command += ["-c", item]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)


def world_ssh(python: Path, outdir: Path) -> str | None:
    """The guard, and only the guard, fails the synth."""
    result = synth(python, APPS / "compat_world_ssh.py", outdir)
    output = result.stdout + result.stderr
    errors = [line for line in output.splitlines() if line.startswith("ERROR")]
    if result.returncode == 0 or GUARD_FINDING not in output or not errors:
        return f"expected the guard's {GUARD_FINDING} and a failed synth, got exit {result.returncode}:\n{output}"
    if any(not line.endswith("(AdminPortGuard)") for line in errors):
        return "errors other than the guard's:\n" + "\n".join(errors)
    return None


def guard_as_aspect(python: Path, outdir: Path) -> str | None:
    result = synth(python, APPS / "compat_guard_as_aspect.py", outdir)
    if result.returncode == 0 or REGISTER_HINT not in result.stderr:
        return f"expected a failed synth saying {REGISTER_HINT!r}, got exit {result.returncode}:\n{result.stderr}"
    return None


def line_of(path: Path, text: str) -> int:
    return next(number for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if text in line)


def acknowledged_and_staged(python: Path, outdir: Path) -> str | None:
    """The acknowledgement covers its own group only, the stage's stack is validated, each finding names its line."""
    app = APPS / "compat_acknowledged_and_staged.py"
    result = synth(python, app, outdir, JSII_HOST_STACK_TRACES="1")
    errors = [line for line in (result.stdout + result.stderr).splitlines() if line.startswith("ERROR")]
    where = app.relative_to(ROOT)
    lines = {group: line_of(app, f'"{group}"') for group in ("Other", "Staged")}
    expected = [f"ERROR {where}:{line}: security group {group} allows tcp/22 (SSH)" for group, line in lines.items()]
    if result.returncode == 0 or len(errors) != 2 or not all(any(e.startswith(x) for e in errors) for x in expected):
        return f"expected exactly the errors {expected}, got exit {result.returncode}:\n" + "\n".join(errors)
    return None


def yaml_template(python: Path) -> str | None:
    """The guard CLI reads a YAML template with short-form intrinsics and names the group's line."""
    template = (APPS / "compat_world_ssh.yaml").relative_to(ROOT)
    result = subprocess.run([str(python), "-m", "constructs_lib.guard", str(template)], cwd=ROOT, capture_output=True, text=True, timeout=60)
    expected = f"{template}:{line_of(ROOT / template, 'Web:')}: Web:"
    if result.returncode != 1 or expected not in result.stdout or "WorldOpenAdminPort[22]" not in result.stdout:
        return f"expected exit 1 and {expected!r} with WorldOpenAdminPort[22], got exit {result.returncode}:\n{result.stdout}{result.stderr}"
    return None


def accepted_findings(outdir: Path) -> tuple[set[tuple[str, str, str]], list[str]]:
    """AwsSolutions findings accepted (rule, resource, reason) and those still open, from cdk-nag 2's CSV or 3's report."""
    accepted, still_open = set(), []
    for path in outdir.glob("AwsSolutions-*-NagReport.csv"):  # cdk-nag 2: granular detail is the reason's "[...] " prefix
        for row in csv.DictReader(path.open(encoding="utf-8")):
            if row["Compliance"] == "Non-Compliant":
                still_open.append(f"{row['Rule ID']} {row['Resource ID']}")
            elif row["Compliance"] == "Suppressed":
                reason, rule = row["Exception Reason"], row["Rule ID"]
                if reason.startswith("["):
                    detail, _, reason = reason.partition("] ")
                    rule += detail + "]"
                accepted.add((rule, row["Resource ID"], reason))
    report = json.loads((outdir / "validation-report.json").read_text(encoding="utf-8"))
    for plugin in (p for p in report["pluginReports"] if p["pluginName"] == "AwsSolutions"):  # cdk-nag 3
        still_open += [f"{v['ruleName']} {c['constructPath']}" for v in plugin["violations"] for c in v["violatingConstructs"]]
        accepted |= {(v["ruleName"], c["constructPath"], v["reason"])
                     for v in plugin["suppressedViolations"] for c in v["violatingConstructs"]}
    return accepted, still_open


def reference(python: Path, outdir: Path) -> tuple[str | None, set[tuple[str, str, str]]]:
    """The reference app passes, the guard ran on it, and cdk-nag's findings are all accepted with reasons."""
    result = synth(python, ROOT / "app.py", outdir, "admin_cidr=203.0.113.10/32")
    if result.returncode != 0:
        return f"reference app failed synth (exit {result.returncode}):\n{result.stdout}{result.stderr}", set()
    guard_report = outdir / "admin-port-guard-report.json"
    if not guard_report.exists() or json.loads(guard_report.read_text(encoding="utf-8"))["findings"]:
        return f"the guard did not run cleanly: {guard_report} missing or with findings", set()
    accepted, still_open = accepted_findings(outdir)
    if still_open or not accepted:
        return f"AwsSolutions findings not accepted: {still_open or 'no report of accepted findings'}", accepted
    return None, accepted


def versions(python: Path) -> str:
    """The venv's versions of what the matrix varies, e.g. ``aws-cdk-lib 2.275.0, constructs 10.8.1, ...``."""
    script = "import importlib.metadata as m; print(', '.join(f'{d} {m.version(d)}' for d in ('aws-cdk-lib', 'constructs', 'cdk-nag', 'PyYAML')))"
    return subprocess.run([str(python), "-c", script], capture_output=True, text=True, check=True).stdout.strip()


def main(argv: list[str]) -> int:
    outdir, venvs = Path(argv[0]), [Path(v) for v in argv[1:]]
    failures, accepted_by_version = 0, {}
    for venv in venvs:
        python = venv / "bin" / "python"
        row = versions(python)
        print(f"{row} ({venv})", flush=True)
        base = outdir / venv.parent.name
        reference_problem, accepted_by_version[row] = reference(python, base / "reference")
        results = [("world-SSH app fails synth with the guard's finding", world_ssh(python, base / "world-ssh")),
                   ("guard registered as an aspect fails with how to register it", guard_as_aspect(python, base / "aspect")),
                   ("an acknowledgement covers its group only; a stage's stack fails a plain synth; findings name their lines",
                    acknowledged_and_staged(python, base / "acknowledged-and-staged")),
                   ("the guard CLI finds SSH in a YAML template at its line", yaml_template(python)),
                   (f"reference app passes; guard ran; {len(accepted_by_version[row])} AwsSolutions findings accepted", reference_problem)]
        for title, problem in results:
            print(f"  {'ok  ' if problem is None else 'FAIL'}  {title}" + (f"\n{problem}" if problem else ""), flush=True)
            failures += problem is not None
    accepted_sets = list(accepted_by_version.values())
    if any(accepted != accepted_sets[0] for accepted in accepted_sets):
        failures += 1
        for row, accepted in accepted_by_version.items():
            print(f"FAIL  accepted findings differ; with {row}:\n    " + "\n    ".join(map(str, sorted(accepted))))
    else:
        print(f"ok    the same {len(accepted_sets[0])} accepted findings (rule, resource, reason) in all {len(venvs)} venvs")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
