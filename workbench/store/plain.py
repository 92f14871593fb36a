"""Model objects as plain dicts for the views that return thousands of them at once.

`dataclasses.asdict` (what `Entity.as_dict` and `Link.as_dict` use) recurses into every
field and deep-copies every value: on a 5,000-entity case or a cross-case result of
10,000 shared rows it cost ten times the SQL those rows came from (docs/benchmarks.md).
These build the same dicts, same keys in the same order, without the copy. They are safe
where the object was just read for this one result: its `attrs` dict and id lists are
its own, decoded from the row, and the object is dropped afterwards.
"""

from __future__ import annotations

from typing import Any

from workbench.domain.model import Case, Entity, Link


def case_dict(case: Case) -> dict[str, Any]:
    return {
        "id": case.id,
        "title": case.title,
        "status": case.status,
        "investigator": case.investigator,
        "summary": case.summary,
        "created_at": case.created_at,
        "updated_at": case.updated_at,
        "archived_at": case.archived_at,
    }


def entity_dict(entity: Entity) -> dict[str, Any]:
    return {
        "id": entity.id,
        "kind": entity.kind,
        "key": entity.key,
        "value": entity.value,
        "attrs": entity.attrs,
        "created_at": entity.created_at,
        "updated_at": entity.updated_at,
    }


def link_dict(link: Link) -> dict[str, Any]:
    return {
        "id": link.id,
        "src_id": link.src_id,
        "type": link.type,
        "dst_id": link.dst_id,
        "label": link.label,
        "confidence": link.confidence,
        "created_at": link.created_at,
        "case_ids": link.case_ids,
        "evidence_ids": link.evidence_ids,
    }
