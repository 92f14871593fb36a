"""RDAP over HTTP: fetch a registry's document, follow the registrar's once, keep both.

Our own small client over aiohttp rather than whoisit (global bootstrap state, drops
http URLs, refuses private addresses outright, loses the registry's entities when it
follows the related link) or httpx (its AsyncClient slows down as concurrency grows,
encode/httpx#3215; a bulk run keeps hundreds of lookups in flight). aiohttp also lets us
check every address a host name resolves to before connecting (a resolver hook), so a
redirect or a "related" link cannot steer us to a private network.

What each lookup promises:
  * one overall deadline (`settings.timeout_s`) for the network time of the whole lookup,
    redirects and the registrar's document included, so a server that trickles bytes is
    cut off; waiting for a politeness slot does not count against it;
  * at most `settings.max_response_bytes` read per response, what arrived is kept;
  * at most 3 redirects; no https-to-http downgrade; no cookies, no credentials, no proxy
    or .netrc from the environment; TLS verified;
  * hosts that are or resolve to private, loopback or link-local addresses are refused
    unless `settings.allow_private_addresses`;
  * every response body that arrived becomes a `Capture` (bytes exactly as received),
    also for failures, which say why in `LookupOutcome.reason`.

Politeness is per server, keyed by `server_key(url)` ("host:port").
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import errno
import functools
import ipaddress
import socket
import ssl
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver

import workbench
from workbench.domain.errors import InvalidInput
from workbench.domain.normalise import Hostname, normalise_ip
from workbench.lookups.politeness import Politeness
from workbench.lookups.rdap_bootstrap import (
    BootstrapError,
    base_urls_for_asn,
    base_urls_for_domain,
    base_urls_for_ip,
)
from workbench.lookups.rdap_parse import (
    RDAP_MEDIA_TYPE,
    RdapParseError,
    document_port43,
    merge_registration_facts,
    parse_rdap_autnum,
    parse_rdap_domain,
    parse_rdap_ip,
    related_registrar_url,
)
from workbench.lookups.results import (
    Capture,
    LookupOutcome,
    LookupStatus,
    NetworkFacts,
    RegistrationFacts,
)
from workbench.lookups.settings import LookupSettings

MAX_REDIRECTS = 3
MAX_RETRY_AFTER_S = 3600.0  # a server asking for more than an hour is not taken literally
_REDIRECT_CODES = {301, 302, 303, 307, 308}
_JSON_TYPES = {RDAP_MEDIA_TYPE, "application/json"}
_CHUNK = 64 * 1024
_OFFLINE_ERRNOS = {errno.ECONNREFUSED, errno.ENETUNREACH, errno.EHOSTUNREACH, errno.ENETDOWN}
USER_AGENT = f"RightsInvestigationWorkbench/{workbench.__version__} (RDAP lookups)"


class AddressRefused(OSError):
    """A host resolved to an address the settings do not allow us to contact."""


def address_allowed(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address,
    allow_private: bool,
    allow_loopback: bool = False,
) -> bool:
    """True when the address is a public unicast one, or the settings allow private ones."""
    if allow_private:
        return True
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if allow_loopback and address.is_loopback:
        return True
    return address.is_global and not address.is_multicast


def server_key(url: str) -> str:
    """The politeness key of a URL: host:port (default port filled in)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        port = 0
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class _GuardedResolver(AbstractResolver):
    """The system resolver, refusing names whose addresses the policy does not allow.

    Checking here, on the addresses aiohttp is about to connect to, also covers DNS
    answers that change between a check and the connection.
    """

    def __init__(self, allowed: Any) -> None:
        self._inner = ThreadedResolver()
        self._allowed = allowed

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        for result in results:
            address = ipaddress.ip_address(result["host"].split("%")[0])
            if not self._allowed(address):
                raise AddressRefused(
                    f"{host} resolves to {address}, a private, loopback or link-local address"
                )
        return results

    async def close(self) -> None:
        await self._inner.close()


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    # Built once: loading the trust store costs tens of milliseconds per session.
    context = ssl.create_default_context()
    try:  # the system store can be empty on some installs; certifi's bundle fills it
        import certifi

        context.load_verify_locations(certifi.where())
    except (ImportError, OSError):
        pass
    return context


