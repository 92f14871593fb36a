"""Events on a case's timeline: observations, contact attempts, notices with deadlines."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlite_utils import Database

from workbench.domain.errors import InvalidInput, NotFound
from workbench.domain.kinds import EventKind, parse_enum
from workbench.domain.model import Event
from workbench.domain.normalise import clean_text
from workbench.domain.times import to_iso, utc_now
from workbench.store import audit
from workbench.store.cases import get_case, touch_case
from workbench.store.entities import add_to_case, get_entity

_COLUMNS = "id, case_id, at, kind, text, deadline, outcome, created_at"


def _with_entities(db: Database, event: Event) -> Event:
    event.entity_ids = [
        r[0]
        for r in db.execute(
            "SELECT entity_id FROM event_entities WHERE event_id = ? ORDER BY entity_id", [event.id]
        )
    ]
    return event


def add_event(
    db: Database,
    case_id: int,
    kind: EventKind | str,
    text: str,
    *,
    at: datetime | None = None,
    deadline: datetime | None = None,
    outcome: str | None = None,
    entity_ids: Iterable[int] = (),
) -> Event:
    kind = parse_enum(EventKind, "event kind", str(kind))
    text = clean_text(text, "text")
    if not text:
        raise InvalidInput("text", text, "is empty")
    outcome = clean_text(outcome, "outcome") or None if outcome else None
    get_case(db, case_id)
    entity_ids = list(dict.fromkeys(entity_ids))
    for entity_id in entity_ids:
        get_entity(db, entity_id)
    at_text = to_iso(at or utc_now())
    deadline_text = to_iso(deadline) if deadline else None
    if deadline_text and deadline_text < at_text:
        raise InvalidInput("deadline", deadline_text, f"is before the event ({at_text})")
    cursor = db.execute(
        "INSERT INTO events (case_id, at, kind, text, deadline, outcome, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        [case_id, at_text, kind.value, text, deadline_text, outcome, to_iso(utc_now())],
    )
    event_id = cursor.lastrowid
    for entity_id in entity_ids:
        db.execute(
            "INSERT INTO event_entities (event_id, entity_id) VALUES (?, ?)", [event_id, entity_id]
        )
        # An event names entities of its own case: one from another case joins this one.
        add_to_case(db, case_id, entity_id)
    event = get_event(db, event_id)
    audit.record(db, "event.create", "event", event_id, event.as_dict())
    touch_case(db, case_id)
    return event


def get_event(db: Database, event_id: int) -> Event:
    row = db.execute(f"SELECT {_COLUMNS} FROM events WHERE id = ?", [event_id]).fetchone()
    if row is None:
        raise NotFound("event", event_id)
    return _with_entities(db, Event(*row))


def case_events(db: Database, case_id: int) -> list[Event]:
    rows = db.execute(
        f"SELECT {_COLUMNS} FROM events WHERE case_id = ? ORDER BY at, id", [case_id]
    ).fetchall()
    return [_with_entities(db, Event(*row)) for row in rows]
