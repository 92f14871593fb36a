"""Importing a recorded response: WHOIS text, RDAP JSON or DNS answers that a colleague
captured or an old printout holds, run through the same parsers and linking as a live
lookup, and marked as imported with the capture time its supplier claims.

Several files make one lookup: a registry's WHOIS answer and its registrar's, the registry
and registrar RDAP documents, or the DNS answers to several questions. The demo case is
built the same way, so it exercises the real pipeline.

Every file must be about the domain it is imported as, or its contacts would be linked
to the wrong name. A DNS message must ask about it; an RDAP document's `ldhName` and
`unicodeName` must both name it (an RDAP domain document without a name is not one);
every domain-name line of a WHOIS text ("Domain Name:", "domain:", "domainname:",
Nominet's name on the line after "Domain name:", JPRS's "[Domain Name]", Verisign's
`No match for "X".`) must name it. Names compare in their A-label form, so `müller.de`
and `xn--mller-kva.de` are the same domain. A WHOIS text that names no domain at all (an
old printout, a registrar's contact sheet, a "no match" without the name) is accepted:
it is what the investigator has, and they named the domain. That is then recorded in the
lookup's reason, kept with its snapshot, and handed back as a warning.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

import dns.exception
import dns.message
from sqlite_utils import Database

from workbench.domain.errors import InvalidInput, WorkbenchError
from workbench.domain.kinds import EntityKind
from workbench.domain.normalise import (
    Hostname,
    normalise_domain,
    normalise_hostname,
    normalise_ip,
)
from workbench.lookups.dns_parse import (
    DnsParseError,
    capture_query,
    dns_facts_from_captures,
    parse_dns_response,
    render_dns_capture,
    summarise_dns_facts,
)
from workbench.lookups.rdap_parse import (
    load_rdap_json,
    merge_registration_facts,
    parse_rdap_domain,
    parse_rdap_ip,
)
from workbench.lookups.results import Capture, LookupOutcome, LookupStatus
from workbench.lookups.whois_parse import (
    decode_whois,
    has_registration_data,
    merge_registry_and_registrar,
    parse_whois,
    whois_not_found,
    whois_rate_limited,
)
from workbench.services.recording import RecordedLookup, record_lookup, subject_entity
from workbench.store.database import writing

IMPORT_KINDS = ("whois", "rdap", "rdap_ip", "dns")  # also listed by cli.lookup_commands
MAX_IMPORT_BYTES = 16 * 1024 * 1024


def import_recording(
    db: Database,
    *,
    case_id: int | None,
    kind: str,
    subject: str,
    raws: Sequence[bytes],
    captured_at: datetime,
    source: str | None = None,
    filenames: Sequence[str] = (),
    warnings: list[str] | None = None,
) -> RecordedLookup:
    """Parse `raws` as one `kind` lookup of `subject` (a domain, or an address for rdap_ip)
    and record it as imported. What does not parse as that kind, or is about another
    domain, is refused, naming the file, and nothing is stored. What was accepted but
    should be said (a WHOIS text that names no domain) is appended to `warnings`."""
    if kind not in IMPORT_KINDS:
        raise InvalidInput("--kind", kind, f"must be one of: {', '.join(IMPORT_KINDS)}")
    if not raws:
        raise InvalidInput("file", "", "give at least one file")
    names = list(filenames) or [f"#{n}" for n in range(1, len(raws) + 1)]
    for raw, name in zip(raws, names, strict=False):
        if not raw:
            raise InvalidInput("file", name, "is empty")
        if len(raw) > MAX_IMPORT_BYTES:
            raise InvalidInput("file", name, "is larger than 16 MiB")
    server = source or "imported"
    if kind == "rdap_ip":
        if len(raws) != 1:
            raise InvalidInput("file", ", ".join(names), "an address import takes one file")
        address = normalise_ip(subject, "--ip")
        facts = _parse(lambda: parse_rdap_ip(raws[0], address), kind, names[0])
        capture = Capture(
            "rdap", server, address, raws[0], captured_at, 0.0, "application/rdap+json"
        )
        outcome = LookupOutcome(LookupStatus.OK, [capture], "imported")
        subject_kind, subject_value = EntityKind.IP_ADDRESS, address
    else:
        domain = normalise_domain(subject, "--domain")
        reader = {"whois": _whois, "rdap": _rdap, "dns": _dns}[kind]
        unnamed: list[str] = []
        extra = {"unnamed": unnamed} if kind == "whois" else {}
        outcome, facts = reader(domain, list(raws), names, captured_at, server, **extra)
        subject_kind, subject_value = EntityKind.DOMAIN, domain.ascii
        if unnamed:
            said = (
                f"{', '.join(unnamed)} names no domain: recorded as about {domain.ascii} "
                "on the importer's word"
            )
            outcome = replace(outcome, reason=f"{outcome.reason}; {said}")
            if warnings is not None:
                warnings.append(said)
    with writing(db):
        entity = subject_entity(db, subject_kind, subject_value, case_id)
        return record_lookup(
            db,
            subject=entity,
            protocol=kind,
            outcome=outcome,
            facts=facts,
            case_id=case_id,
            imported=True,
            taken_at=captured_at,
            render=render_dns_capture,
        )


def _parse(parse, kind: str, filename: str):
    try:
        return parse()
    except WorkbenchError as exc:
        raise InvalidInput(
            "file", filename, f"is not a {kind} response ({_one_line(exc)})"
        ) from None


def _one_line(exc: BaseException) -> str:
    """A library's message on one line: the command line prints errors as one line."""
    return " ".join(str(exc).split())


