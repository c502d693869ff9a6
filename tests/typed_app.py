"""The user app the type-checking tests check (tests/typing/user_app.py), and its copy with a wrong prop type."""

from __future__ import annotations

from pathlib import Path

APP = Path(__file__).resolve().parent / "typing" / "user_app.py"
_RIGHT, _WRONG = "web_ports=[80, 443]", 'web_ports="80"'


def with_wrong_prop(directory: Path) -> Path:
    """A copy of the app in ``directory`` that passes ``web_ports`` a string: a type checker must refuse it."""
    text = APP.read_text()
    assert _RIGHT in text, f"{APP} no longer passes {_RIGHT}"
    wrong = directory / "wrong_app.py"
    wrong.write_text(text.replace(_RIGHT, _WRONG))
    return wrong
