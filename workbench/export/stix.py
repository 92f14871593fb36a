"""The case as a STIX 2.1 bundle (the `stix2` library), for threat-intelligence tools.

How the workbench's kinds map:
- domains, name servers and hosts -> domain-name; URLs -> url; email addresses ->
  email-addr; IP addresses -> ipv4-addr / ipv6-addr; networks -> autonomous-system when
  their AS number is known, else an ipv4-addr / ipv6-addr holding the CIDR block;
- persons -> identity (individual); organisations, registrars, collecting societies and
  payment processors -> identity (organization), with their phone numbers and email
  addresses in contact_information;
- storefronts -> infrastructure; licences -> a note on the entities that claim or issue it;
- links -> relationship objects (the link type with hyphens; free-form links are
  related-to with the label as description), each citing its evidence as external
  references carrying the exhibit number and SHA-256;
- the case -> a report referring to everything, created by the investigator's identity.

Ids are deterministic where the spec allows: cyber-observables get the spec's UUIDv5 ids
from their values (stix2 computes them), and the other objects UUIDv5 ids from the
workbench namespace and the entity's kind and key, so the same ROMS has the same id in
every export of every store.
"""

from __future__ import annotations

import ipaddress
import json
import os
import uuid
from typing import Any

import stix2
from sqlite_utils import Database

from workbench.domain.model import Entity, Link
from workbench.domain.times import from_iso
from workbench.export.casedata import (
    KIND_SINGULAR,
    CaseData,
    format_attr,
    link_phrase,
    load_case,
)
from workbench.export.files import write_atomically

NAMESPACE = uuid.UUID("4f1d5a8e-2b7c-5e39-9a61-0c7d3e8b4a12")
_ORGANISATION_KINDS = ("organisation", "registrar", "collecting_society", "payment_processor")
_DOMAIN_KINDS = ("domain", "nameserver", "host")


def _uuid(*parts: Any) -> str:
    return str(uuid.uuid5(NAMESPACE, "|".join(str(part) for part in parts)))


def _address_object(value: str):
    network = ipaddress.ip_network(value, strict=False)
    text = value if "/" in value else str(network.network_address)
    return stix2.IPv4Address(value=text) if network.version == 4 else stix2.IPv6Address(value=text)