def _whois(domain: Hostname, raws, names, captured_at, server, unnamed: list | None = None):
    """The first file is the registry's answer; a second one its registrar's. The names
    of files that name no domain are added to `unnamed`."""
    tld = domain.ascii.rsplit(".", 1)[-1]
    captures, facts = [], None
    for raw, name in zip(raws, names, strict=False):
        text = _parse(lambda raw=raw: decode_whois(raw, tld), "whois", name)
        named = _whois_names(text)
        _refuse_other_domain(domain, named, "whois", name)
        if not named and unnamed is not None:
            unnamed.append(name)
        captures.append(Capture("whois", server, domain.ascii, raw, captured_at, 0.0))
        # As in a live lookup: a refusal or "no match" is recorded as such, never as a
        # registration without data; after the registry's answer it adds nothing.
        status = (
            LookupStatus.RATE_LIMITED
            if whois_rate_limited(text)
            else LookupStatus.NOT_FOUND
            if whois_not_found(text)
            else None
        )
        if status is not None:
            if facts is None:
                return LookupOutcome(status, captures, "imported"), None
            continue
        parsed = _parse(lambda text=text: parse_whois(domain, text), "whois", name)
        if not has_registration_data(parsed):
            # JSON, a web page or a note is text too: only a registration record is WHOIS.
            raise InvalidInput(
                "file", name, "is not a whois response (it holds no registration data)"
            )
        facts = parsed if facts is None else merge_registry_and_registrar(facts, parsed)
    return LookupOutcome(LookupStatus.OK, captures, "imported"), facts


def _rdap(domain: Hostname, raws, names, captured_at, server):
    """The first document is the registry's; a second one the registrar's."""
    captures, facts = [], None
    for raw, name in zip(raws, names, strict=False):
        parsed = _parse(lambda raw=raw: parse_rdap_domain(raw), "rdap", name)
        _refuse_other_domain(domain, _rdap_names(raw), "rdap", name)
        captures.append(
            Capture("rdap", server, domain.ascii, raw, captured_at, 0.0, "application/rdap+json")
        )
        facts = parsed if facts is None else merge_registration_facts(facts, parsed)
    return LookupOutcome(LookupStatus.OK, captures, "imported"), facts


# "Domain Name:", "domain:", "domainname:", "Domain_Name:", "Domain name  :" (Nominet puts
# the value on the next, indented line); JPRS's "[Domain Name]   EXAMPLE.JP"; Verisign's
# 'No match for "EXAMPLE.COM".'
_WHOIS_NAME_KEY = re.compile(r"^[ \t]*(?:domain[ _-]?name|domain)[ \t]*:[ \t]*(\S*)", re.IGNORECASE)
_WHOIS_JPRS_NAME = re.compile(r"^[ \t]*(?:[a-z]\.[ \t]*)?\[domain name\][ \t]+(\S+)", re.IGNORECASE)
_WHOIS_NO_MATCH = re.compile(r'^[ \t]*no match for[ \t]+"([^"\s]+)"', re.IGNORECASE)


def _whois_names(text: str) -> list[str]:
    """The domain names (A-labels) a WHOIS text says it is about, in order, each once.
    Values that are not host names ("REDACTED", an address) are left out."""
    lines = text.split("\n")
    values = []
    for number, line in enumerate(lines):
        key = _WHOIS_NAME_KEY.match(line)
        if key:
            value = key.group(1)
            following = lines[number + 1] if number + 1 < len(lines) else ""
            if not value and following[:1] in (" ", "\t"):
                value = following.strip().split(" ")[0]
            values.append(value)
            continue
        other = _WHOIS_JPRS_NAME.match(line) or _WHOIS_NO_MATCH.match(line)
        if other:
            values.append(other.group(1))
    return _host_names(values)


