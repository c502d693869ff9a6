"""The rule function's code: the handler, the live audit's adapter and the policy core, copied at synth time.

No Docker and no pip: the function needs nothing the Lambda Python runtime lacks (boto3 is part of it).
The directory holds ``constructs_lib/policy/`` (a package) and the two modules ``constructs_lib/guard/live.py``
and ``constructs_lib/config_rule/handler.py`` without their packages' ``__init__`` files: Python imports
them as namespace packages, so neither the CLI nor ``aws_cdk`` comes along. It is built once per content
(the name carries a hash of the files) under the temporary directory and reused by later synths.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent
#: Lambda handler of the function (module path inside the asset, function name).
HANDLER = "constructs_lib.config_rule.handler.handler"


def source_files() -> list[Path]:
    """The files the function imports, relative to the ``constructs_lib`` package."""
    policy = sorted(path.relative_to(PACKAGE) for path in (PACKAGE / "policy").rglob("*.py"))
    return [*policy, Path("guard", "live.py"), Path("config_rule", "handler.py"), Path("config_rule", "remediate.py")]


def build_asset(parent: Path | None = None) -> Path:
    """The asset directory for the current sources, built if needed (atomically: safe for concurrent synths)."""
    files = source_files()
    digest = hashlib.sha256()
    for relative in files:
        digest.update(relative.as_posix().encode() + b"\0" + (PACKAGE / relative).read_bytes() + b"\0")
    parent = parent or Path(tempfile.gettempdir())
    target = parent / f"admin-port-guard-config-rule-{digest.hexdigest()[:20]}"
    if target.is_dir():
        return target
    staging = Path(tempfile.mkdtemp(prefix=f"{target.name}.", dir=parent))
    staging.chmod(0o755)  # mkdtemp's 0700 would travel into the zip
    for relative in files:
        destination = staging / "constructs_lib" / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(PACKAGE / relative, destination)
    try:
        os.rename(staging, target)
    except OSError:
        shutil.rmtree(staging)
        if not target.is_dir():  # not a concurrent build of the same content: a real error
            raise
    return target
