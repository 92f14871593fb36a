"""One case read whole, as every exporter sees it.

`load_case` gathers the case, its entities, links, events and evidence, and numbers the
evidence as exhibits (E1, E2, ... by capture time). The exhibits are the case's evidence
plus any item a link of the case cites, so that every citation in an export points to an
exhibit the export contains. An entity's facts rest on the evidence of its links in the
case; `entity_evidence` says which.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlite_utils import Database

from workbench.domain.model import Case, Entity, Event, Evidence, Link
from workbench.domain.times import to_iso, utc_now
from workbench.store.cases import get_case
from workbench.store.entities import case_entities, get_entities
from workbench.store.events import case_events
from workbench.store.evidence import case_evidence, get_evidence
from workbench.store.links import case_links
from workbench.store.pivots import related_cases
from workbench.store.snapshots import entity_snapshots

# The order entity kinds are presented in: the storefront and the people behind it first,
# the infrastructure after.
KIND_ORDER = (
    "storefront",
    "organisation",
    "person",
    "collecting_society",
    "licence",
    "payment_processor",
    "registrar",
    "domain",
    "url",
    "ip_address",
    "network",
    "nameserver",
    "host",
    "email",
    "phone",
)

KIND_TITLES = {
    "storefront": "Storefronts",
    "organisation": "Organisations",
    "person": "Persons",
    "collecting_society": "Collecting societies",
    "licence": "Licences",
    "payment_processor": "Payment processors",
    "registrar": "Registrars",
    "domain": "Domains",
    "url": "URLs",
    "ip_address": "IP addresses",
    "network": "Networks",
    "nameserver": "Name servers",
    "host": "Hosts",
    "email": "Email addresses",
    "phone": "Phone numbers",
}

KIND_SINGULAR = {
    "storefront": "storefront",
    "organisation": "organisation",
    "person": "person",
    "collecting_society": "collecting society",
    "licence": "licence",
    "payment_processor": "payment processor",
    "registrar": "registrar",
    "domain": "domain",
    "url": "URL",
    "ip_address": "IP address",
    "network": "network",
    "nameserver": "name server",
    "host": "host",
    "email": "email address",
    "phone": "phone number",
}

# How a link reads in a sentence: "soundsbox.test is registered to Pedro Kresker".
LINK_PHRASES = {
    "operates": "operates",
    "registered_to": "is registered to",
    "registered_via": "is registered through",
    "claims_licence_from": "claims a licence from",
    "licence_issued_by": "is said to be issued by",
    "accepts_payment_via": "accepts payment via",
    "resolves_to": "resolves to",
    "uses_nameserver": "uses the name server",
    "mail_handled_by": "has its mail handled by",
    "hosted_by": "is hosted by",
    "contact_email": "has the contact email",
    "contact_phone": "has the contact phone",
    "same_as": "is the same as",
    "alias_of": "is an alias (CNAME) of",
    "reverse_dns": "has the reverse DNS name",
    "served_at": "is served at",
    "related": "is related to",
}


def kind_rank(kind: str) -> int:
    return KIND_ORDER.index(kind) if kind in KIND_ORDER else len(KIND_ORDER)


def link_phrase(link: Link) -> str:
    """The relationship in words, with the user's label for free-form and labelled links."""
    phrase = LINK_PHRASES.get(link.type, link.type.replace("_", " "))
    if link.label:
        phrase = f"{phrase} ({link.label})" if link.type != "related" else link.label
    return phrase


