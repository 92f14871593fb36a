# SQL here is composed only from module constants and "?" placeholders; every value is
# a bound parameter.
# ruff: noqa: S608
"""Read-only queries the desktop app needs and the store does not offer as such: pages of a
case's entities and timeline (for lazily filled tables), the status rows of a lookup run,
a case's graph, evidence as readable text, and one evidence item verified.

Plain functions over the store's tables, no Qt: the UI calls them from whichever thread
owns the connection it passes (small pages on the main thread, the rest off it).
"""

from __future__ import annotations

import hashlib
import json
import math
import string
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from workbench.domain.kinds import EntityKind
from workbench.domain.model import Entity, Evidence
from workbench.domain.times import to_iso, utc_now
from workbench.store.entities import get_entities
from workbench.store.evidence import get_evidence
from workbench.store.snapshots import entity_snapshots

_ENTITY_COLUMNS = "e.id, e.kind, e.key, e.value, e.attrs, e.created_at, e.updated_at"
MAX_SHOWN_BYTES = 4 * 1024 * 1024  # beyond this the viewer shows the start and says so
_TEXT_MEDIA = ("text/", "application/json", "application/rdap+json", "message/", "application/xml")


def _entity(row) -> Entity:
    return Entity(row[0], row[1], row[2], row[3], json.loads(row[4]), row[5], row[6])


# --- entities -------------------------------------------------------------------------


def kind_counts(db: Database, case_id: int) -> dict[str, int]:
    """How many entities of each kind a case holds, kinds in the vocabulary's order."""
    rows = db.execute(
        "SELECT e.kind, count(*) FROM case_entities ce JOIN entities e ON e.id = ce.entity_id "
        "WHERE ce.case_id = ? GROUP BY e.kind",
        [case_id],
    ).fetchall()
    found = dict(rows)
    order = [kind.value for kind in EntityKind]
    return {
        kind: found[kind]
        for kind in sorted(
            found, key=lambda k: (k not in order, order.index(k) if k in order else 0, k)
        )
    }


def count_case_entities(db: Database, case_id: int, kind: str | None = None) -> int:
    sql = "SELECT count(*) FROM case_entities ce"
    params: list[Any] = [case_id]
    if kind:
        sql += " JOIN entities e ON e.id = ce.entity_id WHERE ce.case_id = ? AND e.kind = ?"
        params.append(kind)
    else:
        sql += " WHERE ce.case_id = ?"
    return db.execute(sql, params).fetchone()[0]


def entity_page(
    db: Database, case_id: int, kind: str | None = None, *, after_id: int = 0, limit: int = 200
) -> list[Entity]:
    """The next `limit` entities of a case (of one kind, or all) with ids above `after_id`.

    Keyset paging on the entity id: each page costs the same however deep it is, and an
    entity added during a lookup run appears on the next page rather than shifting rows.
    """
    sql = (
        f"SELECT {_ENTITY_COLUMNS} FROM case_entities ce JOIN entities e ON e.id = ce.entity_id "
        "WHERE ce.case_id = ? AND ce.entity_id > ?"
    )
    params: list[Any] = [case_id, after_id]
    if kind:
        sql += " AND e.kind = ?"
        params.append(kind)
    sql += " ORDER BY ce.entity_id LIMIT ?"
    params.append(limit)
    return [_entity(row) for row in db.execute(sql, params)]


# How the entity table can be ordered: a column's SQL key (the id breaks ties, so every
# row has one place and keyset paging never skips or repeats a row).
ENTITY_ORDERS: dict[str, str] = {
    "id": "ce.entity_id",  # not e.id: the case's primary key gives this order unsorted
    "name": "e.value COLLATE NOCASE",
    "kind": "e.kind",
    "details": "e.attrs",  # the attributes as stored (keys in name order), as the summary
    "updated": "e.updated_at",
}


