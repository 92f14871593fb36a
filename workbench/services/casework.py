"""Everyday case work: cases, entities, links, events and evidence files."""

from __future__ import annotations

import mimetypes
import stat
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from workbench.domain.errors import InvalidInput
from workbench.domain.file_types import check_claimed_type
from workbench.domain.kinds import EvidenceKind, parse_enum
from workbench.domain.model import Case, Entity, Event, Evidence, Link
from workbench.store import cases, entities, events, evidence, links
from workbench.store.database import writing
from workbench.store.evidence import MAX_EVIDENCE_BYTES


def new_case(
    db: Database, title: str, *, investigator: str | None = None, summary: str | None = None
) -> Case:
    with writing(db):
        return cases.create_case(db, title, investigator=investigator, summary=summary)


def update_case(db: Database, case_id: int, **changes: str | None) -> Case:
    with writing(db):
        return cases.update_case(db, case_id, **changes)


def archive_case(db: Database, case_id: int, archived: bool = True) -> Case:
    with writing(db):
        return cases.set_archived(db, case_id, archived)


def add_entity(
    db: Database, case_id: int, kind: str, value: str, attrs: Mapping[str, Any] | None = None
) -> Entity:
    with writing(db):
        return entities.ensure_entity(db, kind, value, attrs, case_id=case_id)


def add_link(
    db: Database,
    case_id: int,
    src_id: int,
    link_type: str,
    dst_id: int,
    *,
    evidence_ids: Iterable[int] = (),
    confidence: float = 1.0,
) -> Link:
    with writing(db):
        return links.ensure_link(
            db,
            src_id,
            link_type,
            dst_id,
            case_id=case_id,
            evidence_ids=evidence_ids,
            confidence=confidence,
        )


def add_event(
    db: Database,
    case_id: int,
    kind: str,
    text: str,
    *,
    at: datetime | None = None,
    deadline: datetime | None = None,
    outcome: str | None = None,
    entity_ids: Iterable[int] = (),
) -> Event:
    with writing(db):
        return events.add_event(
            db,
            case_id,
            kind,
            text,
            at=at,
            deadline=deadline,
            outcome=outcome,
            entity_ids=entity_ids,
        )


def add_evidence_bytes(
    db: Database,
    case_id: int,
    kind: str,
    content: bytes,
    *,
    filename: str | None = None,
    media_type: str | None = None,
    captured_at: datetime | None = None,
    source: str | None = None,
    note: str | None = None,
) -> Evidence:
    """Hash and store material the investigator brings (a page capture, an email, a note).

    A `captured_at` given by the user is a claim, so the item is marked imported.
    """
    parse_enum(EvidenceKind, "evidence kind", kind)
    if media_type is None:
        guessed = mimetypes.guess_type(filename)[0] if filename else None
        media_type = guessed or (
            "text/plain" if _looks_like_text(content) else "application/octet-stream"
        )
    with writing(db):
        return evidence.add_evidence(
            db,
            kind,
            content,
            captured_at=captured_at,
            source=source,
            media_type=media_type,
            filename=filename,
            imported=captured_at is not None,
            note=note,
            case_id=case_id,
        )


def add_evidence_file(
    db: Database, case_id: int, kind: str, path: Path, **options: Any
) -> Evidence:
    content = read_evidence_file(path)
    return add_evidence_bytes(db, case_id, kind, content, filename=path.name, **options)


def read_evidence_file(path: Path, field: str = "file") -> bytes:
    """The bytes of a file the investigator attaches, refused by name (InvalidInput) when
    it cannot be evidence: missing, a directory, a device, pipe or socket (`/dev/zero`
    would be read forever), empty, over the size cap, unreadable, or not what its name
    says it is (`file_types.check_claimed_type`). Read at most the cap plus one byte."""
    name = str(path)
    try:
        info = path.stat()
    except FileNotFoundError:
        raise InvalidInput(field, name, "does not exist") from None
    except OSError as exc:
        raise InvalidInput(field, name, f"cannot be read ({exc.strerror})") from None
    if stat.S_ISDIR(info.st_mode):
        raise InvalidInput(field, name, "is a directory")
    if not stat.S_ISREG(info.st_mode):
        raise InvalidInput(field, name, "is not a regular file (a device, pipe or socket)")
    if info.st_size == 0:
        raise InvalidInput(field, name, "is empty")
    if info.st_size > MAX_EVIDENCE_BYTES:
        raise InvalidInput(field, name, f"is larger than {MAX_EVIDENCE_BYTES // 2**20} MiB")
    try:
        with path.open("rb") as handle:
            content = handle.read(MAX_EVIDENCE_BYTES + 1)
    except FileNotFoundError:
        raise InvalidInput(field, name, "does not exist") from None
    except IsADirectoryError:
        raise InvalidInput(field, name, "is a directory") from None
    except OSError as exc:
        raise InvalidInput(field, name, f"cannot be read ({exc.strerror})") from None
    if not content:
        raise InvalidInput(field, name, "is empty")
    if len(content) > MAX_EVIDENCE_BYTES:
        raise InvalidInput(field, name, f"is larger than {MAX_EVIDENCE_BYTES // 2**20} MiB")
    check_claimed_type(path.name, content, field)
    return content


def _looks_like_text(content: bytes) -> bool:
    if b"\x00" in content[:8192]:
        return False
    try:
        content[:8192].decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start > 8180  # a multi-byte character cut at the sample's end
    return True
