"""DNS answers from raw wire bytes: parse one message, rebuild facts, render for people.

Everything here is pure: it reads the bytes a server sent (as kept in a `Capture`) and
never touches the network. A live lookup and an imported or demo recording go through
the same `dns_facts_from_captures`, so what the case file shows is what the stored bytes
say, not what a transport remembered.

Bytes that are not a DNS message raise `DnsParseError` from `parse_dns_response` and
nothing else; `dns_facts_from_captures` and `render_dns_capture` turn such bytes into a
"failed" outcome and a readable note instead of raising.
"""

from __future__ import annotations

import functools
import ipaddress
from dataclasses import dataclass

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.reversename
import dns.rrset

from workbench.domain.errors import WorkbenchError
from workbench.lookups.results import Capture, DnsFacts, LookupStatus

# The record types one lookup asks for a name, in the order captures are kept.
NAME_RECORD_TYPES: tuple[str, ...] = ("A", "AAAA", "CNAME", "MX", "NS", "TXT", "SOA", "CAA")
# A CNAME chain longer than this inside one answer is treated as a loop.
MAX_CNAME_CHAIN = 16
# Flags in the order dig prints them.
_FLAG_ORDER = ("QR", "AA", "TC", "RD", "RA", "AD", "CD")
# Each header flag's bit, read once: dns.flags.to_text builds its answer through enum
# lookups, a noticeable cost at ten answers per domain of a bulk run.
_FLAG_BITS = tuple((name, int(dns.flags.Flag[name])) for name in _FLAG_ORDER)


class DnsParseError(WorkbenchError):
    """Bytes that are not a well-formed DNS message (truncated, garbage, trailing junk)."""

    def __init__(self, reason: str, size: int):
        self.reason = reason
        self.size = size
        super().__init__(f"not a well-formed DNS message ({size} bytes): {reason}")


@dataclass(frozen=True)
class DnsRecord:
    """One resource record. `value` is the form facts use (host names lower-case without
    the root dot, TXT strings decoded and joined); `text` is the zone-file form."""

    owner: str  # lower-case, no root dot
    rdtype: str  # "A", "MX", "TYPE65280", ...
    ttl: int
    value: str
    text: str
    priority: int | None = None  # MX preference, so hosts can be listed in order


@dataclass(frozen=True)
class DnsQuestion:
    name: str  # lower-case, no root dot
    rdtype: str


@dataclass(frozen=True)
class DnsResponse:
    """A parsed DNS message, in plain values (no dnspython objects escape this module)."""

    id: int
    opcode: str
    rcode: str  # "NOERROR", "NXDOMAIN", "SERVFAIL", "REFUSED", ...
    flags: frozenset[str]  # "QR", "AA", "TC", "RD", "RA", "AD", "CD"
    question: DnsQuestion | None
    answer: tuple[DnsRecord, ...]
    authority: tuple[DnsRecord, ...]
    additional: tuple[DnsRecord, ...]
    edns_payload: int | None = None  # the UDP size the sender advertised, if it used EDNS

    @property
    def is_response(self) -> bool:
        return "QR" in self.flags

    @property
    def truncated(self) -> bool:
        return "TC" in self.flags


@dataclass(frozen=True)
class AnswerStatus:
    """What one captured answer means for the record type it was asked for."""

    status: LookupStatus
    values: tuple[str, ...] = ()
    cname: str | None = None  # the asked name's own CNAME target, if the answer has one
    reason: str | None = None


def _name_text(name: dns.name.Name) -> str:
    return name.to_text(omit_final_dot=True).lower()


def _record_value(rdtype: int, rdata: dns.rdata.Rdata) -> tuple[str, int | None]:
    # The facts form: what an investigator compares and links on.
    if rdtype in (dns.rdatatype.A, dns.rdatatype.AAAA):
        return ipaddress.ip_address(rdata.address).compressed, None  # type: ignore[attr-defined]
    if rdtype in (dns.rdatatype.CNAME, dns.rdatatype.NS, dns.rdatatype.PTR):
        return _name_text(rdata.target), None  # type: ignore[attr-defined]
    if rdtype == dns.rdatatype.MX:
        return _name_text(rdata.exchange), rdata.preference  # type: ignore[attr-defined]
    if rdtype in (dns.rdatatype.TXT, dns.rdatatype.SPF):
        # A TXT record is a list of strings up to 255 bytes that mean one value (an SPF
        # policy is split this way): join without a separator, as RFC 7208 says.
        joined = b"".join(rdata.strings)  # type: ignore[attr-defined]
        return joined.decode("utf-8", "backslashreplace"), None
    return rdata.to_text(), None