@dataclass(frozen=True)
class EntityQuery:
    """Which of a case's entities a table shows, and in which order.

    `kind`: one kind or None for all; `order`: a key of ENTITY_ORDERS; `text`: only
    entities whose name, kind or attributes contain it (case-insensitive for ASCII)."""

    case_id: int
    kind: str | None = None
    order: str = "id"
    descending: bool = False
    text: str = ""

    def __post_init__(self) -> None:
        if self.order not in ENTITY_ORDERS:
            raise ValueError(f"cannot order entities by {self.order!r}: {sorted(ENTITY_ORDERS)}")


Cursor = tuple[Any, int]  # (sort key, entity id) of a row: where the next page starts


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _entity_filter(query: EntityQuery) -> tuple[str, list[Any]]:
    where = "ce.case_id = ?"
    params: list[Any] = [query.case_id]
    if query.kind:
        where += " AND e.kind = ?"
        params.append(query.kind)
    if query.text:
        where += (
            " AND (e.value LIKE ? ESCAPE '\\' OR e.kind LIKE ? ESCAPE '\\'"
            " OR e.attrs LIKE ? ESCAPE '\\')"
        )
        params += [_like(query.text)] * 3
    return where, params


def count_entities(db: Database, query: EntityQuery) -> int:
    """How many rows the entity table of `query` has (its order aside)."""
    if not query.kind and not query.text:
        return count_case_entities(db, query.case_id)
    where, params = _entity_filter(query)
    return db.execute(
        f"SELECT count(*) FROM case_entities ce JOIN entities e ON e.id = ce.entity_id "
        f"WHERE {where}",
        params,
    ).fetchone()[0]


def _walks_name_index(db: Database, query: EntityQuery, limit: int) -> bool:
    """Whether a page of `query` is read by walking the store's name index
    (`entities_by_name`, migration 0006) and keeping the case's rows, instead of sorting
    the case's rows: only in name order, without a filter, and for a case holding enough
    of the store.

    A page read by the walk costs about `limit` x (store / case) index steps, one by the
    sort the size of the case: the walk is cheaper once the case holds more than
    sqrt(limit x store) entities (14,000 of a million for a page of 200; a typical case
    of ~1,000 is sorted, in 1-2 ms). The case is only counted up to that many."""
    if query.order != "name" or query.kind or query.text:
        return False
    if not db.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = 'entities_by_name'"
    ).fetchone():
        return False  # a store opened read-only before migration 0006
    store = db.execute("SELECT ifnull(max(id), 0) FROM entities").fetchone()[0]
    enough = math.isqrt(max(limit, 1) * store)
    return (
        db.execute(
            "SELECT 1 FROM case_entities WHERE case_id = ? LIMIT 1 OFFSET ?",
            [query.case_id, enough],
        ).fetchone()
        is not None
    )


def entity_rows_sql(
    db: Database,
    query: EntityQuery,
    *,
    after: Cursor | None = None,
    before: Cursor | None = None,
    offset: int = 0,
    limit: int = 200,
) -> tuple[str, list[Any]]:
    """The SQL and parameters `entity_rows` reads a page with (see there); each row is
    the sort key then the entity's columns. Not for the order added's deep jumps, which
    `entity_rows` reads in two steps."""
    key = ENTITY_ORDERS[query.order]
    where, params = _entity_filter(query)
    backwards = before is not None
    ahead = ">" if query.descending == backwards else "<"
    if after is not None or before is not None:
        cursor = after if after is not None else before
        assert cursor is not None
        # The first term lets SQLite seek an index on the key (a row value alone makes
        # it scan from the start); the second places the page exactly.
        where += f" AND {key} {ahead}= ? AND ({key}, e.id) {ahead} (?, ?)"
        params += [cursor[0], cursor[0], cursor[1]]
    # The name index in the order of the page (ORDER BY exactly as the index), the case
    # probed for each entry; CROSS JOIN keeps SQLite from starting at the case instead.
    tables = (
        "entities e CROSS JOIN case_entities ce ON ce.entity_id = e.id"
        if _walks_name_index(db, query, limit)
        else "case_entities ce JOIN entities e ON e.id = ce.entity_id"
    )
    direction = "DESC" if query.descending != backwards else "ASC"
    sql = (
        f"SELECT {key}, {_ENTITY_COLUMNS} FROM {tables} WHERE {where} "
        f"ORDER BY {key} {direction}, e.id {direction} LIMIT ? OFFSET ?"
    )
    return sql, [*params, limit, offset if after is None and not backwards else 0]