class RdapSession:
    """One HTTP client shared by all RDAP lookups of a run (connection reuse, DNS cache).

    Create and use it inside the asyncio loop of the run:
        async with RdapSession(settings) as session:
            outcome, facts = await rdap_domain(domain, settings, session, politeness)
    `allow_loopback` lets tests on 127.0.0.1 exercise the refusal of other private
    ranges; real use leaves it off and relies on `settings.allow_private_addresses`.
    """

    def __init__(self, settings: LookupSettings, *, allow_loopback: bool = False) -> None:
        self.settings = settings
        self.allow_loopback = allow_loopback
        self._http: aiohttp.ClientSession | None = None

    def allows(self, address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
        return address_allowed(address, self.settings.allow_private_addresses, self.allow_loopback)

    async def open(self) -> aiohttp.ClientSession:
        if self._http is None or self._http.closed:
            connector = aiohttp.TCPConnector(
                resolver=_GuardedResolver(self.allows),
                limit=max(4, self.settings.concurrency * 2),
                limit_per_host=0,  # Politeness caps queries per server
                ssl=_ssl_context(),
                ttl_dns_cache=300,
            )
            self._http = aiohttp.ClientSession(
                connector=connector,
                cookie_jar=aiohttp.DummyCookieJar(),
                trust_env=False,
                timeout=aiohttp.ClientTimeout(total=None),
                headers={
                    "Accept": f"{RDAP_MEDIA_TYPE}, application/json;q=0.9",
                    "Accept-Encoding": "identity",
                    "User-Agent": USER_AGENT,
                },
            )
        return self._http

    async def close(self) -> None:
        if self._http is not None and not self._http.closed:
            await self._http.close()
        self._http = None

    async def __aenter__(self) -> RdapSession:
        await self.open()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()


@contextlib.asynccontextmanager
async def _session_for(
    session: RdapSession | None, settings: LookupSettings
) -> AsyncIterator[RdapSession]:
    if session is not None:
        yield session
        return
    async with RdapSession(settings) as own:
        yield own


# -- one HTTP exchange -------------------------------------------------------------------------


@dataclass
class _Budget:
    """Network time left for one lookup."""

    total_s: float
    spent_s: float = 0.0

    def remaining(self) -> float:
        return self.total_s - self.spent_s


@dataclass
class _Fetched:
    """What one document fetch ended with."""

    status: LookupStatus
    url: str
    body: bytes | None = None  # None: nothing arrived
    reason: str | None = None
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    elapsed_s: float = 0.0
    media_type: str = "application/octet-stream"

    def capture(self, query: str) -> Capture | None:
        if self.body is None:
            return None
        return Capture(
            protocol="rdap",
            server=self.url,
            query=query,
            raw=self.body,
            started_at=self.started_at,
            elapsed_s=self.elapsed_s,
            media_type=self.media_type,
        )


def _refusal(url: str, session: RdapSession) -> str | None:
    """Why we will not ask this URL at all, or None."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError as exc:
        return f"refused {url!r}: not a valid URL ({exc})"
    if parts.scheme not in ("http", "https"):
        return f"refused {url!r}: only http and https URLs are followed"
    if parts.username is not None or parts.password is not None:
        return f"refused {url!r}: the URL carries credentials"
    if not parts.hostname:
        return f"refused {url!r}: the URL has no host"
    try:
        literal = ipaddress.ip_address(parts.hostname.split("%")[0])
    except ValueError:
        return None  # a name: its addresses are checked when it is resolved
    if not session.allows(literal):
        return f"refused {url}: {literal} is a private, loopback or link-local address"
    return None


def _retry_after_s(value: str | None) -> float | None:
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return min(float(text), MAX_RETRY_AFTER_S)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, min((when - datetime.now(UTC)).total_seconds(), MAX_RETRY_AFTER_S))


def classify_connect_error(exc: BaseException) -> tuple[LookupStatus, str]:
    """Status and reason for a failure to reach a server at all."""
    os_error = getattr(exc, "os_error", None)
    if isinstance(os_error, AddressRefused):
        return LookupStatus.FAILED, f"refused: {os_error}"
    if isinstance(exc, aiohttp.ClientConnectorCertificateError | aiohttp.ClientSSLError):
        return LookupStatus.FAILED, f"TLS failure: {exc}"
    if isinstance(exc, aiohttp.ClientConnectorDNSError) or isinstance(os_error, socket.gaierror):
        return LookupStatus.OFFLINE, f"cannot resolve the server name: {os_error or exc}"
    code = getattr(os_error, "errno", None)
    if isinstance(os_error, ConnectionRefusedError) or code in _OFFLINE_ERRNOS:
        return LookupStatus.OFFLINE, f"cannot connect: {os_error}"
    return LookupStatus.FAILED, f"connection failed: {exc}"


async def _fetch(
    session: RdapSession,
    url: str,
    politeness: Politeness,
    budget: _Budget,
) -> _Fetched:
    """GET one RDAP document, following at most MAX_REDIRECTS redirects by hand."""
    settings = session.settings
    http = await session.open()
    current = url
    for hop in range(MAX_REDIRECTS + 1):
        refusal = _refusal(current, session)
        if refusal:
            return _Fetched(LookupStatus.FAILED, current, reason=refusal)
        if budget.remaining() <= 0:
            return _Fetched(LookupStatus.FAILED, current, reason=_timeout_reason(settings))
        key = server_key(current)
        result = _Fetched(LookupStatus.FAILED, current)
        next_url: str | None = None
        async with politeness.slot(key):
            result.started_at = datetime.now(UTC)
            start = time.monotonic()
            chunks: list[bytes] = []
            received = 0
            try:
                async with asyncio.timeout(budget.remaining()):
                    async with http.get(current, allow_redirects=False) as response:
                        if response.status in _REDIRECT_CODES:
                            next_url, refusal = _redirect_target(current, response)
                            if refusal:
                                result.reason = refusal
                                return result
                        else:
                            result.media_type = _media_type(response)
                            async for chunk in response.content.iter_chunked(_CHUNK):
                                chunks.append(chunk)
                                received += len(chunk)
                                if received > settings.max_response_bytes:
                                    break
                            result.body = b"".join(chunks)
                            _judge(result, response, received, settings, politeness, key)
            except TimeoutError:
                result.body = b"".join(chunks) if chunks else None
                result.reason = _timeout_reason(settings, received)
            except aiohttp.ClientPayloadError as exc:
                result.body = b"".join(chunks)
                result.reason = f"the response was cut short after {received} bytes ({exc})"
            except aiohttp.ClientConnectorError as exc:
                result.status, result.reason = classify_connect_error(exc)
            except (aiohttp.ClientError, OSError) as exc:
                result.body = b"".join(chunks) if chunks else None
                result.reason = f"the exchange with {key} failed: {exc!r}"
            finally:
                result.elapsed_s = time.monotonic() - start
                budget.spent_s += result.elapsed_s
        if next_url is None:
            return result
        if hop == MAX_REDIRECTS:
            break
        current = next_url
    return _Fetched(
        LookupStatus.FAILED,
        current,
        reason=f"more than {MAX_REDIRECTS} redirects (gave up at {current})",
    )


def _timeout_reason(settings: LookupSettings, received: int = 0) -> str:
    text = f"no complete answer within the {settings.timeout_s:g} s deadline for the lookup"
    return f"{text} ({received} bytes had arrived)" if received else text


def _media_type(response: aiohttp.ClientResponse) -> str:
    if "Content-Type" not in response.headers:
        return "application/octet-stream"
    return response.content_type.lower()


def _redirect_target(
    current: str, response: aiohttp.ClientResponse
) -> tuple[str | None, str | None]:
    location = response.headers.get("Location")
    if not location:
        return None, f"HTTP {response.status} redirect from {current} without a Location"
    target = urljoin(current, location.strip())
    if current.lower().startswith("https://") and target.lower().startswith("http://"):
        return None, f"refused a redirect from https to plain http ({target})"
    return target, None


def _judge(
    result: _Fetched,
    response: aiohttp.ClientResponse,
    received: int,
    settings: LookupSettings,
    politeness: Politeness,
    key: str,
) -> None:
    """Set status and reason from the HTTP status and what was read."""
    code = response.status
    phrase = f"HTTP {code} {response.reason or ''}".strip()
    if received > settings.max_response_bytes:
        result.body = (result.body or b"")[: settings.max_response_bytes]
        result.reason = (
            f"the response is larger than the {settings.max_response_bytes} byte cap "
            "(the first bytes are kept)"
        )
        return
    if code == 404:
        result.status, result.reason = LookupStatus.NOT_FOUND, f"{phrase}: no such object"
        return
    if code == 429:
        wait = _retry_after_s(response.headers.get("Retry-After"))
        politeness.back_off(key, wait)
        result.status = LookupStatus.RATE_LIMITED
        waited = f"; Retry-After {wait:g} s" if wait is not None else ""
        result.reason = f"{phrase}: the server asks us to slow down{waited}"
        return
    if code != 200:
        result.reason = f"{phrase} from the server"
        return
    declared = "Content-Type" in response.headers
    if (
        declared
        and result.media_type not in _JSON_TYPES
        and not result.media_type.endswith("+json")
    ):
        result.reason = f"the server answered with {result.media_type}, not RDAP JSON"
        return
    result.status = LookupStatus.OK
    result.media_type = RDAP_MEDIA_TYPE


# -- the lookups -------------------------------------------------------------------------------


def _join(base: str, kind: str, key: str) -> str:
    return base.rstrip("/") + f"/{kind}/" + quote(key, safe=":.")


def _outcome(status: LookupStatus, captures: list[Capture], reason: str | None) -> LookupOutcome:
    return LookupOutcome(status=status, captures=captures, reason=reason)


def _base_url(override: str | None, find: Any, what: str) -> tuple[str | None, str | None]:
    if override:
        return override, None
    try:
        urls = find()
    except BootstrapError as exc:
        return None, str(exc)
    if not urls:
        return None, f"no RDAP server is known for {what} (IANA bootstrap)"
    return urls[0], None


async def rdap_domain(
    domain: Hostname,
    settings: LookupSettings,
    session: RdapSession | None,
    politeness: Politeness,
) -> tuple[LookupOutcome, RegistrationFacts | None]:
    """The registry's RDAP document for `domain`, then the registrar's (one "related"
    link), both kept as captures; the facts merge the two."""
    if settings.offline:
        return _outcome(LookupStatus.OFFLINE, [], "offline mode: nothing was asked"), None
    tld = domain.ascii.rsplit(".", 1)[-1]
    base, problem = _base_url(
        settings.rdap_base_url, lambda: base_urls_for_domain(domain), f".{tld}"
    )
    if base is None:
        return _outcome(LookupStatus.FAILED, [], problem), None
    budget = _Budget(settings.timeout_s)
    async with _session_for(session, settings) as rdap:
        registry = await _fetch(rdap, _join(base, "domain", domain.ascii), politeness, budget)
        captures = [c for c in [registry.capture(domain.ascii)] if c]
        if registry.status is not LookupStatus.OK:
            return _outcome(registry.status, captures, registry.reason), None
        try:
            facts = _domain_facts(registry.body or b"", domain, settings)
        except RdapParseError as exc:
            return _outcome(LookupStatus.FAILED, captures, f"wrong content: {exc}"), None

        reason = None
        related = related_registrar_url(registry.body or b"")
        if related and related.rstrip("/") != registry.url.rstrip("/"):
            registrar = await _fetch(rdap, related, politeness, budget)
            capture = registrar.capture(domain.ascii)
            if capture:
                captures.append(capture)
            if registrar.status is LookupStatus.OK:
                try:
                    extra = _domain_facts(registrar.body or b"", domain, settings)
                    if extra.registrar and not extra.registrar.whois_server:
                        extra.registrar.whois_server = document_port43(registrar.body or b"")
                    facts = merge_registration_facts(facts, extra)
                except RdapParseError as exc:
                    reason = f"the registrar's RDAP document ({related}) is unusable: {exc}"
            else:
                reason = f"the registrar's RDAP document ({related}): {registrar.reason}"
        return _outcome(LookupStatus.OK, captures, reason), facts


def _domain_facts(raw: bytes, domain: Hostname, settings: LookupSettings) -> RegistrationFacts:
    facts = parse_rdap_domain(raw, max_bytes=settings.max_response_bytes)
    if facts.domain != domain.ascii:
        raise RdapParseError(f"the document is about {facts.domain!r}, not {domain.ascii!r}")
    return facts


async def _network_lookup(
    kind: str,
    key: str,
    base: str | None,
    problem: str | None,
    settings: LookupSettings,
    session: RdapSession | None,
    politeness: Politeness,
    parse: Any,
) -> tuple[LookupOutcome, NetworkFacts | None]:
    if settings.offline:
        return _outcome(LookupStatus.OFFLINE, [], "offline mode: nothing was asked"), None
    if base is None:
        return _outcome(LookupStatus.FAILED, [], problem), None
    async with _session_for(session, settings) as rdap:
        fetched = await _fetch(
            rdap, _join(base, kind, key), politeness, _Budget(settings.timeout_s)
        )
    captures = [c for c in [fetched.capture(key)] if c]
    if fetched.status is not LookupStatus.OK:
        return _outcome(fetched.status, captures, fetched.reason), None
    try:
        facts = parse(fetched.body or b"", query=key, max_bytes=settings.max_response_bytes)
    except RdapParseError as exc:
        return _outcome(LookupStatus.FAILED, captures, f"wrong content: {exc}"), None
    return _outcome(LookupStatus.OK, captures, None), facts


async def rdap_ip(
    address: str,
    settings: LookupSettings,
    session: RdapSession | None,
    politeness: Politeness,
) -> tuple[LookupOutcome, NetworkFacts | None]:
    """The RIR's network document for the block holding `address`."""
    ip = normalise_ip(address)
    base, problem = _base_url(
        settings.rdap_ip_base_url, lambda: base_urls_for_ip(ip), f"the address {ip}"
    )
    return await _network_lookup(
        "ip", ip, base, problem, settings, session, politeness, parse_rdap_ip
    )


async def rdap_autnum(
    asn: int,
    settings: LookupSettings,
    session: RdapSession | None,
    politeness: Politeness,
) -> tuple[LookupOutcome, NetworkFacts | None]:
    """The RIR's document for autonomous system `asn`."""
    if isinstance(asn, bool) or not isinstance(asn, int) or not 0 <= asn <= 4_294_967_295:
        raise InvalidInput("AS number", asn, "is not a 32-bit AS number")
    base, problem = _base_url(settings.rdap_ip_base_url, lambda: base_urls_for_asn(asn), f"AS{asn}")
    return await _network_lookup(
        "autnum", str(asn), base, problem, settings, session, politeness, parse_rdap_autnum
    )
