"""WHOIS over TCP (RFC 3912), ours: an overall deadline, a size cap, one referral.

`fetch_whois` asks one server one question and returns the bytes as a `Capture`, or
raises a typed error that still carries what was received (a response cut off by the
deadline or the size cap is evidence of what the server sent). `whois_lookup` is the
whole lookup an investigator means by "WHOIS for soundsbox.test": the registry, then the
registrar it names, politely, with every answer kept.

Choices worth knowing:
- The deadline (`settings.timeout_s`) is for the whole lookup's network time, registry and
  registrar together; waiting for a politeness slot does not count against it, so a bulk
  run that queues behind a slow server does not time out while it waits.
- When the registry answered but the registrar step fails (refused, silent, garbage,
  rate-limited, private address), the lookup is still `ok` with the registry's facts: they
  are true and useful (registrar, dates, name servers). `reason` says what went wrong with
  the registrar and its capture, if any, is kept.
- Only one referral is followed, never one back to the server that referred, and never
  one to a private, loopback or link-local address unless
  `settings.allow_private_addresses` (checked on the address actually connected to, after
  resolving, and on literal addresses).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from workbench.domain.errors import InvalidInput, WorkbenchError
from workbench.domain.normalise import Hostname
from workbench.lookups.politeness import Politeness
from workbench.lookups.results import Capture, LookupOutcome, LookupStatus, RegistrationFacts
from workbench.lookups.settings import LookupSettings, ServerAddress, parse_server
from workbench.lookups.whois_parse import (
    WhoisParseError,
    decode_whois,
    has_registration_data,
    merge_registry_and_registrar,
    parse_whois,
    whois_not_found,
    whois_rate_limited,
    whois_referral,
)
from workbench.lookups.whois_servers import (
    WHOIS_PORT,
    NoWhoisServer,
    address_for_name,
    query_for,
    server_for,
    server_name_for,
)

_READ_CHUNK = 65536


class WhoisTransportError(WorkbenchError):
    """One WHOIS exchange failed. `capture` holds whatever was received (None if nothing)."""

    def __init__(self, server: ServerAddress, message: str, capture: Capture | None = None):
        self.server = server
        self.capture = capture
        super().__init__(f"WHOIS server {server}: {message}")


class WhoisOffline(WhoisTransportError):
    """The server could not be reached: refused, unreachable, or its name does not resolve."""


class WhoisTimeout(WhoisTransportError):
    """The overall deadline passed before the server finished its answer."""


class WhoisTooLarge(WhoisTransportError):
    """The answer went past the size cap; the capture keeps the first `max_bytes`."""


class WhoisConnectionLost(WhoisTransportError):
    """The connection was reset in the middle of the answer."""


async def fetch_whois(
    server: ServerAddress,
    query: str,
    *,
    deadline_s: float,
    max_bytes: int,
    connect_host: str | None = None,
) -> Capture:
    """Send `query` + CRLF to `server` and read the answer until the server closes.

    `deadline_s` bounds the whole exchange (connect, send, every read): a server that
    trickles one byte a second still hits it. `connect_host`, if given, is the address
    to connect to in place of `server.host` (an address already resolved and checked);
    the capture still names `server`.
    """
    if "\r" in query or "\n" in query:
        raise InvalidInput("whois query", query, "contains a line break")
    started_at = datetime.now(UTC)
    t0 = time.monotonic()
    received = bytearray()

    def capture(raw: bytes) -> Capture:
        return Capture(
            protocol="whois",
            server=str(server),
            query=query,
            raw=bytes(raw),
            started_at=started_at,
            elapsed_s=time.monotonic() - t0,
        )

    def partial() -> Capture | None:
        return capture(received) if received else None

    writer: asyncio.StreamWriter | None = None
    try:
        async with asyncio.timeout(max(0.0, deadline_s)):
            try:
                reader, writer = await asyncio.open_connection(
                    connect_host or server.host, server.port
                )
            except OSError as exc:  # refused, unreachable, name does not resolve
                raise WhoisOffline(server, f"cannot connect ({_describe(exc)})") from None
            try:
                writer.write(query.encode("utf-8") + b"\r\n")
                await writer.drain()
                while chunk := await reader.read(_READ_CHUNK):
                    received += chunk
                    if len(received) > max_bytes:
                        raise WhoisTooLarge(
                            server,
                            f"the answer exceeded the size cap of {max_bytes} bytes; "
                            f"the first {max_bytes} bytes are kept",
                            capture(received[:max_bytes]),
                        )
            except OSError as exc:
                raise WhoisConnectionLost(
                    server,
                    f"connection lost after {len(received)} bytes ({_describe(exc)})",
                    partial(),
                ) from None
    except TimeoutError:
        raise WhoisTimeout(
            server,
            f"no complete answer within the {deadline_s:g} s deadline "
            f"({len(received)} bytes received)",
            partial(),
        ) from None
    finally:
        if writer is not None:
            writer.close()
    return capture(received)


def _describe(exc: OSError) -> str:
    return str(exc) or exc.strerror or type(exc).__name__


# --- the lookup -----------------------------------------------------------------------


@dataclass
class _Budget:
    """What is left of the lookup's network-time deadline."""

    total_s: float
    spent_s: float = 0.0

    def remaining(self) -> float:
        return self.total_s - self.spent_s


