"""mypy --strict on a user app that imports from the package root, in `make test` (about 1 s of CPU): aws_cdk,
constructs and jsii are skipped (typed Any), so mypy reads only the package and checks the app against the
package's own signatures. `make typecheck` (tests/typing) checks the same app against the real aws_cdk types,
with mypy and with pyright.

GIVEN tests/typing/user_app.py and a copy of it that passes web_ports a string
THEN  mypy --strict passes the app and refuses the copy, naming the prop
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from typed_app import APP, with_wrong_prop

ROOT = Path(__file__).resolve().parent.parent
CONFIG = """\
[mypy]
strict = True
python_version = 3.11

[mypy-aws_cdk.*,constructs.*,jsii.*]
follow_imports = skip
"""


def test_the_root_exports_are_typed_and_a_wrong_prop_type_is_caught(tmp_path: Path) -> None:
    config = tmp_path / "mypy.ini"
    config.write_text(CONFIG)
    wrong = with_wrong_prop(tmp_path)
    command = [sys.executable, "-m", "mypy", "--config-file", str(config), "--cache-dir", os.devnull, str(APP), str(wrong)]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)
    errors = [line for line in result.stdout.splitlines() if ": error: " in line]
    assert result.returncode == 1 and len(errors) == 1, result.stdout + result.stderr
    assert errors[0].startswith(f"{wrong}:") and '"web_ports" to "BastionWebTier"' in errors[0], result.stdout
