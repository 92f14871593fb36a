"""Turn one lookup's outcome into evidence, entities, links, a snapshot and, when something
changed since the last lookup, a timeline event: all in the caller's transaction.

The same function records a live lookup, an imported recording and the demo case, so all
three go through one path. Every link created here cites the evidence the lookup stored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import dns.reversename
from sqlite_utils import Database

from workbench.domain.errors import InvalidInput
from workbench.domain.identity import identify
from workbench.domain.kinds import EntityKind, EventKind, LinkType
from workbench.domain.model import Entity
from workbench.domain.normalise import Hostname, name_key
from workbench.domain.role_names import is_role_name
from workbench.domain.times import to_iso
from workbench.lookups.results import (
    Capture,
    Contact,
    DnsFacts,
    LookupOutcome,
    LookupStatus,
    NetworkFacts,
    RegistrationFacts,
)
from workbench.store.entities import ensure_entity, find_entity, identity_of
from workbench.store.events import add_event
from workbench.store.evidence import add_evidence
from workbench.store.links import ensure_link_id
from workbench.store.snapshots import add_snapshot, diff_summaries, previous_ok_snapshot

# What the evidence full-text index reads of a binary DNS message: its rendering.
_DNS_MEDIA = "application/dns-message"


@dataclass
class RecordedLookup:
    """What recording one lookup produced, for progress reports and `--json`."""

    query: str
    protocol: str
    status: str
    reason: str | None
    evidence_ids: list[int] = field(default_factory=list)
    entity_ids: list[int] = field(default_factory=list)
    link_ids: list[int] = field(default_factory=list)
    snapshot_id: int | None = None
    changes: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "protocol": self.protocol,
            "status": self.status,
            "reason": self.reason,
            "evidence_ids": self.evidence_ids,
            "entity_ids": self.entity_ids,
            "link_ids": self.link_ids,
            "snapshot_id": self.snapshot_id,
            "changes": self.changes,
        }


class _Linker:
    """Creates entities and links for one lookup, all citing its evidence, in one case."""

    def __init__(
        self, db: Database, case_id: int | None, evidence_ids: list[int], record: RecordedLookup
    ):
        self.db = db
        self.case_id = case_id
        self.evidence_ids = evidence_ids
        self.record = record

    def entity(
        self, kind: EntityKind, value: str | None, attrs: dict[str, Any] | None = None
    ) -> Entity | None:
        """The entity, or None when the value is missing, redacted or invalid (a server's
        odd value must not sink the whole lookup; the raw text stays in the evidence)."""
        if not value:
            return None
        try:
            made = ensure_entity(self.db, kind, value, attrs, case_id=self.case_id)
        except InvalidInput:
            return None
        self.record.entity_ids.append(made.id)
        return made

    def link(
        self,
        src: Entity | None,
        link_type: LinkType,
        dst: Entity | None,
        label: str = "",
        cite: list[int] | None = None,
    ) -> None:
        """Link `src` to `dst`, citing `cite` (default: all of this lookup's evidence)."""
        if src is None or dst is None or src.id == dst.id:
            return
        link_id = ensure_link_id(
            self.db,
            src.id,
            link_type,
            dst.id,
            case_id=self.case_id,
            evidence_ids=cite or self.evidence_ids,
            label=label,
        )
        self.record.link_ids.append(link_id)


def store_captures(
    db: Database,
    captures: list[Capture],
    *,
    case_id: int | None,
    imported: bool = False,
    render=None,
) -> list[int]:
    """Store each raw capture as evidence; returns their ids in order."""
    ids = []
    for capture in captures:
        text = render(capture.raw) if render and capture.media_type == _DNS_MEDIA else None
        item = add_evidence(
            db,
            capture.protocol,
            capture.raw,
            captured_at=capture.started_at,
            source=capture.server,
            query=capture.query,
            media_type=capture.media_type,
            imported=imported,
            text=text,
            case_id=case_id,
        )
        ids.append(item.id)
    return ids


def record_lookup(
    db: Database,
    *,
    subject: Entity,
    protocol: str,
    outcome: LookupOutcome,
    facts: RegistrationFacts | DnsFacts | NetworkFacts | None,
    case_id: int | None,
    run_id: int | None = None,
    imported: bool = False,
    taken_at: datetime | None = None,
    render=None,
) -> RecordedLookup:
    """Record one lookup (`protocol` whois, rdap, dns or rdap_ip) of `subject`.

    Call inside `writing(db)`. A lookup that did not succeed stores whatever bytes it did
    receive and a snapshot with its status and reason, and creates no entities.
    """
    record = RecordedLookup(subject.value, protocol, outcome.status.value, outcome.reason)
    record.evidence_ids = store_captures(
        db, outcome.captures, case_id=case_id, imported=imported, render=render
    )
    summary: dict[str, Any] = {}
    if outcome.status is LookupStatus.OK and facts is not None:
        linker = _Linker(db, case_id, record.evidence_ids, record)
        if isinstance(facts, RegistrationFacts):
            summary = _link_registration(linker, subject, facts)
        elif isinstance(facts, DnsFacts):
            by_query = {
                capture.query.upper(): eid
                for capture, eid in zip(outcome.captures, record.evidence_ids, strict=True)
            }
            summary = _link_dns(linker, subject, facts, by_query)
        elif isinstance(facts, NetworkFacts):
            summary = _link_network(linker, subject, facts)
    if taken_at is None and outcome.captures:
        taken_at = outcome.captures[0].started_at
    snapshot = add_snapshot(
        db,
        subject.id,
        protocol,
        outcome.status.value,
        reason=outcome.reason,
        summary=summary,
        evidence_ids=record.evidence_ids,
        taken_at=taken_at,
        imported=imported,
        case_id=case_id,
        run_id=run_id,
    )
    record.snapshot_id = snapshot["id"]
    if outcome.status is LookupStatus.OK:
        previous = previous_ok_snapshot(db, subject.id, protocol, snapshot["id"])
        if previous is not None:
            record.changes = diff_summaries(previous["summary"], summary)
            if record.changes and case_id is not None:
                add_event(
                    db,
                    case_id,
                    EventKind.LOOKUP,
                    _describe_changes(protocol, subject.value, record.changes),
                    at=taken_at,
                    entity_ids=[subject.id],
                )
    record.entity_ids = list(dict.fromkeys(record.entity_ids))
    record.link_ids = list(dict.fromkeys(record.link_ids))
    return record


def _describe_changes(protocol: str, name: str, changes: dict[str, Any]) -> str:
    parts = [
        f"{field}: {_short(change['before'])} -> {_short(change['after'])}"
        for field, change in changes.items()
    ]
    return f"{protocol.upper()} of {name} changed since the last lookup: " + "; ".join(parts)


def _short(value: Any) -> str:
    if value is None or value == []:
        return "(none)"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def _link_registration(linker: _Linker, domain: Entity, facts: RegistrationFacts) -> dict:
    registrar = facts.registrar
    registrar_entity = None
    if registrar and registrar.name:
        registrar_entity = linker.entity(
            EntityKind.REGISTRAR,
            registrar.name,
            {"iana_id": registrar.iana_id, "country": registrar.country, "url": registrar.url},
        )
        linker.link(domain, LinkType.REGISTERED_VIA, registrar_entity)
        abuse = linker.entity(EntityKind.EMAIL, registrar.abuse_email)
        linker.link(registrar_entity, LinkType.CONTACT_EMAIL, abuse, label="abuse")
        abuse_phone = linker.entity(EntityKind.PHONE, registrar.abuse_phone)
        linker.link(registrar_entity, LinkType.CONTACT_PHONE, abuse_phone, label="abuse")
    registrants = []
    for contact in facts.contacts:
        if contact.role in _REGISTRAR_ROLES:
            _link_registrar_contact(linker, registrar_entity, contact)
            continue
        made = _link_contact(linker, domain, contact, registrar_entity)
        if contact.role == "registrant":
            registrants.extend(made)
    for nameserver in facts.nameservers:
        linker.link(
            domain, LinkType.USES_NAMESERVER, linker.entity(EntityKind.NAMESERVER, nameserver)
        )
    attrs = {
        "registered": _iso(facts.created),
        "expires": _iso(facts.expires),
        "statuses": ", ".join(facts.statuses) or None,
        "dnssec": facts.dnssec,
    }
    linker.entity(EntityKind.DOMAIN, domain.key, attrs)
    return {
        "registrar": registrar.name if registrar else None,
        "registrant": sorted(registrants),
        "nameservers": sorted(facts.nameservers),
        "expires": _iso(facts.expires),
        "statuses": sorted(facts.statuses),
        "redacted": sorted(set(facts.redacted)),
    }


# Contacts that are the registrar's own desks, not the registrant's people: their addresses
# attach to the registrar, and they never become persons ("Abuse Desk" is not a suspect).
_REGISTRAR_ROLES = {"abuse", "registrar", "reseller", "sponsor"}


def _link_registrar_contact(linker: _Linker, registrar: Entity | None, contact: Contact) -> None:
    label = "abuse" if contact.role == "abuse" else contact.role
    linker.link(
        registrar,
        LinkType.CONTACT_EMAIL,
        linker.entity(EntityKind.EMAIL, contact.email),
        label=label,
    )
    linker.link(
        registrar,
        LinkType.CONTACT_PHONE,
        linker.entity(EntityKind.PHONE, contact.phone),
        label=label,
    )


def _link_contact(
    linker: _Linker, domain: Entity, contact: Contact, registrar: Entity | None
) -> list[str]:
    """Entities for one contact; returns the identifying values (for the snapshot).

    A desk name ("Hostmaster") is not a person, and an organisation that is the registrar
    itself is the registrar entity: neither may link the registrar's unrelated customers
    to each other through a shared "person" or "organisation".
    """
    place = {"country": contact.country, "city": contact.city, "address": contact.street}
    person = None
    if not is_role_name(contact.name):
        person = linker.entity(EntityKind.PERSON, contact.name, place)
    if (
        registrar is not None
        and contact.organisation
        and (name_key(contact.organisation) == registrar.key)
    ):
        organisation = registrar
    else:
        organisation = linker.entity(EntityKind.ORGANISATION, contact.organisation, place)
    holders = [holder for holder in (person, organisation) if holder is not None]
    role_label = "" if contact.role == "registrant" else f"{contact.role} contact"
    for holder in holders:
        if contact.role == "registrant":
            linker.link(domain, LinkType.REGISTERED_TO, holder)
        else:
            linker.link(domain, LinkType.RELATED, holder, label=role_label)
    email = linker.entity(EntityKind.EMAIL, contact.email)
    phone = linker.entity(
        EntityKind.PHONE,
        contact.phone,
        {"line_type": _line_type(linker, contact.phone, contact.fax, contact.country)},
    )
    fax = linker.entity(EntityKind.PHONE, contact.fax, {"line_type": "fax"})
    for holder in holders or [domain]:
        linker.link(holder, LinkType.CONTACT_EMAIL, email, label=role_label)
        linker.link(holder, LinkType.CONTACT_PHONE, phone, label=role_label)
        linker.link(holder, LinkType.CONTACT_PHONE, fax, label="fax")
    return [
        value
        for value in (contact.name, contact.organisation, contact.email, contact.phone)
        if value
    ]


def _line_type(
    linker: _Linker, phone: str | None, fax: str | None, country: str | None
) -> str | None:
    """A number also given as the fax, or already known as a fax line, is a fax line:
    registrants who do not want calls give their fax as their phone."""
    if not phone:
        return None
    region = {"country": country}
    try:
        phone_key = identify(EntityKind.PHONE, phone, region).key
        if fax and identify(EntityKind.PHONE, fax, region).key == phone_key:
            return "fax"
        known = find_entity(linker.db, EntityKind.PHONE, phone, region)
    except InvalidInput:
        return None
    if known is not None and known.attrs.get("line_type") == "fax":
        return "fax"
    return "voice"


def _host(linker: _Linker, name: str) -> Entity | None:
    """A DNS name as an entity: the domain entity when the name is a registrable domain
    (a PTR of soundsbox.test is the domain soundsbox.test), else a host."""
    try:
        # Remembered identities: the entity made below is identified by the same call.
        is_domain = (
            identity_of(EntityKind.DOMAIN, name).key == identity_of(EntityKind.HOST, name).key
        )
    except InvalidInput:
        return None
    return linker.entity(EntityKind.DOMAIN if is_domain else EntityKind.HOST, name)


def _link_dns(linker: _Linker, domain: Entity, facts: DnsFacts, by_query: dict[str, int]) -> dict:
    """Links from DNS answers; each cites the answer it comes from (the A answer for an
    address, the PTR answer for its reverse name)."""

    def cite(name: str, rdtype: str) -> list[int] | None:
        found = by_query.get(f"{name} {rdtype}".upper())
        return [found] if found else None

    name = facts.name
    for address in facts.addresses:
        ip = linker.entity(EntityKind.IP_ADDRESS, address)
        rdtype = "AAAA" if ":" in address else "A"
        linker.link(domain, LinkType.RESOLVES_TO, ip, cite=cite(name, rdtype))
        reverse = dns.reversename.from_address(address).to_text(omit_final_dot=True)
        for host in facts.ptr.get(address, []):
            linker.link(
                ip,
                LinkType.REVERSE_DNS,
                _host(linker, host),
                cite=cite(reverse, "PTR"),
            )
    for nameserver in facts.records.get("NS", []):
        linker.link(
            domain,
            LinkType.USES_NAMESERVER,
            linker.entity(EntityKind.NAMESERVER, nameserver),
            cite=cite(name, "NS"),
        )
    for value in facts.records.get("MX", []):
        host = value.split()[-1] if value.split() else value
        linker.link(
            domain,
            LinkType.MAIL_HANDLED_BY,
            _host(linker, host),
            cite=cite(name, "MX"),
        )
    for target in facts.records.get("CNAME", []):
        linker.link(
            domain,
            LinkType.ALIAS_OF,
            _host(linker, target),
            cite=cite(name, "CNAME"),
        )
    txt = facts.records.get("TXT", [])
    if txt:
        linker.entity(EntityKind.DOMAIN, domain.key, {"txt": " | ".join(txt)})
    # Only what was asked goes in the summary, so a recording of just the MX answer is not
    # read as "the addresses disappeared".
    asked = set(facts.outcomes)
    fields = {
        "addresses": (("A", "AAAA"), sorted(facts.addresses)),
        "nameservers": (("NS",), sorted(facts.records.get("NS", []))),
        "mx": (("MX",), sorted(facts.records.get("MX", []))),
        "cname": (("CNAME",), sorted(facts.records.get("CNAME", []))),
        "txt": (("TXT",), sorted(txt)),
    }
    return {name: value for name, (types, value) in fields.items() if asked & set(types)}


def _link_network(linker: _Linker, address: Entity, facts: NetworkFacts) -> dict:
    label = f"AS{facts.asn}" if facts.asn else (facts.cidrs[0] if facts.cidrs else facts.name)
    network = linker.entity(
        EntityKind.NETWORK,
        label,
        {
            "name": facts.name,
            "asn": facts.asn,
            "country": facts.country,
            "cidr": ", ".join(facts.cidrs) or None,
        },
    )
    linker.link(address, LinkType.HOSTED_BY, network)
    abuse = linker.entity(EntityKind.EMAIL, facts.abuse_email)
    linker.link(network, LinkType.CONTACT_EMAIL, abuse, label="abuse")
    organisation = linker.entity(
        EntityKind.ORGANISATION, facts.organisation, {"country": facts.country}
    )
    linker.link(network, LinkType.RELATED, organisation, label="holder")
    return {
        "network": facts.name,
        "asn": facts.asn,
        "cidrs": sorted(facts.cidrs),
        "country": facts.country,
        "abuse_email": facts.abuse_email,
    }


def _iso(moment: datetime | None) -> str | None:
    return to_iso(moment) if moment else None


def subject_entity(
    db: Database, kind: EntityKind, value: str | Hostname, case_id: int | None
) -> Entity:
    """The domain or address entity a lookup is about (created if new)."""
    text = value.ascii if isinstance(value, Hostname) else value
    return ensure_entity(db, kind, text, case_id=case_id)
