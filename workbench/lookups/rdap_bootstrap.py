"""Which RDAP server answers for a domain, an IP address or an AS number.

IANA publishes four bootstrap files (RFC 9224): dns.json maps TLDs to base URLs,
ipv4.json and ipv6.json map address blocks, asn.json maps AS number ranges. A copy of
each ships in resources/rdap/ (see SOURCES.md there), so lookups never fetch them at
run time; `refresh_bootstrap` replaces the copies when the investigator asks for it
(`workbench data refresh`), through whatever fetch function the caller supplies.

Unlike whoisit, nothing here is global mutable state: the loaded files are cached per
directory and the cache is dropped when a refresh rewrites that directory.
"""

from __future__ import annotations

import functools
import ipaddress
import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from workbench.domain.errors import WorkbenchError
from workbench.domain.normalise import Hostname
from workbench.resources import resources_dir

IANA_BOOTSTRAP_BASE = "https://data.iana.org/rdap/"
BOOTSTRAP_FILES = ("dns.json", "ipv4.json", "ipv6.json", "asn.json")
# A real bootstrap file is well under 1 MiB; anything far larger is not one.
MAX_BOOTSTRAP_BYTES = 8 * 1024 * 1024

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class BootstrapError(WorkbenchError):
    """The bundled or downloaded bootstrap files are missing or not usable."""


def bundled_bootstrap_dir() -> Path:
    """The copies shipped with the app (resources/rdap); never written to."""
    return resources_dir() / "rdap"


def refreshed_bootstrap_dir() -> Path:
    """Where `workbench data refresh` puts newer copies: the user's data folder, since the
    app's own folder may be read-only once installed."""
    return Path(platformdirs.user_data_dir("workbench", appauthor=False)) / "rdap"


def default_bootstrap_dir() -> Path:
    """The refreshed copies when a refresh has written all four, else the bundled ones."""
    refreshed = refreshed_bootstrap_dir()
    if all((refreshed / name).is_file() for name in BOOTSTRAP_FILES):
        return refreshed
    return bundled_bootstrap_dir()


@dataclass(frozen=True)
class Bootstrap:
    """The four IANA files, indexed for lookups."""

    directory: Path
    publications: dict[str, str]
    tlds: dict[str, tuple[str, ...]]
    v4: tuple[tuple[ipaddress.IPv4Network, tuple[str, ...]], ...]  # longest prefix first
    v6: tuple[tuple[ipaddress.IPv6Network, tuple[str, ...]], ...]
    asns: tuple[tuple[int, int, tuple[str, ...]], ...]

    def for_domain(self, domain: Hostname) -> list[str]:
        labels = domain.ascii.split(".")
        # RFC 9224 allows multi-label entries; the longest matching suffix wins.
        for start in range(len(labels)):
            urls = self.tlds.get(".".join(labels[start:]))
            if urls:
                return list(urls)
        return []

    def for_ip(self, address: IpAddress) -> list[str]:
        table = self.v4 if address.version == 4 else self.v6
        for network, urls in table:
            if address in network:
                return list(urls)
        return []

    def for_asn(self, number: int) -> list[str]:
        for first, last, urls in self.asns:
            if first <= number <= last:
                return list(urls)
        return []


def _prefer_https(urls: list[str]) -> tuple[str, ...]:
    """https before http, otherwise in the order IANA lists them, each ending in '/'."""
    cleaned = [u if u.endswith("/") else u + "/" for u in urls if isinstance(u, str) and u]
    cleaned = [u for u in cleaned if u.lower().startswith(("https://", "http://"))]
    return tuple(sorted(cleaned, key=lambda u: not u.lower().startswith("https://")))


def validate_bootstrap_document(name: str, raw: bytes) -> dict:
    """Parse one bootstrap file and check its shape; raise BootstrapError if unusable."""
    if len(raw) > MAX_BOOTSTRAP_BYTES:
        raise BootstrapError(f"{name} is {len(raw)} bytes, too large to be a bootstrap file")
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise BootstrapError(f"{name} is not valid JSON ({exc})") from None
    if not isinstance(doc, dict):
        raise BootstrapError(f"{name} is not a JSON object")
    if not isinstance(doc.get("publication"), str) or not doc["publication"]:
        raise BootstrapError(f"{name} has no 'publication' date")
    services = doc.get("services")
    if not isinstance(services, list) or not services:
        raise BootstrapError(f"{name} has no 'services' list")
    for entry in services:
        if (
            not isinstance(entry, list)
            or len(entry) < 2
            or not isinstance(entry[0], list)
            or not isinstance(entry[1], list)
            or not all(isinstance(x, str) for x in entry[0] + entry[1])
        ):
            raise BootstrapError(f"{name} has a service entry that is not [[keys], [urls]]")
    return doc


