"""The case as one JSON document, in the stable schema described in docs/export-json.md.

The same document (without evidence content) is `case.json` inside a sealed bundle, and
`bundle.import_bundle` reads it back, so what this writes is what an import understands.
Keys are only ever added within a schema version; renaming or removing one is a new
`schema_version`.
"""

from __future__ import annotations

import base64
import json
import os
from typing import Any

from sqlite_utils import Database

from workbench import __version__
from workbench.export.casedata import CaseData, evidence_content, load_case
from workbench.export.files import write_atomically

SCHEMA = "workbench.case-export"
SCHEMA_VERSION = 1

# The keys each record carries, in the order they are written (docs/export-json.md).
TOP_KEYS = (
    "schema",
    "schema_version",
    "generator",
    "generated_at",
    "origin",
    "case",
    "entities",
    "links",
    "events",
    "evidence",
    "snapshots",
    "related_cases",
)
CASE_KEYS = (
    "id",
    "title",
    "status",
    "investigator",
    "summary",
    "created_at",
    "updated_at",
    "archived_at",
)
ENTITY_KEYS = ("id", "kind", "key", "value", "attrs", "created_at", "updated_at", "evidence_ids")
LINK_KEYS = (
    "id",
    "src_id",
    "type",
    "label",
    "dst_id",
    "confidence",
    "created_at",
    "evidence_ids",
)
EVENT_KEYS = ("id", "at", "kind", "text", "deadline", "outcome", "created_at", "entity_ids")
EVIDENCE_KEYS = (
    "id",
    "exhibit",
    "kind",
    "sha256",
    "size",
    "media_type",
    "captured_at",
    "recorded_at",
    "source",
    "query",
    "filename",
    "imported",
    "note",
)
SNAPSHOT_KEYS = (
    "id",
    "entity_id",
    "protocol",
    "status",
    "reason",
    "taken_at",
    "imported",
    "summary",
    "evidence_ids",
)


def _pick(data: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    return {key: data.get(key) for key in keys}


def case_document(data: CaseData, *, contents: dict[int, bytes] | None = None) -> dict[str, Any]:
    """The export document for a loaded case. With `contents` (evidence id -> bytes),
    each evidence record also carries its content: `content_text` when it is UTF-8
    text, else `content_base64`."""
    evidence = []
    for item in data.evidence:
        record = _pick(item.as_dict(), EVIDENCE_KEYS)
        record["exhibit"] = data.exhibit_of[item.id]
        if contents is not None:
            raw = contents[item.id]
            try:
                record["content_text"] = raw.decode("utf-8")
            except UnicodeDecodeError:
                record["content_base64"] = base64.b64encode(raw).decode("ascii")
        evidence.append(record)
    related = []
    for item in data.related:
        shared = []
        for share in item["shared"]:
            if share["via"] == "entity":
                shared.append(
                    {
                        "via": "entity",
                        "entity_id": share["entity"]["id"],
                        "kind": share["entity"]["kind"],
                        "value": share["entity"]["value"],
                        "cases_sharing": share["cases_sharing"],
                    }
                )
            else:
                shared.append(
                    {
                        "via": "value",
                        "name": share["name"],
                        "value": share["value"],
                        "entity_id": share["entity"]["id"],
                        "other_kind": share["other_entity"]["kind"],
                        "other_value": share["other_entity"]["value"],
                    }
                )
        other = item["case"]
        related.append(
            {
                "case": {"id": other["id"], "title": other["title"], "status": other["status"]},
                "score": item["score"],
                "shared": shared,
            }
        )
    document = {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "generator": f"workbench {__version__}",
        "generated_at": data.generated_at,
        "origin": dict(data.origin),
        "case": _pick(data.case.as_dict(), CASE_KEYS),
        "entities": [
            {**_pick(e.as_dict(), ENTITY_KEYS), "evidence_ids": data.entity_evidence(e.id)}
            for e in data.entities
        ],
        "links": [_pick(link.as_dict(), LINK_KEYS) for link in data.links],
        "events": [_pick(event.as_dict(), EVENT_KEYS) for event in data.events],
        "evidence": evidence,
        "snapshots": [_pick(s, SNAPSHOT_KEYS) for s in data.snapshots],
        "related_cases": related,
    }
    return {key: document[key] for key in TOP_KEYS}


def dumps(document: dict[str, Any]) -> str:
    """The document as text: UTF-8, indented, keys in schema order (stable diffs)."""
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def export_json(
    db: Database, case_id: int, path: str | os.PathLike, *, with_content: bool = True
) -> dict[str, Any]:
    """Write the case to `path` as JSON; returns a summary of what was written.

    With `with_content` (the default) every evidence item's content is included, so the
    file alone holds the whole case.
    """
    data = load_case(db, case_id)
    contents = (
        {item.id: evidence_content(db, item.id) for item in data.evidence} if with_content else None
    )
    text = dumps(case_document(data, contents=contents))
    target = write_atomically(path, text.encode("utf-8"))
    return {
        "path": str(target),
        "bytes": target.stat().st_size,
        "entities": len(data.entities),
        "links": len(data.links),
        "events": len(data.events),
        "evidence": len(data.evidence),
    }