class _Mapper:
    def __init__(self, data: CaseData):
        self.data = data
        self.objects: dict[int, Any] = {}  # entity id -> STIX object
        self.extra: list[Any] = []
        self.creator = self._creator()

    def _creator(self):
        case = self.data.case
        name = case.investigator or "Rights-Investigation Workbench"
        return stix2.Identity(
            id=f"identity--{_uuid('investigator', name)}",
            name=name,
            identity_class="individual" if case.investigator else "system",
            created=from_iso(case.created_at),
            modified=from_iso(case.created_at),
        )

    def _times(self, entity: Entity) -> dict[str, Any]:
        return {"created": from_iso(entity.created_at), "modified": from_iso(entity.updated_at)}

    def _details(self, entity: Entity, skip: tuple[str, ...] = ()) -> str:
        shown = [
            f"{name.replace('_', ' ')}: {format_attr(name, value)}"
            for name, value in sorted(entity.attrs.items())
            if name not in skip
        ]
        head = KIND_SINGULAR.get(entity.kind, entity.kind).capitalize()
        return head + (" (" + "; ".join(shown) + ")" if shown else "")

    def _contacts(self, entity: Entity) -> str | None:
        found = []
        for link in self.data.links:
            if link.src_id != entity.id or link.type not in ("contact_email", "contact_phone"):
                continue
            other = self.data.entity_by_id[link.dst_id]
            kind = "fax" if other.attrs.get("line_type") == "fax" else link.type.split("_")[1]
            found.append(f"{kind}: {other.value}" + (f" ({link.label})" if link.label else ""))
        place = ", ".join(
            str(entity.attrs[name])
            for name in ("address", "city", "country")
            if entity.attrs.get(name)
        )
        if place:
            found.append(f"address: {place}")
        return "; ".join(found) or None

    def map_entity(self, entity: Entity):
        kind, value = entity.kind, entity.value
        if kind in _DOMAIN_KINDS:
            return stix2.DomainName(value=entity.key)
        if kind == "url":
            return stix2.URL(value=value)
        if kind == "email":
            return stix2.EmailAddress(value=value)
        if kind == "ip_address":
            return _address_object(value)
        if kind == "network":
            if entity.attrs.get("asn") is not None:
                return stix2.AutonomousSystem(
                    number=int(entity.attrs["asn"]), name=entity.attrs.get("name")
                )
            try:
                return _address_object(entity.attrs.get("cidr", "").split(",")[0].strip() or value)
            except ValueError:
                return None
        if kind == "person" or kind in _ORGANISATION_KINDS:
            return stix2.Identity(
                id=f"identity--{_uuid(kind, entity.key)}",
                name=value,
                identity_class="individual" if kind == "person" else "organization",
                description=self._details(entity),
                contact_information=self._contacts(entity),
                created_by_ref=self.creator.id,
                **self._times(entity),
            )
        if kind == "storefront":
            return stix2.Infrastructure(
                id=f"infrastructure--{_uuid(kind, entity.key)}",
                name=value,
                infrastructure_types=["unknown"],
                description=self._details(entity),
                created_by_ref=self.creator.id,
                **self._times(entity),
            )
        return None  # licences become notes; phone numbers are contact information

    def references(self, evidence_ids: list[int]) -> list[dict[str, Any]]:
        refs = []
        for evidence_id in sorted(evidence_ids, key=lambda e: self.data.exhibit_of.get(e, 0)):
            item = self.data.evidence_by_id.get(evidence_id)
            if item is None:
                continue
            refs.append(
                {
                    "source_name": "workbench-evidence",
                    "external_id": f"E{self.data.exhibit_of[evidence_id]}",
                    "description": (
                        f"{item.kind} captured {item.captured_at}"
                        + (f" from {item.source}" if item.source else "")
                        + (f" for {item.query}" if item.query else "")
                    ),
                    "hashes": {"SHA-256": item.sha256},
                }
            )
        return refs

    def map_link(self, link: Link):
        source = self.objects.get(link.src_id)
        target = self.objects.get(link.dst_id)
        if source is None or target is None:
            return None
        src = self.data.entity_by_id[link.src_id]
        dst = self.data.entity_by_id[link.dst_id]
        relationship_type = "related-to" if link.type == "related" else link.type.replace("_", "-")
        options: dict[str, Any] = {}
        references = self.references(link.evidence_ids)
        if references:
            options["external_references"] = references
        return stix2.Relationship(
            id=f"relationship--{_uuid(source.id, link.type, link.label, target.id)}",
            relationship_type=relationship_type,
            source_ref=source.id,
            target_ref=target.id,
            description=f"{src.value} {link_phrase(link)} {dst.value}",
            confidence=round(link.confidence * 100),
            created=from_iso(link.created_at),
            modified=from_iso(link.created_at),
            created_by_ref=self.creator.id,
            **options,
        )

    def licence_note(self, licence: Entity):
        related = [link for link in self.data.links if licence.id in (link.src_id, link.dst_id)]
        refs = sorted(
            {
                self.objects[other].id
                for link in related
                for other in (link.src_id, link.dst_id)
                if other != licence.id and other in self.objects
            }
        )
        if not refs:
            return None
        claims = "; ".join(
            f"{self.data.entity_by_id[link.src_id].value} {link_phrase(link)} "
            f"{self.data.entity_by_id[link.dst_id].value}"
            for link in related
        )
        evidence = sorted({e for link in related for e in link.evidence_ids})
        options: dict[str, Any] = {}
        references = self.references(evidence)
        if references:
            options["external_references"] = references
        return stix2.Note(
            id=f"note--{_uuid('licence', licence.key)}",
            abstract=f"Licence {licence.value}",
            content=claims,
            object_refs=refs,
            created_by_ref=self.creator.id,
            **self._times(licence),
            **options,
        )


def case_bundle(data: CaseData) -> stix2.Bundle:
    mapper = _Mapper(data)
    for entity in sorted(data.entities, key=lambda e: e.id):
        mapped = mapper.map_entity(entity)
        if mapped is not None:
            mapper.objects[entity.id] = mapped
    relationships = [r for r in (mapper.map_link(link) for link in data.links) if r is not None]
    notes = [
        note
        for note in (mapper.licence_note(e) for e in data.entities if e.kind == "licence")
        if note is not None
    ]
    unique: dict[str, Any] = {mapper.creator.id: mapper.creator}
    for stix_object in [*mapper.objects.values(), *relationships, *notes]:
        unique.setdefault(stix_object.id, stix_object)
    case = data.case
    report = stix2.Report(
        id=f"report--{_uuid('case', data.origin.get('store'), case.id)}",
        name=case.title,
        description=case.summary or f"Case {case.id} of the Rights-Investigation Workbench",
        report_types=["threat-report"],
        published=from_iso(case.updated_at),
        created=from_iso(case.created_at),
        modified=from_iso(case.updated_at),
        created_by_ref=mapper.creator.id,
        object_refs=list(unique),
    )
    return stix2.Bundle(
        id=f"bundle--{_uuid('bundle', data.origin.get('store'), case.id, data.generated_at)}",
        objects=[report, *unique.values()],
    )


def export_stix(db: Database, case_id: int, path: str | os.PathLike) -> dict[str, Any]:
    data = load_case(db, case_id, with_related=False)
    bundle = case_bundle(data)
    # Indented by json, not by serialize(pretty=True): stix2's property ordering for pretty
    # output takes minutes on a case of a few thousand objects.
    text = json.dumps(json.loads(bundle.serialize()), ensure_ascii=False, indent=2)
    write_atomically(path, (text + "\n").encode("utf-8"))
    counts: dict[str, int] = {}
    for stix_object in bundle.objects:
        counts[stix_object.type] = counts.get(stix_object.type, 0) + 1
    return {"path": str(path), "objects": len(bundle.objects), "by_type": counts}