def entity_rows(
    db: Database,
    query: EntityQuery,
    *,
    after: Cursor | None = None,
    before: Cursor | None = None,
    offset: int = 0,
    limit: int = 200,
) -> list[tuple[Cursor, Entity]]:
    """One page of the entity table of `query`, in its order, each row with its cursor.

    The page starts just after `after` (the next page: keyset, the same cost at any
    depth), ends just before `before` (the previous page), or starts at row `offset` (a
    jump: SQLite steps over the rows before it). Sorting is done here, over the whole
    table, never over the rows a view happens to hold; in name order a large case walks
    the name index instead (`_walks_name_index`)."""
    if (
        offset
        and after is None
        and before is None
        and query.order == "id"
        and not query.kind
        and not query.text
    ):
        # A jump in the order added: step over the rows in the case's own index alone,
        # then read just the page's entities (not every entity stepped over).
        rows = db.execute(
            f"SELECT ce.entity_id, {_ENTITY_COLUMNS} FROM (SELECT entity_id FROM case_entities "
            "WHERE case_id = ? ORDER BY entity_id"
            f"{' DESC' if query.descending else ''} LIMIT ? OFFSET ?) ce "
            f"JOIN entities e ON e.id = ce.entity_id "
            f"ORDER BY ce.entity_id{' DESC' if query.descending else ''}",
            [query.case_id, limit, offset],
        )
        return [((row[0], row[1]), _entity(row[1:])) for row in rows]
    sql, params = entity_rows_sql(db, query, after=after, before=before, offset=offset, limit=limit)
    page = [((row[0], row[1]), _entity(row[1:])) for row in db.execute(sql, params)]
    return page[::-1] if before is not None else page


def entity_position(db: Database, query: EntityQuery, entity_id: int) -> int | None:
    """The row of an entity in the entity table of `query`, or None when it is not in it
    (to select it without reading every row before it)."""
    key = ENTITY_ORDERS[query.order]
    where, params = _entity_filter(query)
    found = db.execute(
        f"SELECT {key} FROM case_entities ce JOIN entities e ON e.id = ce.entity_id "
        f"WHERE {where} AND e.id = ?",
        [*params, entity_id],
    ).fetchone()
    if found is None:
        return None
    before = "<" if not query.descending else ">"
    if _walks_name_index(db, query, 200):
        # The rows before it are a range of the name index: counted there, the case
        # probed per entry, instead of reading every entity of the case.
        tables = "entities e CROSS JOIN case_entities ce ON ce.entity_id = e.id"
        where += f" AND {key} {before}= ?"
        params.append(found[0])
    else:
        tables = "case_entities ce JOIN entities e ON e.id = ce.entity_id"
    return db.execute(
        f"SELECT count(*) FROM {tables} WHERE {where} AND ({key}, e.id) {before} (?, ?)",
        [*params, found[0], entity_id],
    ).fetchone()[0]


def case_domains(db: Database, case_id: int) -> list[str]:
    """The (ASCII) domains of a case, in the order they were added: what 'look up every
    domain of the case' asks about."""
    return [
        row[0]
        for row in db.execute(
            "SELECT e.key FROM case_entities ce JOIN entities e ON e.id = ce.entity_id "
            "WHERE ce.case_id = ? AND e.kind = 'domain' ORDER BY ce.entity_id",
            [case_id],
        )
    ]


