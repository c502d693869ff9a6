"""mypy --strict and pyright (strict) on a user's app that imports from the package root, against the real aws_cdk
types (`make typecheck`, not `make test`: a cold mypy run reads all of aws_cdk, about 60-90 s of CPU here, later runs
use build/mypy-cache; pyright has no cache: 7-11 s of CPU for its one run). tests/test_typed_exports.py is the
`make test` check.

GIVEN tests/typing/user_app.py, typed as the README shows, and a copy with a wrong prop type
THEN  each checker passes the app and refuses the copy, naming the prop.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from typed_app import APP, with_wrong_prop

ROOT = Path(__file__).resolve().parent.parent.parent


def run(command: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=900)


def mypy(path: Path) -> subprocess.CompletedProcess[str]:
    return run([sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(ROOT / "build" / "mypy-cache"), str(path)])


def pyright(*paths: Path) -> list[dict[str, Any]]:
    """pyright's diagnostics on ``paths``, in one run: pyright from node_modules (package.json) under the pinned Node;
    user_app.py asks for strict mode itself."""
    node, pyright_js = ROOT / "node_modules" / ".bin" / "node", ROOT / "node_modules" / "pyright" / "index.js"
    result = run([str(node), str(pyright_js), "--outputjson", "--pythonpath", sys.executable, *map(str, paths)])
    assert result.returncode in (0, 1), result.stdout + result.stderr
    diagnostics: list[dict[str, Any]] = json.loads(result.stdout)["generalDiagnostics"]
    return diagnostics


def test_mypy_passes_the_user_app_and_catches_a_wrong_prop_type(tmp_path: Path) -> None:
    assert mypy(APP).returncode == 0
    result = mypy(with_wrong_prop(tmp_path))
    assert result.returncode == 1 and '"web_ports" to "BastionWebTier"' in result.stdout, result.stdout


def test_pyright_passes_the_user_app_and_catches_a_wrong_prop_type(tmp_path: Path) -> None:
    wrong = with_wrong_prop(tmp_path)
    diagnostics = pyright(APP, wrong)
    assert [(Path(d["file"]), d["severity"], d.get("rule")) for d in diagnostics] == [(wrong, "error", "reportArgumentType")], diagnostics
    assert 'parameter "web_ports" of type "Sequence[int]"' in diagnostics[0]["message"], diagnostics
