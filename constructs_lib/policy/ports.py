"""The admin ports: one table of services, and the named profiles a policy may use instead of listing ports.

Read by the rules, the constructs, the CLI, the docs and the tests.
"""

from __future__ import annotations

#: Ports the guard knows by name: ``{port: (service, why it matters)}``. The ``default`` profile's six come first.
ADMIN_PORT_TABLE = {
    22: ("SSH", "remote shell; the seed of this project"),
    23: ("Telnet", "remote shell, in clear text"),
    3389: ("RDP", "remote desktop (Windows)"),
    5900: ("VNC", "remote desktop"),
    5985: ("WinRM over HTTP", "remote PowerShell"),
    5986: ("WinRM over HTTPS", "remote PowerShell"),
    20: ("FTP data", "file transfer, in clear text"),
    21: ("FTP", "file transfer login, in clear text"),
    25: ("SMTP", "mail relay: open relays are abused for spam"),
    110: ("POP3", "mailbox login, in clear text"),
    135: ("MS RPC", "Windows remote procedure calls"),
    143: ("IMAP", "mailbox login, in clear text"),
    445: ("SMB", "Windows file sharing"),
    1433: ("SQL Server", "database"),
    1434: ("SQL Server Browser", "database instance discovery"),
    3000: ("web development server", "development servers (Node.js, Ruby, Go frameworks) without authentication"),
    3306: ("MySQL", "database"),
    4333: ("mSQL", "database"),
    5000: ("web development server", "development servers (Python frameworks) without authentication"),
    5432: ("PostgreSQL", "database"),
    5500: ("VNC HTTP", "remote desktop, and other remote-control tools"),
    5601: ("Kibana", "search and analytics dashboards"),
    8080: ("HTTP proxy or alternate HTTP", "application servers' admin consoles"),
    8088: ("HTTP alternate", "cluster managers' web interfaces (YARN)"),
    8888: ("HTTP alternate", "notebooks and admin web interfaces (Jupyter)"),
    9200: ("Elasticsearch", "search cluster API"),
    9300: ("Elasticsearch transport", "search cluster node-to-node"),
}

#: Named port lists a policy may give instead of (or beside) port numbers: ``"adminPorts": ["cis", 8443]``.
#: ``securityhub-ec2.19``: the ports of AWS Security Hub control EC2.19 ("Security groups should not allow
#: unrestricted access to ports with high risk"); ``cis``: the remote server administration ports of the CIS AWS
#: Foundations Benchmark (5.2/5.3, Security Hub controls EC2.53/EC2.54). RULES.md cites both.
PROFILES = {
    "default": (22, 23, 3389, 5900, 5985, 5986),
    "cis": (22, 3389),
    "securityhub-ec2.19": (20, 21, 22, 23, 25, 110, 135, 143, 445, 1433, 1434, 3000, 3306, 3389, 4333, 5000, 5432,
                           5500, 5601, 8080, 8088, 8888, 9200, 9300),
}

#: The default admin ports as ``{port: service name}``.
DEFAULT_ADMIN_PORTS = {port: ADMIN_PORT_TABLE[port][0] for port in PROFILES["default"]}


def port_name(port: int) -> str:
    """The service name of a port the table knows, ``admin`` for any other port."""
    known = ADMIN_PORT_TABLE.get(port)
    return known[0] if known else "admin"


def parse_admin_ports(text: str) -> dict[int, str]:
    """Parse ``"22,3389,8443"`` or ``"cis,8443"`` into admin ports, naming the known ones; ``ValueError`` if malformed."""
    items: list[object] = []
    for item in text.split(","):
        item = item.strip()
        if item in PROFILES:
            items.append(item)
        elif not (item.isascii() and item.isdigit()) or not 0 < int(item) <= 65535:
            raise ValueError(f"admin port {item!r} is not a TCP port number 1-65535 or a profile ({', '.join(PROFILES)})")
        else:
            items.append(int(item))
    return normalize_admin_ports(items)


def normalize_admin_ports(ports: object) -> dict[int, str]:
    """Admin ports as ``{port: name}`` from a mapping, a profile name, or an iterable of ports and profile names;
    ``None`` means the defaults."""
    if ports is None:
        return dict(DEFAULT_ADMIN_PORTS)
    wrong = f"admin ports must be a list of port numbers, not {ports!r}; for example [22, 3389] (or a profile: {', '.join(PROFILES)})"
    if isinstance(ports, str) and ports in PROFILES:
        ports = [ports]
    if isinstance(ports, (str, bytes)):
        raise ValueError(wrong)
    try:
        items = dict(ports) if hasattr(ports, "keys") else {port: None for port in ports}  # type: ignore[call-overload, attr-defined]  # any value: a TypeError is the user's
    except TypeError:
        raise ValueError(wrong) from None
    names: dict[object, object] = {}
    for item, name in items.items():
        if isinstance(item, str) and not item.isdigit():
            if item not in PROFILES:
                raise ValueError(f"admin port profile {item!r} is unknown; known: {', '.join(PROFILES)}")
            names.update((port, names.get(port)) for port in PROFILES[item])
        else:
            names[item] = name
    for port in names:
        if isinstance(port, bool) or not isinstance(port, int) or not 0 < port <= 65535:
            raise ValueError(f"admin port {port!r} is not a TCP port number 1-65535")
    if not names:
        raise ValueError("the set of admin ports is empty; the guard would check nothing")
    return {port: name if isinstance(name, str) and name else port_name(port) for port, name in names.items()}  # type: ignore[misc, arg-type]  # every port was checked to be an int above
