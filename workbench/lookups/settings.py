"""Where lookups go and how politely: one declaration with defaults.

The UI stores these in QSettings and the CLI builds them from flags; tests point every
server at 127.0.0.1. Nothing in lookups reads a server name from anywhere else.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from workbench.domain.errors import InvalidInput
from workbench.domain.normalise import normalise_hostname, normalise_ip


@dataclass(frozen=True)
class ServerAddress:
    host: str
    port: int

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


def parse_server(text: str, default_port: int, field_name: str = "server") -> ServerAddress:
    """`HOST`, `HOST:PORT` or `[V6]:PORT` to a ServerAddress.

    The host must be an IP address or a valid host name (kept in its ASCII form): a
    server's name comes from the user or from a referral in a server's answer, and text
    such as `a b`, `-h`, `evil\x1b[2J` or 300 characters must not reach a connect call,
    a log line or the screen as a "server".
    """
    raw = (text or "").strip()
    if not raw:
        raise InvalidInput(field_name, text, "is empty")
    if raw.startswith("["):
        host, bracket, rest = raw[1:].partition("]")
        if not bracket:
            raise InvalidInput(field_name, text, "has a '[' without its ']' around the IPv6 host")
        if rest and not rest.startswith(":"):
            raise InvalidInput(field_name, text, "has text after the ']' that is not ':PORT'")
        port_text = rest[1:]
    elif raw.count(":") == 1:
        host, port_text = raw.split(":")
    else:
        host, port_text = raw, ""
    port = default_port
    if port_text or raw.endswith(":"):
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise InvalidInput(field_name, text, "has a port that is not 1-65535")
        port = int(port_text)
    return ServerAddress(server_host(host, field_name, text), port)


def server_host(host: str, field_name: str, shown: str) -> str:
    """A server's host: an IP address, or a valid host name in its ASCII form;
    InvalidInput naming `field_name` and the text as the user gave it (`shown`)."""
    if not host or host.startswith("-"):
        raise InvalidInput(field_name, shown, "has no valid host")
    try:
        return normalise_ip(host, field_name)
    except InvalidInput:
        pass
    try:
        return normalise_hostname(host, field_name).ascii
    except InvalidInput as exc:
        raise InvalidInput(field_name, shown, f"has a host that {exc.reason}") from None


@dataclass(frozen=True)
class LookupSettings:
    """Every knob a lookup has. Defaults are for real use on the internet."""

    # WHOIS: None means "the server the bundled TLD map names"; overrides map a server
    # name (as found in the map or in a referral) to where it is really reached.
    whois_server: ServerAddress | None = None
    whois_overrides: dict[str, ServerAddress] = field(default_factory=dict)
    whois_follow_referral: bool = True
    # RDAP: None means "the base URL the bundled IANA bootstrap names".
    rdap_base_url: str | None = None
    rdap_ip_base_url: str | None = None
    dns_server: ServerAddress = ServerAddress("1.1.1.1", 53)
    timeout_s: float = 15.0  # overall deadline for one lookup, not per read
    dns_lifetime_s: float = 5.0  # per DNS query
    max_response_bytes: int = 1024 * 1024
    concurrency: int = 20  # lookups in flight in a bulk run
    per_server_concurrency: int = 2  # politeness: queries in flight per server
    per_server_interval_s: float = 1.0  # politeness: minimum gap between queries to one server
    rate_limit_backoff_s: float = 30.0
    # Referrals and RDAP links to private, loopback or link-local addresses are refused
    # unless this is set (the tests set it: their servers are on 127.0.0.1).
    allow_private_addresses: bool = False
    offline: bool = False