def _records(rrsets: list[dns.rrset.RRset]) -> tuple[DnsRecord, ...]:
    records: list[DnsRecord] = []
    for rrset in rrsets:
        owner = _name_text(rrset.name)
        type_text = dns.rdatatype.to_text(rrset.rdtype)
        for rdata in rrset:
            value, priority = _record_value(rrset.rdtype, rdata)
            records.append(DnsRecord(owner, type_text, rrset.ttl, value, rdata.to_text(), priority))
    return tuple(records)


def _parse_message(raw: bytes) -> dns.message.Message:
    if not isinstance(raw, bytes | bytearray | memoryview):
        raise DnsParseError(f"expected bytes, got {type(raw).__name__}", 0)
    data = bytes(raw)
    try:
        return dns.message.from_wire(data)
    except dns.message.ShortHeader:
        raise DnsParseError("shorter than the 12-byte DNS header", len(data)) from None
    except dns.message.TrailingJunk:
        raise DnsParseError("bytes left over after the last record", len(data)) from None
    except dns.message.UnknownTSIGKey:
        raise DnsParseError("signed with a TSIG key we do not hold", len(data)) from None
    except Exception as exc:  # dnspython raises many types on hostile input; all mean "malformed"
        detail = str(exc) or type(exc).__name__
        raise DnsParseError(detail, len(data)) from None


# A bulk run parses each answer on the network side and again when storing it (to render
# it for search); the result is immutable and depends on the bytes alone.
@functools.lru_cache(maxsize=4096)
def parse_dns_response(raw: bytes) -> DnsResponse:
    """Parse one DNS message as received on the wire.

    Raises `DnsParseError` (and nothing else) when the bytes are not a well-formed message.
    """
    message = _parse_message(raw)
    try:
        question = None
        if message.question:
            first = message.question[0]
            question = DnsQuestion(_name_text(first.name), dns.rdatatype.to_text(first.rdtype))
        flag_text = [name for name, bit in _FLAG_BITS if message.flags & bit]
        return DnsResponse(
            id=message.id,
            opcode=dns.opcode.to_text(message.opcode()),
            rcode=dns.rcode.to_text(message.rcode()),
            flags=frozenset(flag_text),
            question=question,
            answer=_records(message.answer),
            authority=_records(message.authority),
            additional=_records(message.additional),
            edns_payload=message.payload if message.edns >= 0 else None,
        )
    except Exception as exc:  # a record that parsed but cannot be shown is still malformed
        raise DnsParseError(str(exc) or type(exc).__name__, len(raw)) from None


def split_capture_query(query: str) -> tuple[str, str]:
    """`"soundsbox.test MX"` -> `("soundsbox.test", "MX")`, the form captures are named in."""
    name, _, rdtype = query.strip().rpartition(" ")
    return name.strip().rstrip(".").lower(), rdtype.strip().upper()


def capture_query(name: str, rdtype: str) -> str:
    """The `Capture.query` text for asking `name` for `rdtype`."""
    return f"{name.rstrip('.').lower()} {rdtype.upper()}"


def _sort_key(rdtype: str, record: DnsRecord) -> tuple:
    if rdtype in ("A", "AAAA"):
        try:
            return (0, int(ipaddress.ip_address(record.value)), "")
        except ValueError:
            return (1, 0, record.value)
    return (record.priority or 0, 0, record.value)


