"""The two views every screen and command starts from: a case whole, and an entity whole."""

from __future__ import annotations

from typing import Any

from sqlite_utils import Database

from workbench.store.cases import get_case
from workbench.store.entities import case_entities, entity_case_ids, get_entities, get_entity
from workbench.store.events import case_events
from workbench.store.evidence import case_evidence, get_evidence
from workbench.store.links import case_links, entity_links
from workbench.store.plain import entity_dict, link_dict


def case_detail(db: Database, case_id: int) -> dict[str, Any]:
    """A case with its entities, links, events and evidence (metadata, not content)."""
    case = get_case(db, case_id)
    return {
        "case": case.as_dict(),
        "entities": [entity_dict(entity) for entity in case_entities(db, case_id)],
        "links": [link_dict(link) for link in case_links(db, case_id)],
        "events": [event.as_dict() for event in case_events(db, case_id)],
        "evidence": [item.as_dict() for item in case_evidence(db, case_id)],
    }


def entity_detail(db: Database, entity_id: int) -> dict[str, Any]:
    """An entity with its links in and out (with the entity at the other end and the
    evidence each rests on) and the cases it appears in."""
    entity = get_entity(db, entity_id)
    links = entity_links(db, entity_id)
    others = get_entities(
        db, [link.dst_id if link.src_id == entity_id else link.src_id for link in links]
    )
    evidence_ids = sorted({eid for link in links for eid in link.evidence_ids})
    return {
        "entity": entity.as_dict(),
        "links_out": [
            {**link.as_dict(), "other": others[link.dst_id].as_dict()}
            for link in links
            if link.src_id == entity_id
        ],
        "links_in": [
            {**link.as_dict(), "other": others[link.src_id].as_dict()}
            for link in links
            if link.dst_id == entity_id
        ],
        "evidence": [get_evidence(db, eid).as_dict() for eid in evidence_ids],
        "cases": [get_case(db, cid).as_dict() for cid in entity_case_ids(db, entity_id)],
    }