def entities_of_kind(db: Database, kind: str, *, limit: int = 500) -> list[Entity]:
    """Entities of one kind across the store, by name (the collecting societies a form offers)."""
    rows = db.execute(
        f"SELECT {_ENTITY_COLUMNS} FROM entities e WHERE e.kind = ? ORDER BY e.value LIMIT ?",
        [kind, limit],
    )
    return [_entity(row) for row in rows]


def redacted_fields(db: Database, entity_id: int) -> list[dict[str, Any]]:
    """For a domain: each latest WHOIS/RDAP snapshot that reported redacted fields, with
    the fields and the evidence that holds the placeholders."""
    result = []
    latest: dict[str, dict[str, Any]] = {}
    for snapshot in entity_snapshots(db, entity_id):
        if snapshot["status"] == "ok":
            latest[snapshot["protocol"]] = snapshot
    for protocol, snapshot in sorted(latest.items()):
        fields = snapshot["summary"].get("redacted") or []
        if fields:
            result.append(
                {
                    "protocol": protocol,
                    "taken_at": snapshot["taken_at"],
                    "fields": list(fields),
                    "evidence_ids": snapshot["evidence_ids"],
                }
            )
    return result


# --- lookup runs ----------------------------------------------------------------------


def run_snapshot_rows(db: Database, run_id: int, *, after_id: int = 0) -> list[dict[str, Any]]:
    """The snapshots a run stored after snapshot `after_id`: one per lookup, with the
    subject's name and kind, oldest first (the live status rows of the lookup panel)."""
    rows = db.execute(
        "SELECT s.id, e.id, e.kind, e.value, s.protocol, s.status, s.reason, s.taken_at "
        "FROM snapshots s JOIN entities e ON e.id = s.entity_id "
        "WHERE s.run_id = ? AND s.id > ? ORDER BY s.id",
        [run_id, after_id],
    ).fetchall()
    keys = ("id", "entity_id", "kind", "subject", "protocol", "status", "reason", "taken_at")
    return [dict(zip(keys, row, strict=True)) for row in rows]


# --- timeline -------------------------------------------------------------------------

LOOKUP_KIND = "lookup"


def _timeline_union(case_id: int, kinds: list[str] | None) -> tuple[str, list[Any]]:
    """The events and lookups of a case as one UNION, with its parameters."""
    events = (
        "SELECT 'event' AS source, id, at, kind, text, deadline, outcome FROM events "
        "WHERE case_id = ?"
    )
    lookups = (
        "SELECT 'lookup' AS source, s.id, s.taken_at AS at, 'lookup' AS kind, "
        "upper(s.protocol) || ' of ' || e.value || ': ' || s.status "
        "|| ifnull(' (' || s.reason || ')', '') AS text, NULL AS deadline, NULL AS outcome "
        "FROM snapshots s JOIN entities e ON e.id = s.entity_id WHERE s.case_id = ?"
    )
    if kinds is None:
        return f"{events} UNION ALL {lookups}", [case_id, case_id]
    parts: list[str] = []
    params: list[Any] = []
    # A change a lookup found is an event of kind `lookup`: it belongs with the lookups.
    event_kinds = list(dict.fromkeys(kinds))
    if event_kinds:
        marks = ",".join("?" * len(event_kinds))
        parts.append(f"{events} AND kind IN ({marks})")
        params += [case_id, *event_kinds]
    if LOOKUP_KIND in kinds:
        parts.append(lookups)
        params.append(case_id)
    if not parts:
        return f"{events} AND 0", [case_id]
    return " UNION ALL ".join(parts), params