def interpret_answer(response: DnsResponse, name: str, rdtype: str) -> AnswerStatus:
    """What `response` says about `rdtype` records of `name`.

    Follows a CNAME chain only as far as the server included it in the answer (a
    resolver includes the whole chain; an authoritative server stops at its zone's
    edge). The values are sorted, so two snapshots of the same data compare equal.
    """
    name = name.rstrip(".").lower()
    rdtype = rdtype.upper()
    if not response.is_response:
        return AnswerStatus(LookupStatus.FAILED, reason="the message is a query, not an answer")
    if response.question is not None and (
        response.question.name != name or response.question.rdtype != rdtype
    ):
        asked = f"{response.question.name} {response.question.rdtype}"
        return AnswerStatus(LookupStatus.FAILED, reason=f"answer is for another question ({asked})")
    if response.truncated:
        return AnswerStatus(LookupStatus.FAILED, reason="the answer was truncated (TC flag)")
    cname: str | None = None
    owner = name
    if rdtype != "CNAME":
        for _ in range(MAX_CNAME_CHAIN):
            target = next(
                (r.value for r in response.answer if r.rdtype == "CNAME" and r.owner == owner),
                None,
            )
            if target is None:
                break
            if cname is None:
                cname = target
            owner = target
        else:
            return AnswerStatus(LookupStatus.FAILED, cname=cname, reason="CNAME loop in answer")
    if response.rcode == "NXDOMAIN":
        return AnswerStatus(LookupStatus.NOT_FOUND, cname=cname, reason="NXDOMAIN")
    if response.rcode != "NOERROR":
        return AnswerStatus(
            LookupStatus.FAILED, cname=cname, reason=f"server answered {response.rcode}"
        )
    matching = [r for r in response.answer if r.owner == owner and r.rdtype == rdtype]
    values: list[str] = []
    for record in sorted(matching, key=lambda r: _sort_key(rdtype, r)):
        if record.value not in values:
            values.append(record.value)
    if rdtype == "CNAME" and values:
        cname = values[0]
    if not values:
        return AnswerStatus(LookupStatus.NO_DATA, cname=cname, reason="no records of this type")
    return AnswerStatus(LookupStatus.OK, tuple(values), cname=cname)


def interpret_capture(capture: Capture) -> tuple[str, str, AnswerStatus]:
    """`(name, rdtype, status)` for one stored DNS capture; malformed bytes become FAILED."""
    name, rdtype = split_capture_query(capture.query)
    try:
        response = parse_dns_response(capture.raw)
    except DnsParseError as exc:
        return name, rdtype, AnswerStatus(LookupStatus.FAILED, reason=f"malformed answer: {exc}")
    return name, rdtype, interpret_answer(response, name, rdtype)


def reverse_name_address(name: str) -> str | None:
    """`10.2.0.192.in-addr.arpa` -> `192.0.2.10`; None when the name is not a reverse name."""
    try:
        return dns.reversename.to_address(dns.name.from_text(name))
    except Exception:  # any name that is not of the reverse-map form
        return None


def dns_facts_from_captures(name: str, captures: list[Capture]) -> DnsFacts:
    """Rebuild the facts of one DNS lookup from its stored answers alone.

    Captures for `name` fill `records` and `outcomes` per record type; PTR captures fill
    `ptr` and `ptr_outcomes` keyed by address. Captures of other protocols or other names
    are ignored. A query that never got an answer left no capture, so it has no outcome
    here; the live lookup adds those (timeouts, unreachable server) itself.
    """
    key = name.rstrip(".").lower()
    facts = DnsFacts(name=key)
    cnames: list[str] = []
    for capture in captures:
        if capture.protocol != "dns":
            continue
        qname, rdtype, answer = interpret_capture(capture)
        if rdtype == "PTR":
            address = reverse_name_address(qname)
            if address is None:
                continue
            facts.ptr_outcomes[address] = answer.status
            if answer.reason and answer.status is not LookupStatus.OK:
                facts.reasons[f"PTR {address}"] = answer.reason
            if answer.values:
                facts.ptr[address] = list(answer.values)
            continue
        if qname != key:
            continue
        facts.outcomes[rdtype] = answer.status
        if answer.reason and answer.status is not LookupStatus.OK:
            facts.reasons[rdtype] = answer.reason
        if answer.values and rdtype != "CNAME":
            facts.records[rdtype] = list(answer.values)
        if answer.cname and answer.cname not in cnames:
            cnames.append(answer.cname)
    if cnames:
        facts.records["CNAME"] = cnames
    # Keep the record types in the order a lookup asks them, whatever order captures came in.
    order = {t: i for i, t in enumerate(NAME_RECORD_TYPES)}
    facts.records = dict(
        sorted(facts.records.items(), key=lambda kv: (order.get(kv[0], 99), kv[0]))
    )
    facts.outcomes = dict(
        sorted(facts.outcomes.items(), key=lambda kv: (order.get(kv[0], 99), kv[0]))
    )
    return facts