@dataclass
class _Answer:
    """One server's answer, classified."""

    status: LookupStatus
    captures: list[Capture] = field(default_factory=list)
    text: str | None = None
    problem: str | None = None


async def _ask(
    server: ServerAddress,
    query: str,
    settings: LookupSettings,
    politeness: Politeness,
    budget: _Budget,
    tld: str,
    connect_host: str | None = None,
) -> _Answer:
    key = str(server)
    async with politeness.slot(key):
        if budget.remaining() <= 0:
            return _Answer(
                LookupStatus.FAILED,
                problem=f"{server}: not asked, the {settings.timeout_s:g} s deadline was spent",
            )
        t0 = time.monotonic()
        try:
            capture = await fetch_whois(
                server,
                query,
                deadline_s=budget.remaining(),
                max_bytes=settings.max_response_bytes,
                connect_host=connect_host,
            )
        except WhoisTransportError as exc:
            kept = [exc.capture] if exc.capture is not None else []
            status = LookupStatus.OFFLINE if isinstance(exc, WhoisOffline) else LookupStatus.FAILED
            return _Answer(status, kept, problem=str(exc))
        finally:
            budget.spent_s += time.monotonic() - t0
    if not capture.raw:
        return _Answer(
            LookupStatus.FAILED,
            problem=f"WHOIS server {server} closed the connection without answering",
        )
    try:
        text = decode_whois(capture.raw, tld)
    except WhoisParseError as exc:
        return _Answer(LookupStatus.FAILED, [capture], problem=f"WHOIS server {server}: {exc}")
    if whois_rate_limited(text):
        politeness.back_off(key)
        return _Answer(
            LookupStatus.RATE_LIMITED,
            [capture],
            text,
            problem=f"WHOIS server {server} refused the query: we asked too often",
        )
    if whois_not_found(text):
        return _Answer(
            LookupStatus.NOT_FOUND,
            [capture],
            text,
            problem=f"WHOIS server {server} has no such domain",
        )
    return _Answer(LookupStatus.OK, [capture], text)