def timeline_page(
    db: Database,
    case_id: int,
    *,
    kinds: list[str] | None = None,
    offset: int = 0,
    limit: int = 200,
) -> list[dict[str, Any]]:
    """Events and lookups of a case in time order; `kinds` filters (None: everything,
    'lookup' stands for the lookups). Each row: source ('event' or 'lookup'), id, at,
    kind, text, deadline, outcome, overdue."""
    union, params = _timeline_union(case_id, kinds)
    rows = db.execute(
        f"SELECT * FROM ({union}) ORDER BY at, source, id LIMIT ? OFFSET ?",
        [*params, limit, offset],
    ).fetchall()
    now = to_iso(utc_now())
    keys = ("source", "id", "at", "kind", "text", "deadline", "outcome")
    result = []
    for row in rows:
        item = dict(zip(keys, row, strict=True))
        item["overdue"] = bool(item["deadline"] and item["deadline"] < now and not item["outcome"])
        result.append(item)
    return result


def timeline_count(db: Database, case_id: int, *, kinds: list[str] | None = None) -> int:
    union, params = _timeline_union(case_id, kinds)
    return db.execute(f"SELECT count(*) FROM ({union})", params).fetchone()[0]


def overdue_count(db: Database, case_id: int) -> int:
    return db.execute(
        "SELECT count(*) FROM events WHERE case_id = ? AND deadline IS NOT NULL "
        "AND deadline < ? AND (outcome IS NULL OR outcome = '')",
        [case_id, to_iso(utc_now())],
    ).fetchone()[0]


# --- evidence -------------------------------------------------------------------------


def evidence_text(db: Database, evidence_id: int) -> tuple[Evidence, str]:
    """An evidence item and its content as text for a plain-text viewer: text decoded
    (bad bytes shown as U+FFFD), DNS messages rendered like dig, anything else as a hex
    dump. Never interprets the content; never raises for odd bytes."""
    item = get_evidence(db, evidence_id, with_content=True)
    content = item.content or b""
    shown = content[:MAX_SHOWN_BYTES]
    if item.media_type == "application/dns-message":
        from workbench.lookups.dns_parse import render_dns_capture

        text = render_dns_capture(content)
    elif item.media_type.startswith(_TEXT_MEDIA) or _mostly_text(shown):
        text = shown.decode("utf-8", errors="replace")
    else:
        text = hex_dump(shown[:65536])
        if len(content) > 65536:
            text += f"\n… {len(content) - 65536:,} more bytes not shown"
        return item, text
    if len(content) > MAX_SHOWN_BYTES:
        text += f"\n… {len(content) - MAX_SHOWN_BYTES:,} more bytes not shown"
    return item, text


def _mostly_text(content: bytes) -> bool:
    if not content or b"\x00" in content[:4096]:
        return False
    try:
        content[:4096].decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start > 4090
    return True


_PRINTABLE = set(string.printable.encode()) - set(b"\t\n\r\x0b\x0c")


def hex_dump(content: bytes) -> str:
    """`xxd`-like lines: offset, 16 bytes in hex, the printable ASCII."""
    lines = []
    for offset in range(0, len(content), 16):
        chunk = content[offset : offset + 16]
        hexes = " ".join(f"{b:02x}" for b in chunk)
        text = "".join(chr(b) if b in _PRINTABLE else "." for b in chunk)
        lines.append(f"{offset:08x}  {hexes:<47}  {text}")
    return "\n".join(lines)


def verify_evidence(db: Database, evidence_id: int) -> dict[str, Any]:
    """Re-hash one item and compare with its stored SHA-256 and with the SHA-256 the
    audit chain recorded when it was stored. {ok, stored, actual, audited, problems}."""
    item = get_evidence(db, evidence_id, with_content=True)
    actual = hashlib.sha256(item.content or b"").hexdigest()
    row = db.execute(
        "SELECT payload FROM audit WHERE action = 'evidence.create' AND subject_id = ? "
        "ORDER BY id LIMIT 1",
        [evidence_id],
    ).fetchone()
    audited = json.loads(row[0]).get("sha256") if row else None
    problems = []
    if actual != item.sha256:
        problems.append("the content does not hash to the stored SHA-256")
    if audited is None:
        problems.append("the audit chain has no record of this item being stored")
    elif audited != item.sha256:
        problems.append("the stored SHA-256 differs from the one the audit chain recorded")
    if len(item.content or b"") != item.size:
        problems.append(f"the content is {len(item.content or b'')} bytes, recorded {item.size}")
    return {
        "ok": not problems,
        "stored": item.sha256,
        "actual": actual,
        "audited": audited,
        "problems": problems,
    }


