"""The admin ports: one table, read by the rules, the constructs, the CLI, the docs and the tests."""

from __future__ import annotations

#: Ports that give a shell or a desktop on the host: ``{port: (service, why it is an admin port)}``.
ADMIN_PORT_TABLE = {
    22: ("SSH", "remote shell; the seed of this project"),
    23: ("Telnet", "remote shell, in clear text"),
    3389: ("RDP", "remote desktop (Windows)"),
    5900: ("VNC", "remote desktop"),
    5985: ("WinRM over HTTP", "remote PowerShell"),
    5986: ("WinRM over HTTPS", "remote PowerShell"),
}

#: The default admin ports as ``{port: service name}``.
DEFAULT_ADMIN_PORTS = {port: service for port, (service, _) in ADMIN_PORT_TABLE.items()}


def port_name(port: int) -> str:
    """The service name of a well-known admin port, ``admin`` for any other port."""
    return DEFAULT_ADMIN_PORTS.get(port, "admin")


def parse_admin_ports(text: str) -> dict[int, str]:
    """Parse ``"22,3389,8443"`` into admin ports, naming the well-known ones; ``ValueError`` if malformed."""
    ports: dict[int, str] = {}
    for item in text.split(","):
        item = item.strip()
        if not (item.isascii() and item.isdigit()) or not 0 < int(item) <= 65535:
            raise ValueError(f"admin port {item!r} is not a TCP port number 1-65535")
        ports[int(item)] = port_name(int(item))
    return ports


def normalize_admin_ports(ports: object) -> dict[int, str]:
    """Admin ports as ``{port: name}`` from a mapping or an iterable of ports; ``None`` means the defaults."""
    if ports is None:
        return dict(DEFAULT_ADMIN_PORTS)
    if isinstance(ports, (str, bytes)):
        raise ValueError(f"admin ports must be a list of port numbers, not {ports!r}; for example [22, 3389]")
    try:
        names = dict(ports) if hasattr(ports, "keys") else {port: None for port in ports}  # type: ignore[union-attr]
    except TypeError:
        raise ValueError(f"admin ports must be a list of port numbers, not {ports!r}; for example [22, 3389]") from None
    for port in names:
        if isinstance(port, bool) or not isinstance(port, int) or not 0 < port <= 65535:
            raise ValueError(f"admin port {port!r} is not a TCP port number 1-65535")
    if not names:
        raise ValueError("the set of admin ports is empty; the guard would check nothing")
    return {port: name if isinstance(name, str) and name else port_name(port) for port, name in names.items()}