@dataclass
class CaseData:
    case: Case
    entities: list[Entity]
    links: list[Link]
    events: list[Event]
    evidence: list[Evidence]  # in exhibit order
    origin: dict[str, Any]  # {"store": first audit hash of the store, "case_id": id}
    generated_at: str
    related: list[dict[str, Any]] = field(default_factory=list)
    snapshots: list[dict[str, Any]] = field(default_factory=list)
    exhibit_of: dict[int, int] = field(default_factory=dict)  # evidence id -> exhibit number
    _entity_evidence: dict[int, set[int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.exhibit_of = {item.id: number for number, item in enumerate(self.evidence, 1)}
        by_entity: dict[int, set[int]] = defaultdict(set)
        for link in self.links:
            by_entity[link.src_id].update(link.evidence_ids)
            by_entity[link.dst_id].update(link.evidence_ids)
        for snapshot in self.snapshots:
            by_entity[snapshot["entity_id"]].update(snapshot["evidence_ids"])
        self._entity_evidence = dict(by_entity)
        self.entity_by_id = {entity.id: entity for entity in self.entities}
        self.evidence_by_id = {item.id: item for item in self.evidence}

    def entity_evidence(self, entity_id: int) -> list[int]:
        """The evidence ids an entity's facts rest on: those of its links and lookups."""
        return sorted(self._entity_evidence.get(entity_id, ()))

    def exhibits(self, evidence_ids) -> list[int]:
        """Exhibit numbers for evidence ids, ascending."""
        return sorted({self.exhibit_of[eid] for eid in evidence_ids if eid in self.exhibit_of})

    def by_kind(self) -> list[tuple[str, list[Entity]]]:
        groups: dict[str, list[Entity]] = defaultdict(list)
        for entity in self.entities:
            groups[entity.kind].append(entity)
        return [(kind, groups[kind]) for kind in sorted(groups, key=lambda k: (kind_rank(k), k))]


def store_identity(db: Database) -> str | None:
    """The hash of a store's first audit row: it never changes, so it names the store."""
    row = db.execute("SELECT hash FROM audit ORDER BY id LIMIT 1").fetchone()
    return row[0] if row else None


def load_case(db: Database, case_id: int, *, with_related: bool = True) -> CaseData:
    """The case whole, its evidence numbered as exhibits (metadata only, not content)."""
    case = get_case(db, case_id)
    entities = case_entities(db, case_id)
    links = case_links(db, case_id)
    events = case_events(db, case_id)
    evidence = {item.id: item for item in case_evidence(db, case_id)}
    cited = {eid for link in links for eid in link.evidence_ids}
    snapshots = []
    for entity in entities:
        for snapshot in entity_snapshots(db, entity.id):
            if snapshot["case_id"] == case_id:
                snapshots.append(snapshot)
                cited.update(snapshot["evidence_ids"])
    for evidence_id in sorted(cited - set(evidence)):
        evidence[evidence_id] = get_evidence(db, evidence_id)
    ordered = sorted(evidence.values(), key=lambda item: (item.captured_at, item.id))
    # Event entities are in the case as a rule; a stray one is still shown by name.
    known = {entity.id for entity in entities}
    stray = {eid for event in events for eid in event.entity_ids} - known
    if stray:
        entities = entities + list(get_entities(db, sorted(stray)).values())
    return CaseData(
        case=case,
        entities=entities,
        links=links,
        events=events,
        evidence=ordered,
        origin={"store": store_identity(db), "case_id": case.id},
        generated_at=to_iso(utc_now()),
        related=related_cases(db, case_id) if with_related else [],
        snapshots=sorted(snapshots, key=lambda s: (s["taken_at"], s["id"])),
    )


def evidence_content(db: Database, evidence_id: int) -> bytes:
    content = get_evidence(db, evidence_id, with_content=True).content
    assert content is not None
    return content


def format_attr(name: str, value: Any) -> str:
    """An attribute value as a person reads it (prices as "0.14 USD per track")."""
    if name == "prices" and isinstance(value, list):
        return "; ".join(
            f"{p['amount']} {p['currency']} per {p['unit']}" if isinstance(p, dict) else str(p)
            for p in value
        )
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def exhibit_list(numbers: list[int]) -> str:
    """[1, 2, 3, 5] -> "E1–E3, E5"."""
    parts = []
    start = prev = None
    for number in sorted(set(numbers)):
        if start is None:
            start = prev = number
        elif number == prev + 1:
            prev = number
        else:
            parts.append((start, prev))
            start = prev = number
    if start is not None:
        parts.append((start, prev))
    return ", ".join(
        f"E{a}" if a == b else (f"E{a}, E{b}" if b == a + 1 else f"E{a}–E{b}") for a, b in parts
    )