def _index(directory: Path) -> Bootstrap:
    docs: dict[str, dict] = {}
    for name in BOOTSTRAP_FILES:
        path = directory / name
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            raise BootstrapError(
                f"the RDAP bootstrap file {path} is missing; reinstall the workbench or run "
                "`workbench data refresh`"
            ) from None
        except OSError as exc:
            raise BootstrapError(f"cannot read the RDAP bootstrap file {path}: {exc}") from None
        docs[name] = validate_bootstrap_document(name, raw)

    tlds: dict[str, tuple[str, ...]] = {}
    for keys, urls in (entry[:2] for entry in docs["dns.json"]["services"]):
        for key in keys:
            tlds[key.lower().strip(".")] = _prefer_https(urls)

    v4: list[tuple[ipaddress.IPv4Network, tuple[str, ...]]] = []
    v6: list[tuple[ipaddress.IPv6Network, tuple[str, ...]]] = []
    for name, table in (("ipv4.json", v4), ("ipv6.json", v6)):
        for keys, urls in (entry[:2] for entry in docs[name]["services"]):
            for key in keys:
                try:
                    table.append((ipaddress.ip_network(key, strict=False), _prefer_https(urls)))
                except ValueError:
                    continue  # one odd key should not lose the rest of the file
    v4.sort(key=lambda item: item[0].prefixlen, reverse=True)
    v6.sort(key=lambda item: item[0].prefixlen, reverse=True)

    asns: list[tuple[int, int, tuple[str, ...]]] = []
    for keys, urls in (entry[:2] for entry in docs["asn.json"]["services"]):
        for key in keys:
            first, _, last = key.partition("-")
            if first.isdigit() and (not last or last.isdigit()):
                asns.append((int(first), int(last or first), _prefer_https(urls)))

    return Bootstrap(
        directory=directory,
        publications={name: docs[name]["publication"] for name in BOOTSTRAP_FILES},
        tlds=tlds,
        v4=tuple(v4),
        v6=tuple(v6),
        asns=tuple(asns),
    )


@functools.cache
def _load_cached(directory: Path) -> Bootstrap:
    return _index(directory)


def load_bootstrap(directory: Path | None = None) -> Bootstrap:
    """The bootstrap files of `directory` (default: the bundled copies), parsed once."""
    return _load_cached((directory or default_bootstrap_dir()).resolve())


def base_urls_for_domain(domain: Hostname, directory: Path | None = None) -> list[str]:
    """RDAP base URLs (https first, each ending in '/') of the registry for `domain`."""
    return load_bootstrap(directory).for_domain(domain)


def base_urls_for_ip(address: str | IpAddress, directory: Path | None = None) -> list[str]:
    """RDAP base URLs of the RIR whose block most specifically covers `address`."""
    if isinstance(address, str):
        try:
            address = ipaddress.ip_address(address.strip().strip("[]"))
        except ValueError:
            return []
    return load_bootstrap(directory).for_ip(address)


def base_urls_for_asn(number: int, directory: Path | None = None) -> list[str]:
    """RDAP base URLs of the RIR that allocated AS `number`."""
    return load_bootstrap(directory).for_asn(int(number))


def refresh_bootstrap(
    dest: Path,
    fetch: Callable[[str], bytes],
    base_url: str = IANA_BOOTSTRAP_BASE,
) -> dict[str, str]:
    """Download the four IANA files through `fetch`, check them, and replace those in `dest`.

    All four are fetched and validated before any is written, so a failed download
    leaves the old copies in place. Each file is written to a temporary file in `dest`
    and moved over the old one with os.replace, which is atomic on one file system.
    Returns each file's new "publication" date.
    """
    downloaded: dict[str, tuple[bytes, str]] = {}
    for name in BOOTSTRAP_FILES:
        url = base_url.rstrip("/") + "/" + name
        try:
            raw = fetch(url)
        except Exception as exc:  # the caller's fetch may raise anything; name the file
            raise BootstrapError(f"could not download {url}: {exc}") from exc
        if not isinstance(raw, bytes | bytearray):
            raise BootstrapError(f"fetching {url} returned {type(raw).__name__}, not bytes")
        doc = validate_bootstrap_document(name, bytes(raw))
        downloaded[name] = (bytes(raw), doc["publication"])

    dest.mkdir(parents=True, exist_ok=True)  # only now: a failed refresh leaves no folder
    for name, (raw, _) in downloaded.items():
        fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=dest)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(raw)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, dest / name)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    _load_cached.cache_clear()
    return {name: publication for name, (_, publication) in downloaded.items()}