def _rdap_names(raw: bytes) -> list[str]:
    """The names an RDAP domain document gives itself (ldhName and unicodeName)."""
    try:
        doc = load_rdap_json(raw)
    except WorkbenchError:
        return []
    return _host_names([doc.get("ldhName"), doc.get("unicodeName")], keep_unreadable=True)


def _host_names(values, *, keep_unreadable: bool = False) -> list[str]:
    names = []
    for value in values:
        if not isinstance(value, str) or not value.strip():
            continue
        try:
            names.append(normalise_hostname(value.strip().rstrip(".,;"), "name").ascii)
        except InvalidInput:
            if keep_unreadable:  # a document's own name field: shown as it is
                names.append(value.strip()[:120])
    return list(dict.fromkeys(names))


def _refuse_other_domain(domain: Hostname, names: list[str], kind: str, filename: str) -> None:
    others = [name for name in names if name != domain.ascii]
    if others:
        label = "an RDAP document" if kind == "rdap" else "a WHOIS record"
        raise InvalidInput(
            "file",
            filename,
            f"is {label} about {', '.join(others)}, not {domain.ascii}",
        )


def _dns(domain: Hostname, raws, names, captured_at, server):
    """Each file is one DNS message as received (wire format) or as dig prints it."""
    parsed, stored = [], []
    for raw, name in zip(raws, names, strict=False):
        try:
            response = parse_dns_response(raw)
            wire, media_type = raw, "application/dns-message"
        except DnsParseError:
            try:
                wire = _wire_from_text(raw.decode("utf-8"))
                response = parse_dns_response(wire)
            except (
                UnicodeDecodeError,
                dns.exception.DNSException,
                ValueError,
                DnsParseError,
            ) as exc:
                raise InvalidInput(
                    "file", name, f"is neither a DNS message nor dig-style text ({_one_line(exc)})"
                ) from None
            media_type = "text/plain"
        if response.question is None:
            raise InvalidInput("file", name, "is a DNS message without a question")
        asked = response.question.name.rstrip(".").lower()
        if response.question.rdtype != "PTR" and asked != domain.ascii:
            # It would be stored and then ignored: the lookup is of the domain's own name.
            raise InvalidInput(
                "file", name, f"answers a question about {asked}, not {domain.ascii}"
            )
        query = capture_query(response.question.name, response.question.rdtype)
        parsed.append(
            Capture("dns", server, query, wire, captured_at, 0.0, "application/dns-message")
        )
        stored.append(Capture("dns", server, query, raw, captured_at, 0.0, media_type))
    facts = dns_facts_from_captures(domain.ascii, parsed)
    status, reason = summarise_dns_facts(facts)
    return LookupOutcome(status, stored, reason or "imported"), facts


# dig prints "opcode: QUERY, status: NOERROR, id: 40102"; kdig separates with ";".
_DIG_HEADER = re.compile(
    r"->>HEADER<<-\s*opcode:\s*(\w+)[,;]\s*status:\s*(\w+)[,;]\s*id:\s*(\d+)", re.IGNORECASE
)
_DIG_FLAGS = re.compile(r"^;;\s*flags:\s*([a-z ]*);", re.IGNORECASE | re.MULTILINE)
_DIG_SECTION = re.compile(
    r"^;;\s*(QUESTION|ANSWER|AUTHORITY|ADDITIONAL) SECTION:", re.IGNORECASE | re.MULTILINE
)


def _wire_from_text(text: str) -> bytes:
    """The DNS message a text shows: dig's or kdig's output (and the evidence viewer's
    rendering, which copies dig), or dnspython's own text format.

    dnspython reads only its own format: given dig's output it silently returns an empty
    message, so dig's header, flags and sections are translated into it first.
    """
    header = _DIG_HEADER.search(text)
    if header is None:
        return dns.message.from_text(text).to_wire()
    opcode, rcode, ident = header.groups()
    flags = _DIG_FLAGS.search(text)
    lines = [
        f"id {ident}",
        f"opcode {opcode.upper()}",
        f"rcode {rcode.upper()}",
        f"flags {flags.group(1).upper() if flags else ''}",
    ]
    section = None
    for line in text.splitlines():
        stripped = line.strip()
        marker = _DIG_SECTION.match(stripped)
        if marker:
            section = marker.group(1).upper()
            lines.append(";" + section)
        elif section == "QUESTION" and stripped.startswith(";"):
            lines.append(stripped.lstrip("; \t"))  # dig writes the question as a comment
        elif section and stripped and not stripped.startswith(";"):
            lines.append(stripped)
    return dns.message.from_text("\n".join(lines)).to_wire()
