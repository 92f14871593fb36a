"""Ask one DNS server about one name, keeping every answer's exact wire bytes.

`dns_lookup` asks the configured server (settings.dns_server, a resolver or an
authoritative server) for A, AAAA, CNAME, MX, NS, TXT, SOA and CAA at once, then PTR for
every address found. Each answer becomes one `Capture` holding the bytes exactly as they
arrived, and the facts are rebuilt from those bytes by `dns_parse`, the same code an
imported recording goes through.

The transport is ours rather than dnspython's resolver: the resolver turns rcodes into
exceptions and drops the wire, and its unconnected UDP sockets cannot see the ICMP
"port unreachable" that tells a dead server from a slow one. dnspython still builds the
queries and parses the answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import functools
import ipaddress
import socket
import struct
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import dns.flags
import dns.message
import dns.name
import dns.rdatatype
import dns.reversename

from workbench.domain.normalise import Hostname
from workbench.lookups.dns_parse import (
    NAME_RECORD_TYPES,
    capture_query,
    dns_facts_from_captures,
    summarise_dns_facts,
)
from workbench.lookups.results import Capture, DnsFacts, LookupOutcome, LookupStatus
from workbench.lookups.settings import LookupSettings, ServerAddress

DNS_MEDIA_TYPE = "application/dns-message"
# The EDNS UDP size of DNS Flag Day 2020: large enough for most answers, small enough
# not to fragment. Bigger answers come back truncated and are asked again over TCP.
EDNS_PAYLOAD = 1232
# Queries in flight at once for one lookup (8 types, then one PTR per address).
MAX_IN_FLIGHT = 16
# Errors that mean "nothing could be asked": no route, nobody listening, no such host.
_OFFLINE_ERRNOS = {
    errno.ECONNREFUSED,
    errno.ENETUNREACH,
    errno.EHOSTUNREACH,
    errno.ENETDOWN,
    errno.EHOSTDOWN,
    errno.EADDRNOTAVAIL,
}


@dataclass
class DnsExchange:
    """One query and what came of it.

    `capture` holds the answer's bytes when any arrived. `status` and `reason` are set
    when the transport knows more than the bytes say (a timeout, an unreachable server,
    a truncated answer whose TCP retry failed); otherwise the capture speaks for itself.
    """

    name: str
    rdtype: str
    capture: Capture | None = None
    status: LookupStatus | None = None
    reason: str | None = None
    over_tcp: bool = False


class _DatagramInbox(asyncio.DatagramProtocol):
    """Datagrams and socket errors (ICMP refusals) of one connected UDP socket, in order."""

    def __init__(self) -> None:
        self.inbox: asyncio.Queue[bytes | Exception] = asyncio.Queue()

    def datagram_received(self, data: bytes, addr: object) -> None:
        self.inbox.put_nowait(data)

    def error_received(self, exc: Exception) -> None:
        self.inbox.put_nowait(exc)


def _matches_query(
    raw: bytes, query: dns.message.Message, wire: bytes | None = None
) -> bool | None:
    """Whether `raw` is the answer to `query`: same id, QR set, same question.

    Reads only the header and question (the rest is parsed once, later, from the
    capture): an answer to our question whose records are malformed is still the answer,
    and evidence of what the server sent. None when not even the header and question
    parse: not a DNS message at all.
    """
    if wire is not None and _echoes_question(raw, wire):
        return True
    try:
        head = dns.message.from_wire(raw, question_only=True)
    except Exception:  # dnspython raises many types on hostile input; all mean "not DNS"
        return None
    if head.id != query.id or not head.flags & dns.flags.QR:
        return False
    if not head.question:  # FORMERR and NOTIMP answers may leave the question out
        return True
    asked, got = query.question[0], head.question[0]
    return got.name == asked.name and got.rdtype == asked.rdtype and got.rdclass == asked.rdclass


def _echoes_question(raw: bytes, wire: bytes) -> bool:
    """The common case of `_matches_query`, read off the bytes: same id, QR set, one
    question, and the question's bytes as we sent them (the name compared without case,
    as DNS names compare). Anything else, the full check decides."""
    end = 12
    while end < len(wire) and wire[end]:  # the question's name: length-prefixed labels
        end += wire[end] + 1
    end += 5  # the name's final 0, then type and class
    if len(raw) < end or raw[:2] != wire[:2] or not raw[2] & 0x80 or raw[4:6] != b"\0\1":
        return False
    name_end = end - 4
    return (
        raw[12:name_end].lower() == wire[12:name_end].lower()
        and raw[name_end:end] == wire[name_end:end]
    )


def _is_truncated(raw: bytes) -> bool:
    return len(raw) >= 4 and bool(struct.unpack("!H", raw[2:4])[0] & dns.flags.TC)


async def _udp_endpoint(
    server: ServerAddress,
) -> tuple[asyncio.DatagramTransport, _DatagramInbox]:
    """A UDP socket connected to `server`, so ICMP refusals reach us as errors.

    For an address literal the socket is made here: asyncio would otherwise resolve it
    in its thread pool on every query, which caps a bulk run's rate.
    """
    loop = asyncio.get_running_loop()
    try:
        version = ipaddress.ip_address(server.host).version
    except ValueError:
        return await loop.create_datagram_endpoint(
            _DatagramInbox, remote_addr=(server.host, server.port)
        )
    sock = socket.socket(socket.AF_INET6 if version == 6 else socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.setblocking(False)
        sock.connect((server.host, server.port))  # UDP connect only records the peer
        return await loop.create_datagram_endpoint(_DatagramInbox, sock=sock)
    except BaseException:
        sock.close()
        raise


async def _udp_exchange(
    server: ServerAddress, query: dns.message.Message, wire: bytes, junk: list[bytes]
) -> bytes:
    """Send `query` over UDP and wait for its answer.

    Datagrams that are not DNS at all are appended to `junk` and the wait goes on (a
    corrupted or hostile packet must not end the query; if nothing better comes, the
    caller keeps the last one as evidence). Answers to other questions or with another
    id are dropped. An ICMP refusal arrives as ConnectionRefusedError.
    """
    transport, protocol = await _udp_endpoint(server)
    try:
        transport.sendto(wire)
        while True:
            item = await protocol.inbox.get()
            if isinstance(item, Exception):
                raise item
            match = _matches_query(item, query, wire)
            if match:
                return item
            if match is None:
                junk.append(item)
    finally:
        transport.close()


async def _tcp_exchange(server: ServerAddress, wire: bytes) -> bytes:
    """Send `query` over TCP (two-byte length prefix, RFC 1035 4.2.2) and read one answer."""
    reader, writer = await asyncio.open_connection(server.host, server.port)
    try:
        writer.write(struct.pack("!H", len(wire)) + wire)
        await writer.drain()
        (length,) = struct.unpack("!H", await reader.readexactly(2))
        return await reader.readexactly(length)
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


@functools.lru_cache(maxsize=1024)
def _query_name(name: str) -> dns.name.Name:
    """`name` as dnspython's Name, made once for the eight questions a lookup asks about
    it (Names are immutable; reading the text is a good part of making a query)."""
    return dns.name.from_text(name)


def _is_offline(exc: BaseException) -> bool:
    if isinstance(exc, socket.gaierror):
        return True
    return isinstance(exc, OSError) and exc.errno in _OFFLINE_ERRNOS


def _describe_os_error(exc: OSError) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "nothing listens there (connection refused)"
    if isinstance(exc, socket.gaierror):
        return f"the server's name does not resolve ({exc.strerror or exc})"
    return exc.strerror or str(exc) or type(exc).__name__


def _seconds(value: float) -> str:
    return f"{round(value, 2):g}"


async def query_dns(server: ServerAddress, name: str, rdtype: str, timeout_s: float) -> DnsExchange:
    """Ask `server` one question, over UDP and again over TCP if the answer is truncated.

    Never raises for network trouble: the outcome is in the returned exchange. A capture
    is made of whatever answer arrived, even a truncated or malformed one.
    """
    query = dns.message.make_query(_query_name(name), rdtype, use_edns=0, payload=EDNS_PAYLOAD)
    wire = query.to_wire()
    exchange = DnsExchange(name=name.rstrip(".").lower(), rdtype=rdtype.upper())
    server_text = str(server)
    started_at = datetime.now(UTC)
    start = time.perf_counter()

    def keep(raw: bytes) -> None:
        exchange.capture = Capture(
            protocol="dns",
            server=server_text,
            query=capture_query(name, rdtype),
            raw=raw,
            started_at=started_at,
            elapsed_s=time.perf_counter() - start,
            media_type=DNS_MEDIA_TYPE,
        )

    if timeout_s <= 0:
        exchange.status = LookupStatus.FAILED
        exchange.reason = "the lookup's overall deadline passed before this query was sent"
        return exchange
    step = "UDP"
    junk: list[bytes] = []
    try:
        async with asyncio.timeout(timeout_s):
            raw = await _udp_exchange(server, query, wire, junk)
            keep(raw)
            if _is_truncated(raw):
                step = "TCP"
                keep(await _tcp_exchange(server, wire))
                exchange.over_tcp = True
                if not _matches_query(exchange.capture.raw, query, wire):  # type: ignore[union-attr]
                    exchange.status = LookupStatus.FAILED
                    exchange.reason = "the TCP answer does not match the query"
    except TimeoutError:
        exchange.status = LookupStatus.FAILED
        within = f"within {_seconds(timeout_s)} s"
        if step == "TCP":
            exchange.reason = f"answer truncated over UDP and no TCP answer {within}"
        elif junk:
            keep(junk[-1])
            exchange.reason = f"only malformed answers {within}"
        else:
            exchange.reason = f"no answer {within}"
    except asyncio.IncompleteReadError as exc:
        if exc.partial:
            keep(exc.partial)
        exchange.status = LookupStatus.FAILED
        exchange.reason = f"the server closed the {step} connection mid-answer"
    except OSError as exc:
        exchange.status = LookupStatus.OFFLINE if _is_offline(exc) else LookupStatus.FAILED
        exchange.reason = f"{server_text} over {step}: {_describe_os_error(exc)}"
        if step == "TCP":
            # The truncated UDP answer stays as the capture: it is what the server sent.
            exchange.status = LookupStatus.FAILED
            exchange.reason = f"answer truncated over UDP; {exchange.reason}"
    return exchange


def _offline_facts(name: str) -> DnsFacts:
    facts = DnsFacts(name=name)
    for rdtype in NAME_RECORD_TYPES:
        facts.outcomes[rdtype] = LookupStatus.OFFLINE
        facts.reasons[rdtype] = "offline mode: nothing was asked"
    return facts


async def dns_lookup(name: Hostname, settings: LookupSettings) -> tuple[LookupOutcome, DnsFacts]:
    """Look `name` up at settings.dns_server: every record type, then PTR per address.

    Each query may take settings.dns_lifetime_s and the whole lookup settings.timeout_s.
    The outcome is OK when any record type was answered with data, NOT_FOUND when the
    server says the name does not exist, NO_DATA when it exists with none of the types,
    OFFLINE when the server could not be reached, FAILED otherwise; `reason` lists the
    types that failed and why. `facts.outcomes` and `facts.reasons` say the same per type.
    """
    if settings.offline:
        return (
            LookupOutcome(LookupStatus.OFFLINE, reason="offline mode: nothing was asked"),
            _offline_facts(name.ascii),
        )
    loop = asyncio.get_running_loop()
    deadline = loop.time() + settings.timeout_s
    slots = asyncio.Semaphore(MAX_IN_FLIGHT)

    async def ask(qname: str, rdtype: str) -> DnsExchange:
        async with slots:
            remaining = deadline - loop.time()
            return await query_dns(
                settings.dns_server, qname, rdtype, min(settings.dns_lifetime_s, remaining)
            )

    exchanges = list(
        await asyncio.gather(*(ask(name.ascii, rdtype) for rdtype in NAME_RECORD_TYPES))
    )
    name_captures = [e.capture for e in exchanges if e.capture is not None]
    facts = dns_facts_from_captures(name.ascii, name_captures)
    addresses = facts.addresses
    reverse_names = [
        dns.reversename.from_address(a).to_text(omit_final_dot=True) for a in addresses
    ]
    exchanges += await asyncio.gather(*(ask(r, "PTR") for r in reverse_names))
    ptr_captures = [e.capture for e in exchanges[len(NAME_RECORD_TYPES) :] if e.capture]
    # The same as rebuilding from all captures at once, without parsing the first eight twice.
    ptr_facts = dns_facts_from_captures(name.ascii, ptr_captures)
    facts.ptr, facts.ptr_outcomes = ptr_facts.ptr, ptr_facts.ptr_outcomes
    facts.reasons.update(ptr_facts.reasons)
    captures = name_captures + ptr_captures
    for exchange, address in zip(exchanges[len(NAME_RECORD_TYPES) :], addresses, strict=True):
        if exchange.status is not None:
            facts.ptr_outcomes[address] = exchange.status
            facts.reasons[f"PTR {address}"] = exchange.reason or exchange.status.value
    for exchange in exchanges[: len(NAME_RECORD_TYPES)]:
        if exchange.status is not None:
            facts.outcomes[exchange.rdtype] = exchange.status
            facts.reasons[exchange.rdtype] = exchange.reason or exchange.status.value
    facts.outcomes = {t: facts.outcomes[t] for t in NAME_RECORD_TYPES if t in facts.outcomes}
    status, reason = summarise_dns_facts(facts)
    return LookupOutcome(status, captures, reason), facts
