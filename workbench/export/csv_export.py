"""The case as CSV files, one per entity kind, plus links, events and evidence: for
spreadsheets and scripts.

Files are UTF-8 with a byte-order mark (so spreadsheet programs read Cyrillic right),
comma-separated, with a header row. Each entity file has the columns id, key, value, then
one column per attribute the kind's entities carry (lists joined with "; "), then the
exhibits and SHA-256 hashes of the evidence the entity rests on.

Text from servers under investigation must not run as a spreadsheet formula: a cell that
starts with =, +, -, @, a tab or a carriage return is prefixed with an apostrophe (the
OWASP advice), except a plain number or phone number such as +352 26 48 01 23.
"""

from __future__ import annotations

import csv
import io
import os
import re
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from workbench.domain.errors import InvalidInput
from workbench.export.casedata import CaseData, exhibit_list, format_attr, load_case
from workbench.export.files import write_atomically

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER_LIKE = re.compile(r"^[+-]?[\d][\d ().-]*$")


def safe_cell(value: Any) -> str:
    """A cell value that a spreadsheet shows as text, never evaluates."""
    text = "" if value is None else str(value)
    if text.startswith(_FORMULA_START) and not _NUMBER_LIKE.match(text):
        return "'" + text
    return text


def _csv_bytes(header: list[str], rows: list[list[Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([safe_cell(value) for value in row])
    return buffer.getvalue().encode("utf-8-sig")


def _evidence_columns(data: CaseData, evidence_ids: list[int]) -> list[str]:
    numbers = data.exhibits(evidence_ids)
    hashes = sorted(
        {data.evidence_by_id[e].sha256 for e in evidence_ids if e in data.evidence_by_id}
    )
    return [exhibit_list(numbers), " ".join(hashes)]


def case_tables(data: CaseData) -> dict[str, bytes]:
    """File name -> CSV bytes, for every table of the case."""
    files: dict[str, bytes] = {}
    for kind, entities in data.by_kind():
        names = sorted({name for entity in entities for name in entity.attrs})
        rows = [
            [entity.id, entity.key, entity.value]
            + [
                format_attr(name, entity.attrs[name]) if name in entity.attrs else ""
                for name in names
            ]
            + _evidence_columns(data, data.entity_evidence(entity.id))
            for entity in entities
        ]
        files[f"entities-{kind}.csv"] = _csv_bytes(
            ["id", "key", "value", *names, "exhibits", "evidence_sha256"], rows
        )
    by_id = data.entity_by_id
    files["links.csv"] = _csv_bytes(
        [
            "id",
            "from_id",
            "from_kind",
            "from_value",
            "type",
            "label",
            "to_id",
            "to_kind",
            "to_value",
            "confidence",
            "exhibits",
            "evidence_sha256",
        ],
        [
            [
                link.id,
                link.src_id,
                by_id[link.src_id].kind,
                by_id[link.src_id].value,
                link.type,
                link.label,
                link.dst_id,
                by_id[link.dst_id].kind,
                by_id[link.dst_id].value,
                link.confidence,
                *_evidence_columns(data, link.evidence_ids),
            ]
            for link in data.links
        ],
    )
    files["events.csv"] = _csv_bytes(
        ["id", "at", "kind", "text", "deadline", "outcome", "entity_ids", "entities"],
        [
            [
                event.id,
                event.at,
                event.kind,
                event.text,
                event.deadline or "",
                event.outcome or "",
                " ".join(str(i) for i in event.entity_ids),
                "; ".join(by_id[i].value for i in event.entity_ids if i in by_id),
            ]
            for event in data.events
        ],
    )
    files["evidence.csv"] = _csv_bytes(
        [
            "exhibit",
            "id",
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
        ],
        [
            [
                f"E{data.exhibit_of[item.id]}",
                item.id,
                item.kind,
                item.sha256,
                item.size,
                item.media_type,
                item.captured_at,
                item.recorded_at,
                item.source or "",
                item.query or "",
                item.filename or "",
                "yes" if item.imported else "no",
                item.note or "",
            ]
            for item in data.evidence
        ],
    )
    return files


def export_csv(db: Database, case_id: int, folder: str | os.PathLike) -> dict[str, Any]:
    """Write the case's CSV files into `folder` (created if its parent exists)."""
    target = Path(folder)
    if target.exists() and not target.is_dir():
        raise InvalidInput("--csv", str(target), "is a file, not a folder")
    try:
        target.mkdir(exist_ok=True)
    except OSError as exc:
        raise InvalidInput("--csv", str(target), f"cannot be created ({exc.strerror})") from None
    files = case_tables(load_case(db, case_id, with_related=False))
    for name, payload in files.items():
        write_atomically(target / name, payload)
    return {"path": str(target), "files": sorted(files)}
