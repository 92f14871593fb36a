"""Which WHOIS server answers for a domain, and what to ask it.

The TLD -> server map is bundled (resources/whois/servers.json, an IANA snapshot whose
provenance is in its "_meta" key and in SOURCES.md beside it): no lookup depends on
reaching IANA. Settings come first: `whois_server` replaces the registry for every
domain (tests and demos point it at a local peer), and `whois_overrides` says where a
server *name* is really reached, so a referral to "whois.viennadomains.test" can be
routed to 127.0.0.1 without touching DNS.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from workbench.domain.errors import InvalidInput, WorkbenchError
from workbench.domain.normalise import Hostname
from workbench.lookups.settings import LookupSettings, ServerAddress
from workbench.resources import resources_dir

WHOIS_PORT = 43
SERVER_MAP_PATH = resources_dir() / "whois"  # the bundled copy, never written to


def refreshed_server_map_dir() -> Path:
    """Where `workbench data refresh` writes a newer map (the app folder may be read-only)."""
    return Path(platformdirs.user_data_dir("workbench", appauthor=False)) / "whois"


def default_server_map_dir() -> Path:
    """The refreshed map when there is one, else the bundled one."""
    refreshed = refreshed_server_map_dir()
    return refreshed if (refreshed / "servers.json").is_file() else SERVER_MAP_PATH


class WhoisDataMissing(WorkbenchError):
    """The bundled server map is absent or unreadable: the installation is incomplete."""


class NoWhoisServer(WorkbenchError):
    """No WHOIS server is known for a domain's TLD (IANA lists none, or the TLD is unknown)."""

    def __init__(self, domain: str, tld: str, listed: bool):
        self.domain = domain
        self.tld = tld
        why = "IANA lists no WHOIS server for it" if listed else "it is not in the bundled map"
        super().__init__(f"no WHOIS server is known for {domain}: .{tld} has none ({why})")


@dataclass(frozen=True)
class ServerMap:
    """The bundled map: TLD (A-label, no dot) -> server name or None, and query forms."""

    servers: dict[str, str | None]
    query_forms: dict[str, str]
    meta: dict[str, object]


@functools.cache
def load_server_map(path: Path | None = None) -> ServerMap:
    """Read servers.json once. Raises WhoisDataMissing, naming the file, when it is absent."""
    file = (path or default_server_map_dir()) / "servers.json"
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise WhoisDataMissing(
            f"the bundled WHOIS server map is missing: expected {file} "
            "(install the workbench from its source tree, e.g. `pip install -e .`)"
        ) from None
    except (OSError, ValueError) as exc:
        raise WhoisDataMissing(
            f"the bundled WHOIS server map {file} is unreadable: {exc}"
        ) from None
    return ServerMap(
        servers=dict(data["servers"]),
        query_forms=dict(data.get("query_forms", {})),
        meta=dict(data.get("_meta", {})),
    )


def registry_server_name(domain: Hostname | str) -> str | None:
    """The registry WHOIS server the bundled map names for `domain`, or None.

    The longest matching suffix wins, so a second-level entry (were one added) beats its TLD.
    """
    name = domain.ascii if isinstance(domain, Hostname) else domain.strip(".").lower()
    servers = load_server_map().servers
    labels = name.split(".")
    for start in range(1, len(labels)):
        suffix = ".".join(labels[start:])
        if suffix in servers:
            return servers[suffix]
    return None


def address_for_name(
    server_name: str, settings: LookupSettings, port: int = WHOIS_PORT
) -> ServerAddress:
    """Where a server known by name is really reached: its override, else the name itself."""
    key = server_name.strip().rstrip(".").lower()
    override = settings.whois_overrides.get(key)
    if override is None:
        # Overrides may have been typed with other capitalisation.
        override = next(
            (addr for name, addr in settings.whois_overrides.items() if name.lower() == key), None
        )
    return override if override is not None else ServerAddress(key, port)


def server_name_for(domain: Hostname, settings: LookupSettings) -> str:
    """The name of the server a registry query for `domain` goes to.

    With `settings.whois_server` set, that host; otherwise the map's registry server.
    Raises NoWhoisServer when neither names one.
    """
    if settings.whois_server is not None:
        return settings.whois_server.host
    name = registry_server_name(domain)
    if name is None:
        tld = domain.ascii.rsplit(".", 1)[-1]
        raise NoWhoisServer(domain.ascii, tld, tld in load_server_map().servers)
    return name


def server_for(domain: Hostname, settings: LookupSettings) -> ServerAddress:
    """The address a registry query for `domain` connects to.

    `settings.whois_server` wins; otherwise the map's server, routed through
    `settings.whois_overrides` (keyed by server name). Raises NoWhoisServer.
    """
    if settings.whois_server is not None:
        return settings.whois_server
    return address_for_name(server_name_for(domain, settings), settings)


def query_for(server_name: str, domain: Hostname | str) -> str:
    """The query line (without CRLF) that `server_name` expects for `domain`.

    Verisign wants `domain NAME`, DENIC `-T dn,ace NAME`; most take the bare name. The
    domain is sent in its ASCII (A-label) form.
    """
    name = domain.ascii if isinstance(domain, Hostname) else domain.strip()
    if not name or any(ch in name for ch in "\r\n\t ") or not name.isascii():
        raise InvalidInput("domain", name, "is not a single ASCII (A-label) domain name")
    form = load_server_map().query_forms.get(server_name.strip().rstrip(".").lower(), "{domain}")
    return form.replace("{domain}", name)
