"""Evidence: raw material stored exactly as received, hashed, timed, and never changed.

The table refuses UPDATE and DELETE (triggers); `add_evidence` is idempotent, so the same
capture imported twice is one item.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime

from sqlite_utils import Database

from workbench.domain.errors import InvalidInput, NotFound
from workbench.domain.kinds import EvidenceKind, parse_enum
from workbench.domain.model import Evidence
from workbench.domain.times import to_iso, utc_now
from workbench.store import audit
from workbench.store.cases import require_case, touch_case
from workbench.store.database import known_in_transaction

MAX_EVIDENCE_BYTES = 256 * 1024 * 1024
_SURROGATES = re.compile("[\ud800-\udfff]")  # what no UTF-8 column can hold
MAX_SEARCH_TEXT = 1024 * 1024  # what of an item is indexed for full-text search
_META = (
    "id, kind, sha256, size, media_type, captured_at, recorded_at, source, query, "
    "filename, imported, note"
)
_TEXT_TYPES = (
    "text/",
    "application/json",
    "application/rdap+json",
    "message/rfc822",
    "application/xml",
)


def _evidence(row, content: bytes | None = None) -> Evidence:
    values = list(row)
    values[10] = bool(values[10])
    return Evidence(*values, content=content)


def sha256_hex(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def searchable_text(content: bytes, media_type: str) -> str | None:
    """The part of an item full-text search reads: text types only, decoded leniently."""
    if not media_type.startswith(_TEXT_TYPES):
        return None
    return content[:MAX_SEARCH_TEXT].decode("utf-8", errors="replace")


def add_evidence(
    db: Database,
    kind: EvidenceKind | str,
    content: bytes,
    *,
    captured_at: datetime | None = None,
    source: str | None = None,
    query: str | None = None,
    media_type: str = "text/plain",
    filename: str | None = None,
    imported: bool = False,
    note: str | None = None,
    text: str | None = None,
    case_id: int | None = None,
) -> Evidence:
    """Store `content` as evidence (or find the identical item already stored).

    `captured_at` is when it was received (now, if not given); `imported` says that time
    is claimed by the supplier. `text` overrides what full-text search indexes (for
    binary formats such as DNS messages that have a readable rendering).
    """
    kind = parse_enum(EvidenceKind, "evidence kind", str(kind))
    if not isinstance(content, bytes | bytearray | memoryview):
        raise InvalidInput("evidence", type(content).__name__, "must be bytes")
    content = bytes(content)
    if len(content) > MAX_EVIDENCE_BYTES:
        raise InvalidInput(
            "evidence", f"{len(content)} bytes", f"is larger than {MAX_EVIDENCE_BYTES // 2**20} MiB"
        )
    for field, value in (("source", source), ("query", query), ("note", note)):
        if value is not None and _SURROGATES.search(value):
            raise InvalidInput(field, value, "contains invalid Unicode (lone surrogates)")
    if filename is not None and _SURROGATES.search(filename):
        # A file name that is not UTF-8 on disk: kept readable, the content is what counts.
        filename = filename.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    if case_id is not None:
        require_case(db, case_id)
    digest = sha256_hex(content)
    captured = to_iso(captured_at or utc_now())
    row = db.execute(
        f"SELECT {_META} FROM evidence WHERE sha256 = ? AND captured_at = ? "
        "AND ifnull(source, '') = ifnull(?, '') AND ifnull(query, '') = ifnull(?, '')",
        [digest, captured, source, query],
    ).fetchone()
    if row is None:
        recorded = to_iso(utc_now())
        search_text = text if text is not None else searchable_text(content, media_type)
        cursor = db.execute(
            "INSERT INTO evidence (kind, sha256, size, media_type, content, captured_at, "
            "recorded_at, source, query, filename, imported, note, text) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                kind.value,
                digest,
                len(content),
                media_type,
                content,
                captured,
                recorded,
                source,
                query,
                filename,
                int(imported),
                note,
                search_text,
            ],
        )
        # Built from what was written rather than read back: one query less per item.
        item = Evidence(
            cursor.lastrowid,
            kind.value,
            digest,
            len(content),
            media_type,
            captured,
            recorded,
            source,
            query,
            filename,
            bool(imported),
            note,
        )
        audit.record(db, "evidence.create", "evidence", item.id, _audit_payload(item, search_text))
    else:
        item = _evidence(row)
    known_in_transaction(db, _KNOWN).add(item.id)
    if case_id is not None:
        attach_to_case(db, case_id, item.id)
    return item


def _audit_payload(item: Evidence, search_text: str | None) -> dict:
    """Every column of the row, so that `verify` can tell any of them changed: the content
    by its SHA-256, the text search reads by its own."""
    return {
        "kind": item.kind,
        "sha256": item.sha256,
        "size": item.size,
        "captured_at": item.captured_at,
        "source": item.source,
        "query": item.query,
        "imported": item.imported,
        "media_type": item.media_type,
        "recorded_at": item.recorded_at,
        "filename": item.filename,
        "note": item.note,
        "text_sha256": text_sha256(search_text),
    }


def text_sha256(text: object) -> str | None:
    """The SHA-256 of an item's search text as stored (None when it has none). Whatever
    the column holds is hashed, so that `verify` can compare a value rewritten as bytes
    or a number behind the app's back instead of failing on it."""
    if text is None:
        return None
    data = text if isinstance(text, bytes) else str(text).encode("utf-8", "surrogatepass")
    digest = hashlib.sha256(data).hexdigest()
    return digest if isinstance(text, str) else f"{type(text).__name__}:{digest}"


