"""The documentation says what the code does: RULES.md's tables are checked against the code's own tables."""

from __future__ import annotations

from pathlib import Path

from constructs_lib.policy import ADMIN_PORT_TABLE, DEFAULT_ADMIN_PORTS, READERS, RULES
from constructs_lib.policy.ports import PROFILES
from constructs_lib.policy.cidr import NON_PUBLIC_BLOCKS

ROOT = Path(__file__).resolve().parent.parent


def table(document: str, header: str) -> list[list[str]]:
    """The rows of the Markdown table whose header row starts with ``header``, cells stripped of backticks."""
    lines = document.splitlines()
    start = next(index for index, line in enumerate(lines) if line.startswith(f"| {header} |"))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip().strip("`") for cell in line.strip().strip("|").split("|")])
    return rows


RULES_MD = (ROOT / "RULES.md").read_text(encoding="utf-8")


def test_the_rules_table_lists_every_rule_in_order() -> None:
    assert [row[0].replace("[PORT]", "") for row in table(RULES_MD, "Rule ID")] == [rule.id for rule in RULES]


def test_the_admin_port_table_is_the_code_s() -> None:
    assert [(int(port), service, why) for port, service, why in table(RULES_MD, "Port")] == [
        (port, service, why) for port, (service, why) in ADMIN_PORT_TABLE.items()
    ]


def test_the_non_public_blocks_are_the_code_s() -> None:
    assert [tuple(row) for row in table(RULES_MD, "Non-public block")] == list(NON_PUBLIC_BLOCKS[4])
    for block, _ in NON_PUBLIC_BLOCKS[6][3:]:  # the documentation prefixes inside global unicast
        assert f"`{block}`" in RULES_MD


def test_every_resource_type_read_is_documented_and_every_documented_one_is_read() -> None:
    assert {row[0] for row in table(RULES_MD, "Resource type")} == set(READERS)


def test_the_readme_names_every_default_admin_port() -> None:
    first_paragraph = (ROOT / "README.md").read_text(encoding="utf-8").split("\n\n")[2]
    for port, service in DEFAULT_ADMIN_PORTS.items():
        assert str(port) in first_paragraph and service.split()[0] in first_paragraph, (port, service)


def test_the_profiles_table_is_the_code_s() -> None:
    assert {row[0]: [int(port) for port in row[1].split(", ")] for row in table(RULES_MD, "Profile")} == {
        name: list(ports) for name, ports in PROFILES.items()
    }
    assert all(port in ADMIN_PORT_TABLE for ports in PROFILES.values() for port in ports)  # every port is named


def test_each_rule_has_the_section_its_help_link_names() -> None:
    from constructs_lib.guard.formats import help_uri

    for rule in RULES:
        assert help_uri(rule).endswith(f"#{rule.id.lower()}")
        section = RULES_MD.split(f"\n#### {rule.id}\n\n", 1)[1].split("\n", 1)[0]
        assert section == f"{rule.name}. {rule.summary} Fix: {rule.fix}"
