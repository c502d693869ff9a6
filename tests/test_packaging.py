"""A package that behaves like one: the project venv has it installed (editable), and its wheel is complete.

GIVEN the project venv set up by `make install` (the `make synth` / `make test` prerequisite)
WHEN  its console scripts run from a folder outside the repository, and the wheel is built
THEN  they work, name themselves correctly, and the wheel carries py.typed, both scripts and the `live` extra.
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from email.parser import Parser
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def run(command: list[str], cwd: Path) -> str:
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_console_scripts_work_from_any_folder(tmp_path: Path) -> None:
    installed = version("admin-port-guard")
    assert run([str(BIN / "admin-port-guard"), "--version"], tmp_path) == f"admin-port-guard {installed}\n"
    assert run([sys.executable, "-m", "constructs_lib.guard", "--version"], tmp_path) == f"python -m constructs_lib.guard {installed}\n"
    assert run([str(BIN / "admin-port-exposure"), "--help"], tmp_path).startswith("usage: admin-port-exposure ")
    # Editable: the venv runs this checkout, not a copy made at install time
    where = run([sys.executable, "-c", "import constructs_lib; print(constructs_lib.__file__)"], tmp_path)
    assert Path(where.strip()) == ROOT / "constructs_lib" / "__init__.py"


def test_wheel_is_typed_with_both_scripts_and_a_live_extra(tmp_path: Path) -> None:
    run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "--wheel-dir", str(tmp_path), str(ROOT)], ROOT)
    (wheel,) = tmp_path.glob("admin_port_guard-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        info = next(name.rsplit("/", 1)[0] for name in names if name.endswith(".dist-info/METADATA"))
        metadata = Parser().parsestr(archive.read(f"{info}/METADATA").decode())
        entry_points = archive.read(f"{info}/entry_points.txt").decode()
    assert "constructs_lib/py.typed" in names
    assert not any(name.startswith(("tests/", "stacks/", "scan/", "scripts/")) for name in names)
    assert "admin-port-guard = constructs_lib.guard.__main__:main" in entry_points
    assert "admin-port-exposure = constructs_lib.exposure:main" in entry_points
    assert "live" in metadata.get_all("Provides-Extra")
    assert any(requirement.startswith("boto3") and 'extra == "live"' in requirement for requirement in metadata.get_all("Requires-Dist"))