def summarise_dns_facts(facts: DnsFacts) -> tuple[LookupStatus, str | None]:
    """The status of a whole DNS lookup and a one-line reason.

    OK when any record type was answered with data; NOT_FOUND when the server said the
    name does not exist; NO_DATA when it exists but holds none of the asked types;
    OFFLINE when nothing could be asked; FAILED otherwise.
    """
    statuses = list(facts.outcomes.values())
    # One clause per distinct reason: "server answered SERVFAIL (MX, CAA)".
    by_reason: dict[str, list[str]] = {}
    for rdtype, status in facts.outcomes.items():
        if status in (LookupStatus.FAILED, LookupStatus.OFFLINE, LookupStatus.RATE_LIMITED):
            by_reason.setdefault(facts.reasons.get(rdtype, status.value), []).append(rdtype)
    problems = [
        f"{reason} (every record type)"
        if len(types) == len(facts.outcomes) > 1
        else f"{reason} ({', '.join(types)})"
        for reason, types in by_reason.items()
    ]
    problem_text = "; ".join(problems) if problems else None
    if not statuses:
        return LookupStatus.FAILED, "no answer was recorded"
    if LookupStatus.OK in statuses:
        return LookupStatus.OK, problem_text
    if LookupStatus.NOT_FOUND in statuses:
        return LookupStatus.NOT_FOUND, f"{facts.name} does not exist (NXDOMAIN)"
    if LookupStatus.NO_DATA in statuses:
        reason = f"{facts.name} exists but has none of the asked record types"
        return LookupStatus.NO_DATA, f"{reason}; {problem_text}" if problem_text else reason
    if all(status is LookupStatus.OFFLINE for status in statuses):
        return LookupStatus.OFFLINE, problem_text
    return LookupStatus.FAILED, problem_text


def _render_records(title: str, records: tuple[DnsRecord, ...]) -> list[str]:
    if not records:
        return []
    lines = ["", f";; {title} SECTION:"]
    for record in records:
        lines.append(f"{record.owner}.\t{record.ttl}\tIN\t{record.rdtype}\t{record.text}")
    return lines


def render_dns_capture(raw: bytes) -> str:
    """dig-like text of one captured DNS message, for the evidence viewer.

    Never raises: bytes that are not a DNS message are shown as a note and a hex dump,
    since the viewer must show whatever the server sent.
    """
    try:
        response = parse_dns_response(raw)
    except DnsParseError as exc:
        return _render_malformed(bytes(raw) if isinstance(raw, bytes | bytearray) else b"", exc)
    flags = " ".join(f.lower() for f in _FLAG_ORDER if f in response.flags)
    counts = (
        f"QUERY: {1 if response.question else 0}, ANSWER: {len(response.answer)}, "
        f"AUTHORITY: {len(response.authority)}, ADDITIONAL: {len(response.additional)}"
    )
    lines = [
        f";; ->>HEADER<<- opcode: {response.opcode}, status: {response.rcode}, id: {response.id}",
        f";; flags: {flags}; {counts}",
    ]
    if response.edns_payload is not None:
        lines += ["", ";; OPT PSEUDOSECTION:", f"; EDNS: udp: {response.edns_payload}"]
    if response.question:
        lines += ["", ";; QUESTION SECTION:"]
        lines.append(f";{response.question.name}.\t\tIN\t{response.question.rdtype}")
    lines += _render_records("ANSWER", response.answer)
    lines += _render_records("AUTHORITY", response.authority)
    lines += _render_records("ADDITIONAL", response.additional)
    lines += ["", f";; MSG SIZE  rcvd: {len(raw)}"]
    return "\n".join(lines) + "\n"


def _render_malformed(raw: bytes, error: DnsParseError) -> str:
    lines = [f";; {error}", ";; raw bytes:"]
    for offset in range(0, min(len(raw), 4096), 16):
        chunk = raw[offset : offset + 16]
        hexes = " ".join(f"{b:02x}" for b in chunk)
        text = "".join(chr(b) if 32 <= b < 127 else "." for b in chunk)
        lines.append(f"{offset:04x}  {hexes:<47}  {text}")
    if len(raw) > 4096:
        lines.append(f";; ... {len(raw) - 4096} more bytes")
    return "\n".join(lines) + "\n"
