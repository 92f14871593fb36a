"""Importing a recorded response: WHOIS text, RDAP JSON or DNS answers that a colleague
captured or an old printout holds, run through the same parsers and linking as a live
lookup, and marked as imported with the capture time its supplier claims.

Several files make one lookup: a registry's WHOIS answer and its registrar's, the registry
and registrar RDAP documents, or the DNS answers to several questions. The demo case is
built the same way, so it exercises the real pipeline.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import dns.exception
import dns.message
from sqlite_utils import Database

from workbench.domain.errors import InvalidInput, WorkbenchError
from workbench.domain.kinds import EntityKind
from workbench.domain.normalise import Hostname, normalise_domain, normalise_ip
from workbench.lookups.dns_parse import (
    DnsParseError,
    capture_query,
    dns_facts_from_captures,
    parse_dns_response,
    render_dns_capture,
    summarise_dns_facts,
)
from workbench.lookups.rdap_parse import merge_registration_facts, parse_rdap_domain, parse_rdap_ip
from workbench.lookups.results import Capture, LookupOutcome, LookupStatus
from workbench.lookups.whois_parse import (
    decode_whois,
    merge_registry_and_registrar,
    parse_whois,
    whois_not_found,
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
) -> RecordedLookup:
    """Parse `raws` as one `kind` lookup of `subject` (a domain, or an address for rdap_ip)
    and record it as imported. What does not parse as that kind is refused, naming the
    file, and nothing is stored."""
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
        outcome, facts = reader(domain, list(raws), names, captured_at, server)
        subject_kind, subject_value = EntityKind.DOMAIN, domain.ascii
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
        raise InvalidInput("file", filename, f"is not a {kind} response ({exc})") from None


def _whois(domain: Hostname, raws, names, captured_at, server):
    """The first file is the registry's answer; a second one its registrar's."""
    tld = domain.ascii.rsplit(".", 1)[-1]
    captures, facts = [], None
    for raw, name in zip(raws, names, strict=False):
        text = _parse(lambda raw=raw: decode_whois(raw, tld), "whois", name)
        captures.append(Capture("whois", server, domain.ascii, raw, captured_at, 0.0))
        if facts is None and whois_not_found(text):
            return LookupOutcome(LookupStatus.NOT_FOUND, captures, "imported"), None
        parsed = _parse(lambda text=text: parse_whois(domain, text), "whois", name)
        facts = parsed if facts is None else merge_registry_and_registrar(facts, parsed)
    return LookupOutcome(LookupStatus.OK, captures, "imported"), facts


def _rdap(domain: Hostname, raws, names, captured_at, server):
    """The first document is the registry's; a second one the registrar's."""
    captures, facts = [], None
    for raw, name in zip(raws, names, strict=False):
        parsed = _parse(lambda raw=raw: parse_rdap_domain(raw), "rdap", name)
        captures.append(
            Capture("rdap", server, domain.ascii, raw, captured_at, 0.0, "application/rdap+json")
        )
        facts = parsed if facts is None else merge_registration_facts(facts, parsed)
    return LookupOutcome(LookupStatus.OK, captures, "imported"), facts


def _dns(domain: Hostname, raws, names, captured_at, server):
    """Each file is one DNS message as received (wire format) or as dig prints it."""
    parsed, stored = [], []
    for raw, name in zip(raws, names, strict=False):
        try:
            response = parse_dns_response(raw)
            wire, media_type = raw, "application/dns-message"
        except DnsParseError:
            try:
                wire = dns.message.from_text(raw.decode("utf-8")).to_wire()
            except (UnicodeDecodeError, dns.exception.DNSException, ValueError) as exc:
                raise InvalidInput(
                    "file", name, f"is neither a DNS message nor dig-style text ({exc})"
                ) from None
            response, media_type = parse_dns_response(wire), "text/plain"
        if response.question is None:
            raise InvalidInput("file", name, "is a DNS message without a question")
        query = capture_query(response.question.name, response.question.rdtype)
        parsed.append(
            Capture("dns", server, query, wire, captured_at, 0.0, "application/dns-message")
        )
        stored.append(Capture("dns", server, query, raw, captured_at, 0.0, media_type))
    facts = dns_facts_from_captures(domain.ascii, parsed)
    status, reason = summarise_dns_facts(facts)
    return LookupOutcome(status, stored, reason or "imported"), facts