def snapshot_history(db: Database, entity_id: int) -> list[dict[str, Any]]:
    """Every lookup snapshot of an entity (a domain or address), oldest first."""
    return entity_snapshots(db, entity_id)


def snapshot_text(db: Database, snapshot_id: int) -> str:
    """The evidence of one snapshot as one text (each item headed by its kind and query),
    for a readable diff between two lookups of the same thing."""
    rows = db.execute(
        "SELECT evidence_id FROM snapshot_evidence WHERE snapshot_id = ? ORDER BY evidence_id",
        [snapshot_id],
    ).fetchall()
    parts = []
    for (evidence_id,) in rows:
        item, text = evidence_text(db, evidence_id)
        parts.append(f"=== {item.kind} {item.query or ''} from {item.source or '?'}\n{text}")
    return "\n".join(parts) if parts else "(this lookup stored no response)"


# --- graph ----------------------------------------------------------------------------


def case_graph(db: Database, case_id: int) -> dict[str, Any]:
    """A case's entities and links as nodes and edges (ids, kinds, names, link types)."""
    nodes = [
        {"id": row[0], "kind": row[1], "value": row[2]}
        for row in db.execute(
            "SELECT e.id, e.kind, e.value FROM case_entities ce "
            "JOIN entities e ON e.id = ce.entity_id WHERE ce.case_id = ? ORDER BY e.id",
            [case_id],
        )
    ]
    edges = [
        {"id": row[0], "src": row[1], "dst": row[2], "type": row[3], "label": row[4]}
        for row in db.execute(
            "SELECT l.id, l.src_id, l.dst_id, l.type, l.label FROM link_cases lc "
            "JOIN links l ON l.id = lc.link_id WHERE lc.case_id = ? ORDER BY l.id",
            [case_id],
        )
    ]
    return {"nodes": nodes, "edges": edges}


def neighbourhood(db: Database, entity_id: int, *, limit: int = 500) -> dict[str, Any]:
    """An entity's links across the whole store and the entities at their other ends."""
    rows = db.execute(
        "SELECT id, src_id, dst_id, type, label FROM links WHERE src_id = ? "
        "UNION SELECT id, src_id, dst_id, type, label FROM links WHERE dst_id = ? "
        "ORDER BY id LIMIT ?",
        [entity_id, entity_id, limit],
    ).fetchall()
    edges = [{"id": r[0], "src": r[1], "dst": r[2], "type": r[3], "label": r[4]} for r in rows]
    others = {e["dst"] if e["src"] == entity_id else e["src"] for e in edges}
    found = get_entities(db, sorted(others | {entity_id}))
    nodes = [{"id": e.id, "kind": e.kind, "value": e.value} for e in found.values()]
    return {"nodes": nodes, "edges": edges}


def entity_cases_count(db: Database, entity_ids: list[int]) -> dict[int, int]:
    """In how many cases each entity appears (the graph marks entities shared with others)."""
    counts: dict[int, int] = {}
    for start in range(0, len(entity_ids), 500):
        chunk = entity_ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        for entity_id, count in db.execute(
            f"SELECT entity_id, count(*) FROM case_entities WHERE entity_id IN ({marks}) "
            "GROUP BY entity_id",
            chunk,
        ):
            counts[entity_id] = count
    return counts
