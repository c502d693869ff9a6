"""`mypy --strict` on a user's app that imports from the package root (`make typecheck`, not `make test`: a cold
mypy run reads all of aws_cdk, about 90 s of CPU here; later runs use build/mypy-cache).

GIVEN tests/typing/user_app.py, typed as the README shows, and a copy with a wrong prop type
THEN  the app passes mypy --strict and the copy fails, naming the prop.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent


def mypy(path: Path) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(ROOT / "build" / "mypy-cache"), str(path)]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=900)


def test_the_user_app_type_checks_and_a_wrong_prop_type_is_caught(tmp_path: Path) -> None:
    assert mypy(HERE / "user_app.py").returncode == 0
    wrong = tmp_path / "wrong_app.py"
    wrong.write_text((HERE / "user_app.py").read_text().replace("web_ports=[80, 443]", 'web_ports="80"'))
    result = mypy(wrong)
    assert result.returncode == 1 and '"web_ports" to "BastionWebTier"' in result.stdout, result.stdout
