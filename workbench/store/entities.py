"""Entities: one row per real-world thing per store, found again by kind and key.

`ensure_entity` is the only way in: it normalises the value, merges attributes into an
existing entity of the same identity, and adds the entity to a case.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from typing import Any

from sqlite_utils import Database

from workbench.domain.attributes import validate_attributes
from workbench.domain.errors import NotFound
from workbench.domain.identity import Identity, identify
from workbench.domain.kinds import EntityKind, parse_enum
from workbench.domain.model import Entity
from workbench.domain.pivot_values import pivot_values
from workbench.domain.times import to_iso, utc_now
from workbench.store import audit
from workbench.store.cases import require_case, touch_case
from workbench.store.database import known_in_transaction

_COLUMNS = "id, kind, key, value, attrs, created_at, updated_at"


def _attrs_json(attrs: dict[str, Any]) -> str:
    # Not ASCII-escaped: the FTS index reads this text, and "\u0420..." is not "Роспатент".
    return json.dumps(attrs, sort_keys=True, ensure_ascii=False)


def _entity(row) -> Entity:
    return Entity(row[0], row[1], row[2], row[3], json.loads(row[4]), row[5], row[6])


def get_entity(db: Database, entity_id: int) -> Entity:
    row = db.execute(f"SELECT {_COLUMNS} FROM entities WHERE id = ?", [entity_id]).fetchone()
    if row is None:
        raise NotFound("entity", entity_id)
    return _entity(row)


def require_entity(db: Database, entity_id: int) -> None:
    """Raise NotFound unless the entity exists (asked once per transaction: entities are
    never deleted)."""
    known = known_in_transaction(db, _KNOWN)
    if entity_id in known:
        return
    if db.execute("SELECT 1 FROM entities WHERE id = ?", [entity_id]).fetchone() is None:
        raise NotFound("entity", entity_id)
    known.add(entity_id)


_KNOWN = "entities"  # transaction memo: entity ids known to exist


def get_entities(db: Database, entity_ids: list[int]) -> dict[int, Entity]:
    found: dict[int, Entity] = {}
    for start in range(0, len(entity_ids), 500):
        chunk = entity_ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        for row in db.execute(f"SELECT {_COLUMNS} FROM entities WHERE id IN ({marks})", chunk):
            found[row[0]] = _entity(row)
    return found


def find_entity(
    db: Database, kind: EntityKind | str, value: str, attrs: Mapping[str, Any] | None = None
) -> Entity | None:
    """The entity `value` would deduplicate to, if the store has it."""
    kind = parse_enum(EntityKind, "kind", str(kind))
    identity = identity_of(kind, value, attrs)
    row = db.execute(
        f"SELECT {_COLUMNS} FROM entities WHERE kind = ? AND key = ?", [kind.value, identity.key]
    ).fetchone()
    return _entity(row) if row else None


def identity_of(kind: EntityKind, value: str, attrs: Mapping[str, Any] | None = None) -> Identity:
    """`identify`, remembered for values seen recently: normalising a host name (IDNA,
    Public Suffix List) costs more than storing it, and a bulk run meets the same
    registrars, nameservers and abuse addresses thousands of times. `identify` is a pure
    function of its arguments, so the cache is keyed on all of them."""
    attrs = attrs or {}
    try:
        return _identify_cached(kind, value, tuple(sorted(attrs.items())))
    except TypeError:  # an attribute value that cannot be a cache key (a list)
        return identify(kind, value, attrs)


@functools.lru_cache(maxsize=4096)
def _identify_cached(kind: EntityKind, value: str, attrs: tuple[tuple[str, Any], ...]) -> Identity:
    return identify(kind, value, dict(attrs))


def ensure_entity(
    db: Database,
    kind: EntityKind | str,
    value: str,
    attrs: Mapping[str, Any] | None = None,
    *,
    case_id: int | None = None,
) -> Entity:
    """The entity for `value`, created if new; `attrs` are merged into what it had.

    A later value for an attribute replaces the earlier one (the audit log keeps both).
    Raises InvalidInput (or RedactedValue) before anything is written.
    """
    kind = parse_enum(EntityKind, "kind", str(kind))
    clean = validate_attributes(kind, attrs or {})
    identity = identity_of(kind, value, clean)
    if case_id is not None:
        require_case(db, case_id)
    now = to_iso(utc_now())
    row = db.execute(
        f"SELECT {_COLUMNS} FROM entities WHERE kind = ? AND key = ?", [kind.value, identity.key]
    ).fetchone()
    if row is None:
        attrs_json = _attrs_json(clean)
        cursor = db.execute(
            "INSERT INTO entities (kind, key, value, attrs, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [kind.value, identity.key, identity.display, attrs_json, now, now],
        )
        # Built from what was written rather than read back: one query less per entity.
        entity = Entity(
            cursor.lastrowid,
            kind.value,
            identity.key,
            identity.display,
            json.loads(attrs_json),
            now,
            now,
        )
        audit.record(
            db,
            "entity.create",
            "entity",
            entity.id,
            {"kind": entity.kind, "key": entity.key, "value": entity.value, "attrs": entity.attrs},
        )
        _index_values(db, entity, before={})
    else:
        entity = _entity(row)
        merged = {**entity.attrs, **clean}
        if merged != entity.attrs:
            merged_json = _attrs_json(merged)
            db.execute(
                "UPDATE entities SET attrs = ?, updated_at = ? WHERE id = ?",
                [merged_json, now, entity.id],
            )
            changed = {k: v for k, v in clean.items() if entity.attrs.get(k) != v}
            audit.record(db, "entity.update", "entity", entity.id, {"attrs": changed})
            before = entity.attrs
            entity = Entity(
                entity.id,
                entity.kind,
                entity.key,
                entity.value,
                json.loads(merged_json),
                entity.created_at,
                now,
            )
            _index_values(db, entity, before=before)
    known_in_transaction(db, _KNOWN).add(entity.id)
    if case_id is not None:
        add_to_case(db, case_id, entity.id)
    return entity


def _index_values(db: Database, entity: Entity, *, before: Mapping[str, Any]) -> None:
    """Re-index the entity's pivot values (see domain.pivot_values) when they changed
    from those of the `before` attributes."""
    values = pivot_values(entity.attrs)
    if values == pivot_values(before):
        return
    db.execute("DELETE FROM entity_values WHERE entity_id = ?", [entity.id])
    db.conn.executemany(
        "INSERT OR IGNORE INTO entity_values (name, value, entity_id) VALUES (?, ?, ?)",
        [(name, value, entity.id) for name, value in sorted(values)],
    )


def add_to_case(db: Database, case_id: int, entity_id: int) -> bool:
    """Put an entity in a case; False if it was there already."""
    # A transaction remembers the pairs it has seen (nothing removes an entity from a
    # case): a bulk run would otherwise add its hub entities to the case once per link.
    in_case = known_in_transaction(db, "case_entities")
    if (case_id, entity_id) in in_case:
        return False
    cursor = db.execute(
        "INSERT OR IGNORE INTO case_entities (case_id, entity_id, added_at) VALUES (?, ?, ?)",
        [case_id, entity_id, to_iso(utc_now())],
    )
    in_case.add((case_id, entity_id))
    if cursor.rowcount:
        audit.record(db, "case.add_entity", "case", case_id, {"entity_id": entity_id})
        touch_case(db, case_id)
        return True
    return False


def case_entities(db: Database, case_id: int, kind: str | None = None) -> list[Entity]:
    sql = (
        f"SELECT {', '.join('e.' + c.strip() for c in _COLUMNS.split(','))} "
        "FROM case_entities ce JOIN entities e ON e.id = ce.entity_id WHERE ce.case_id = ?"
    )
    params: list[Any] = [case_id]
    if kind:
        sql += " AND e.kind = ?"
        params.append(kind)
    return [_entity(row) for row in db.execute(sql + " ORDER BY e.kind, e.value", params)]


def entity_case_ids(db: Database, entity_id: int) -> list[int]:
    return [
        row[0]
        for row in db.execute(
            "SELECT case_id FROM case_entities WHERE entity_id = ? ORDER BY case_id", [entity_id]
        )
    ]