# Facts a transaction remembers once checked (see database.transaction_memo); sound here
# because evidence rows and their attachments to cases are never deleted.
_KNOWN = "evidence"  # evidence ids known to exist
_ATTACHED = "case_evidence"  # (case id, evidence id) pairs known to be attached


def require_evidence(db: Database, evidence_id: int) -> None:
    """Raise NotFound unless the evidence item exists (asked once per transaction)."""
    known = known_in_transaction(db, _KNOWN)
    if evidence_id in known:
        return
    if db.execute("SELECT 1 FROM evidence WHERE id = ?", [evidence_id]).fetchone() is None:
        raise NotFound("evidence", evidence_id)
    known.add(evidence_id)


def attach_to_case(db: Database, case_id: int, evidence_id: int) -> bool:
    attached = known_in_transaction(db, _ATTACHED)
    if (case_id, evidence_id) in attached:
        return False
    cursor = db.execute(
        "INSERT OR IGNORE INTO case_evidence (case_id, evidence_id, added_at) VALUES (?, ?, ?)",
        [case_id, evidence_id, to_iso(utc_now())],
    )
    attached.add((case_id, evidence_id))
    if cursor.rowcount:
        audit.record(db, "case.add_evidence", "case", case_id, {"evidence_id": evidence_id})
        touch_case(db, case_id)
        return True
    return False


def get_evidence(db: Database, evidence_id: int, *, with_content: bool = False) -> Evidence:
    row = db.execute(f"SELECT {_META} FROM evidence WHERE id = ?", [evidence_id]).fetchone()
    if row is None:
        raise NotFound("evidence", evidence_id)
    content = None
    if with_content:
        content = db.execute("SELECT content FROM evidence WHERE id = ?", [evidence_id]).fetchone()[
            0
        ]
    return _evidence(row, content)


def case_evidence(db: Database, case_id: int) -> list[Evidence]:
    meta = ", ".join("e." + c.strip() for c in _META.split(","))
    rows = db.execute(
        f"SELECT {meta} FROM case_evidence ce JOIN evidence e ON e.id = ce.evidence_id "
        "WHERE ce.case_id = ? ORDER BY e.captured_at, e.id",
        [case_id],
    )
    return [_evidence(row) for row in rows]
