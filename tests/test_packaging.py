"""A package that behaves like one: the project venv has it installed (editable), and its wheel is complete.

GIVEN the project venv set up by `make install` (the `make synth` / `make test` prerequisite)
WHEN  its console scripts run from a folder outside the repository, and the wheel is built
THEN  they work, name themselves correctly, and the wheel carries py.typed, both scripts, the `cdk` and `live`
      extras and its licence; the sdist leaves the tests out; the CLI alone installs small, without aws-cdk-lib;
      and the published floors are the versions `make compat` runs.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from email.message import Message
from email.parser import Parser
from importlib.metadata import version
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's wheel, built once (two builds at once in one source tree would race)."""
    directory = tmp_path_factory.mktemp("dist")
    run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "--wheel-dir", str(directory), str(ROOT)], ROOT)
    (built,) = directory.glob("admin_port_guard-*.whl")
    return built


def wheel_contents(wheel: Path) -> tuple[list[str], str, Message]:
    """The wheel's file names, its .dist-info folder and its METADATA."""
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        info = next(name.rsplit("/", 1)[0] for name in names if name.endswith(".dist-info/METADATA"))
        metadata = Parser().parsestr(archive.read(f"{info}/METADATA").decode())
    return names, info, metadata


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


def test_wheel_is_typed_with_both_scripts_and_a_live_extra(wheel: Path) -> None:
    names, info, metadata = wheel_contents(wheel)
    with zipfile.ZipFile(wheel) as archive:
        entry_points = archive.read(f"{info}/entry_points.txt").decode()
    assert "constructs_lib/py.typed" in names
    assert not any(name.startswith(("tests/", "stacks/", "scan/", "scripts/")) for name in names)
    assert "admin-port-guard = constructs_lib.guard.__main__:main" in entry_points
    assert "admin-port-exposure = constructs_lib.exposure:main" in entry_points
    assert "live" in metadata.get_all("Provides-Extra")
    assert any(requirement.startswith("boto3") and 'extra == "live"' in requirement for requirement in metadata.get_all("Requires-Dist"))


def test_wheel_declares_its_licence_and_keeps_the_cdk_and_dev_pins_out_of_the_base_install(wheel: Path) -> None:
    names, info, metadata = wheel_contents(wheel)
    assert metadata["License-Expression"] == "Apache-2.0"
    assert f"{info}/licenses/LICENSE" in names
    assert "Typing :: Typed" in metadata.get_all("Classifier") and "Topic :: Security" in metadata.get_all("Classifier")
    requirements = metadata.get_all("Requires-Dist")
    base = [requirement for requirement in requirements if "extra ==" not in requirement]
    assert [re.split("[<>=!~;, ]", requirement)[0] for requirement in base] == ["PyYAML"]
    cdk = [requirement for requirement in requirements if 'extra == "cdk"' in requirement]
    assert {re.split("[<>=!~;, ]", requirement)[0] for requirement in cdk} == {"aws-cdk-lib", "constructs"}
    assert sorted(metadata.get_all("Provides-Extra")) == ["cdk", "live"]  # no published dev extra with exact pins
    assert not any("==" in requirement.split(";")[0] for requirement in requirements)  # no exact pins


def test_the_published_floors_are_the_versions_make_compat_runs() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = [Requirement(line) for line in project["dependencies"] + [r for extra in project["optional-dependencies"].values() for r in extra]]
    floors = {r.name: Version(s.version) for r in declared for s in r.specifier if s.operator == ">="}
    assert set(floors) == {r.name for r in declared}  # every dependency has a floor
    compat = [Requirement(line) for name in ("requirements-compat-floor.txt", "requirements-compat-live-floor.txt")
              for line in (ROOT / name).read_text().splitlines() if line and not line.startswith("#")]
    pinned = {r.name: Version(next(iter(r.specifier)).version) for r in compat}
    assert floors == {name: pinned[name] for name in floors}


def test_sdist_leaves_the_tests_out_and_carries_the_licence(tmp_path: Path) -> None:
    run([sys.executable, "-c", "from setuptools import build_meta; import sys; build_meta.build_sdist(sys.argv[1])", str(tmp_path)], ROOT)
    (sdist,) = tmp_path.glob("admin_port_guard-*.tar.gz")
    with tarfile.open(sdist) as archive:
        names = [name.split("/", 1)[1] for name in archive.getnames() if "/" in name]
    assert "LICENSE" in names and "RULES.md" in names and "constructs_lib/policy/rules.py" in names
    assert not any(name.startswith(("tests/", "stacks/", "scan/", "scripts/", "benchmarks/")) for name in names)


def test_the_cli_alone_installs_in_a_clean_venv_under_50_mb_and_checks_a_template(wheel: Path, tmp_path: Path) -> None:
    """The pre-commit hook's install: the package without extras (no aws-cdk-lib), into a venv without pip."""
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", str(venv)], tmp_path)
    run([str(BIN / "uv"), "pip", "install", "--quiet", "--python", str(venv / "bin" / "python"), str(wheel)], tmp_path)
    size = sum(path.stat().st_size for path in venv.rglob("*") if path.is_file() and not path.is_symlink())
    assert size < 50 * 2**20, f"the CLI install takes {size / 2**20:.1f} MB"
    installed = run([str(venv / "bin" / "python"), "-c", "import importlib.util as u; print(u.find_spec('aws_cdk'))"], tmp_path)
    assert installed == "None\n"
    template = tmp_path / "open.template.yaml"
    template.write_text("Resources:\n  Sg:\n    Type: AWS::EC2::SecurityGroup\n    Properties:\n      GroupDescription: x\n"
                        "      SecurityGroupIngress: [{IpProtocol: tcp, FromPort: 22, ToPort: 22, CidrIp: 0.0.0.0/0}]\n")
    result = subprocess.run([str(venv / "bin" / "admin-port-guard"), str(template)], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and "WorldOpenAdminPort[22]" in result.stdout, result.stdout + result.stderr
    missing = subprocess.run([str(venv / "bin" / "python"), "-c", "from constructs_lib import BastionWebTier"],
                             cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert missing.returncode == 1 and "install this package with its cdk extra" in missing.stderr, missing.stderr