async def whois_lookup(
    domain: Hostname, settings: LookupSettings, politeness: Politeness
) -> tuple[LookupOutcome, RegistrationFacts | None]:
    """WHOIS for `domain`: the registry, then at most one registrar it refers to.

    Returns the outcome (status, every capture, a reason when something went wrong) and
    the facts, which are None unless the registry answered with a registration. See the
    module docstring for how a failed registrar step is reported.
    """
    if settings.offline:
        return LookupOutcome(LookupStatus.OFFLINE, reason="offline mode: nothing was asked"), None
    try:
        registry_name = server_name_for(domain, settings)
        registry = server_for(domain, settings)
    except NoWhoisServer as exc:
        return LookupOutcome(LookupStatus.FAILED, reason=str(exc)), None
    tld = domain.ascii.rsplit(".", 1)[-1]
    budget = _Budget(settings.timeout_s)

    first = await _ask(
        registry, query_for(registry_name, domain), settings, politeness, budget, tld
    )
    outcome = LookupOutcome(first.status, list(first.captures), first.problem)
    if first.status is not LookupStatus.OK or first.text is None:
        return outcome, None
    facts = parse_whois(domain, first.text)
    if not has_registration_data(facts):
        outcome.status = LookupStatus.FAILED
        outcome.reason = (
            f"the answer of {registry} holds no registration data "
            "(cut short, or in a layout the parser does not know)"
        )
        return outcome, None
    if not settings.whois_follow_referral:
        return outcome, facts

    referral = whois_referral(first.text)
    if referral is None:
        return outcome, facts
    try:
        target = _referral_address(referral, settings)
    except InvalidInput as exc:  # text from the server that names no server
        outcome.reason = f"registrar referral to {referral!r} not followed: it {exc.reason}"
        return outcome, facts
    referral_name = referral.rsplit(":", 1)[0] if referral.count(":") == 1 else referral
    if _same_server(target, referral, registry, registry_name):
        return outcome, facts  # the registry names itself (thick registries do): nothing to follow

    notes: list[str] = []
    try:
        connect_host = await _checked_address(target, settings, budget)
    except _ReferralRefused as exc:
        outcome.reason = f"registrar referral to {referral} not followed: {exc}"
        return outcome, facts

    second = await _ask(
        target, query_for(referral_name, domain), settings, politeness, budget, tld, connect_host
    )
    outcome.captures.extend(second.captures)
    if second.status is not LookupStatus.OK or second.text is None:
        notes.append(
            f"registrar referral to {referral} failed ({second.status.value}: {second.problem}); "
            "the facts are the registry's"
        )
    else:
        registrar_facts = parse_whois(domain, second.text)
        if has_registration_data(registrar_facts):
            facts = merge_registry_and_registrar(facts, registrar_facts)
        else:
            notes.append(
                f"the registrar's answer ({referral}) holds no registration data; "
                "the facts are the registry's"
            )
        onward = whois_referral(second.text)
        if onward and onward != referral:
            try:
                onward_target = _referral_address(onward, settings)
            except InvalidInput:
                onward_target = target
            back = _same_server(onward_target, onward, registry, registry_name)
            notes.append(
                f"the registrar referred {'back to the registry' if back else 'on'} "
                f"({onward}); not followed: one referral per lookup"
            )
    outcome.reason = "; ".join(notes) or None
    return outcome, facts


def _referral_address(referral: str, settings: LookupSettings) -> ServerAddress:
    """Where a referral ("host" or "host:port") is reached, through the overrides;
    InvalidInput when the text names no server."""
    named = parse_server(referral, WHOIS_PORT, "referral")
    return address_for_name(named.host, settings, named.port)


def _same_server(
    target: ServerAddress, referral: str, registry: ServerAddress, registry_name: str
) -> bool:
    host = referral.rsplit(":", 1)[0] if referral.count(":") == 1 else referral
    return target == registry or host.strip("[]").lower() == registry_name.lower()


# Special-use top-level domains (RFC 2606, RFC 6761) that public DNS never resolves.
_NEVER_IN_PUBLIC_DNS = frozenset({"test", "invalid", "example"})


class _ReferralRefused(Exception):
    """A referral the lookup will not follow; the message says why."""


async def _checked_address(target: ServerAddress, settings: LookupSettings, budget: _Budget) -> str:
    """The address to connect to for a referral, after checking it is a public one.

    A registry answer is untrusted input: without this check a referral could make the
    workbench probe the investigator's own network.
    """
    host = target.host.strip("[]")
    if _is_ip(host):
        addresses = [host]
    elif host.rsplit(".", 1)[-1] in _NEVER_IN_PUBLIC_DNS:
        # No resolver will answer for these; asking would only spend the deadline.
        raise _ReferralRefused(
            f"{host} is a reserved name with no public address (add an override to reach it)"
        )
    else:
        t0 = time.monotonic()
        try:
            async with asyncio.timeout(max(0.0, budget.remaining())):
                infos = await asyncio.get_running_loop().getaddrinfo(
                    host, target.port, type=socket.SOCK_STREAM
                )
        except TimeoutError:
            raise _ReferralRefused(f"resolving {host} took past the deadline") from None
        except OSError as exc:
            raise _ReferralRefused(f"{host} does not resolve ({_describe(exc)})") from None
        finally:
            budget.spent_s += time.monotonic() - t0
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        if not addresses:
            raise _ReferralRefused(f"{host} has no address")
    if not settings.allow_private_addresses:
        private = [a for a in addresses if not _is_public(a)]
        if private:
            raise _ReferralRefused(
                f"{target.host} is a private, loopback or link-local address ({private[0]}); "
                "allow private addresses in the settings to follow it"
            )
    return addresses[0]


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _is_public(text: str) -> bool:
    address = ipaddress.ip_address(text.split("%", 1)[0])
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast
