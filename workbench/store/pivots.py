"""Pivots: from one entity to everything sharing it, and from one case to the other cases
it shares anything with.

Sharing means the same entity (one ROMS per store, so two cases naming ROMS share it) or
the same pivot attribute value (the same licence number quoted by two storefronts).
Redaction placeholders never become entities or indexed values, so they never link.

Both answer with a first page when asked (`limit`): a hub nameserver has thousands of
neighbours and a case can share something with thousands of cases; no screen shows them
all, and reading them all cost more than the targets allow (docs/benchmarks.md). The
counts say how much there is; `pivot_neighbours` pages on.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from sqlite_utils import Database

from workbench.domain.errors import InvalidInput, NotFound
from workbench.domain.normalise import name_key
from workbench.domain.pivot_values import common_wording
from workbench.store.cases import get_case
from workbench.store.entities import get_entities
from workbench.store.migrations import LISTED_CASES

# An entity or pivot value in more cases than this (a big registrar, a hosting company's
# nameserver, address or AS number) links nothing in `related_cases`: it is the
# landscape, not a lead, and listing every case sharing it would bury the leads. The
# case lists that `related_cases` reads are kept up to this size (migration 0005).
COMMONPLACE_CASES = LISTED_CASES

_ENTITY = "e.id, e.kind, e.key, e.value, e.attrs, e.created_at, e.updated_at"
_CASE = (
    "c.id, c.title, c.status, c.investigator, c.summary, c.created_at, c.updated_at, c.archived_at"
)
# A link's evidence ids, in order, as one column of the row that reads the link.
_EVIDENCE = (
    "(SELECT group_concat(evidence_id) FROM "
    "(SELECT evidence_id FROM link_evidence WHERE link_id = l.id ORDER BY evidence_id))"
)
_CASE_KEYS = (
    "id", "title", "status", "investigator", "summary", "created_at", "updated_at", "archived_at",
)  # fmt: skip


def _entity_row(row, offset: int = 0) -> dict[str, Any]:
    """An entity dict (as `plain.entity_dict`) from the 7 entity columns at `offset`."""
    return {
        "id": row[offset],
        "kind": row[offset + 1],
        "key": row[offset + 2],
        "value": row[offset + 3],
        "attrs": {} if row[offset + 4] == "{}" else json.loads(row[offset + 4]),
        "created_at": row[offset + 5],
        "updated_at": row[offset + 6],
    }


# --- pivot on an entity -------------------------------------------------------------------


def pivot_entity(db: Database, entity_id: int, *, limit: int | None = None) -> dict[str, Any]:
    """Everything in the store that shares entity `entity_id`: the entities linked to it
    (with how), the cases it appears in, and entities sharing one of its pivot values.

    `limit=None` answers everything, neighbours in link order. With a `limit`, at most
    `limit` neighbours per direction and link type (by the other entity's id; the next
    ones come from `pivot_neighbours`), `limit` cases and `limit` entities sharing a
    value: what a window shows first, at the same cost for a hub as for a leaf. Either
    way `counts` says how many there are in all (`by_type`: per direction and link type)
    and `complete` whether everything was returned.
    """
    if limit is not None and limit < 1:
        raise InvalidInput("limit", limit, "must be at least 1")
    row = db.execute(f"SELECT {_ENTITY} FROM entities e WHERE e.id = ?", [entity_id]).fetchone()
    if row is None:
        raise NotFound("entity", entity_id)
    entity = _entity_row(row)
    others: dict[int, dict[str, Any]] = {}  # one dict per entity, however many links

    def other(row, offset: int) -> dict[str, Any]:
        found = others.get(row[offset])
        if found is None:
            found = others[row[offset]] = _entity_row(row, offset)
        return found

    by_type: dict[tuple[str, str], int] = {}
    if limit is None:
        rows = db.execute(
            f"SELECT l.id, 'out', l.type, l.label, {_ENTITY}, {_EVIDENCE} FROM links l "
            "JOIN entities e ON e.id = l.dst_id WHERE l.src_id = ? UNION ALL "
            f"SELECT l.id, 'in', l.type, l.label, {_ENTITY}, {_EVIDENCE} FROM links l "
            "JOIN entities e ON e.id = l.src_id WHERE l.dst_id = ? ORDER BY 1",
            [entity_id, entity_id],
        ).fetchall()
        for row in rows:
            by_type[(row[1], row[2])] = by_type.get((row[1], row[2]), 0) + 1
    else:
        rows = []
        for direction, link_type, count in db.execute(
            "SELECT 'out', type, count(*) FROM links WHERE src_id = ? GROUP BY type UNION ALL "
            "SELECT 'in', type, count(*) FROM links WHERE dst_id = ? GROUP BY type",
            [entity_id, entity_id],
        ).fetchall():
            by_type[(direction, link_type)] = count
            rows += _neighbour_rows(db, entity_id, direction, link_type, 0, limit)
    neighbours = [
        {
            "direction": row[1],
            "type": row[2],
            "label": row[3],
            "link_id": row[0],
            "evidence_ids": _ids(row[11]),
            "entity": other(row, 4),
        }
        for row in rows
    ]
    case_sql = (
        f"SELECT {_CASE} FROM case_entities ce JOIN cases c ON c.id = ce.case_id "
        "WHERE ce.entity_id = ? ORDER BY ce.case_id"
    )
    case_rows = db.execute(
        case_sql + ("" if limit is None else " LIMIT ?"),
        [entity_id] if limit is None else [entity_id, limit],
    ).fetchall()
    cases = [dict(zip(_CASE_KEYS, row, strict=True)) for row in case_rows]
    value_sql = (
        f"SELECT mine.name, mine.value, {_ENTITY} FROM entity_values mine "
        "JOIN entity_values theirs ON theirs.name = mine.name AND theirs.value = mine.value "
        "AND theirs.entity_id != mine.entity_id JOIN entities e ON e.id = theirs.entity_id "
        "WHERE mine.entity_id = ?"
    )
    value_rows = db.execute(
        value_sql + ("" if limit is None else " LIMIT ?"),
        [entity_id] if limit is None else [entity_id, limit],
    ).fetchall()
    same_values = [{"name": row[0], "value": row[1], "entity": other(row, 2)} for row in value_rows]
    total_cases, total_values = len(cases), len(same_values)
    if limit is not None and total_cases == limit:
        total_cases = db.execute(
            "SELECT count(*) FROM case_entities WHERE entity_id = ?", [entity_id]
        ).fetchone()[0]
    if limit is not None and total_values == limit:
        total_values = db.execute(f"SELECT count(*) FROM ({value_sql})", [entity_id]).fetchone()[0]
    total_neighbours = sum(by_type.values())
    return {
        "entity": entity,
        "neighbours": neighbours,
        "cases": cases,
        "same_values": same_values,
        "counts": {
            "neighbours": total_neighbours,
            "by_type": [
                {"direction": direction, "type": link_type, "count": count}
                for (direction, link_type), count in by_type.items()
            ],
            "cases": total_cases,
            "same_values": total_values,
        },
        "complete": (len(neighbours), len(cases), len(same_values))
        == (total_neighbours, total_cases, total_values),
    }


def _neighbour_rows(
    db: Database, entity_id: int, direction: str, link_type: str, after_id: int, limit: int
) -> list[tuple]:
    """Links of one direction and type with the entity at their other end, by that
    entity's id; both reads walk an index that holds the link's other end (the unique
    key for outgoing links, the covering `links_by_dst` for incoming ones)."""
    if direction == "out":
        sql = (
            f"SELECT l.id, 'out', l.type, l.label, {_ENTITY}, {_EVIDENCE} FROM links l "
            "JOIN entities e ON e.id = l.dst_id "
            "WHERE l.src_id = ? AND l.type = ? AND l.dst_id > ? ORDER BY l.dst_id LIMIT ?"
        )
    elif direction == "in":
        sql = (
            f"SELECT l.id, 'in', l.type, l.label, {_ENTITY}, {_EVIDENCE} FROM links l "
            "JOIN entities e ON e.id = l.src_id "
            "WHERE l.dst_id = ? AND l.type = ? AND l.src_id > ? ORDER BY l.src_id LIMIT ?"
        )
    else:
        raise InvalidInput("direction", direction, "must be 'in' or 'out'")
    return db.execute(sql, [entity_id, link_type, after_id, limit]).fetchall()


def pivot_neighbours(
    db: Database,
    entity_id: int,
    direction: str,
    link_type: str,
    *,
    after_entity_id: int = 0,
    limit: int = 200,
) -> list[dict[str, Any]]:
    """The next page of one group of a pivot's neighbours (direction "in" or "out", one
    link type), after the other entity `after_entity_id`: neighbour dicts as in
    `pivot_entity`. Keyset paging: every page costs the same however deep it is."""
    if limit < 1:
        raise InvalidInput("limit", limit, "must be at least 1")
    rows = _neighbour_rows(db, entity_id, direction, link_type, after_entity_id, limit)
    return [
        {
            "direction": row[1],
            "type": row[2],
            "label": row[3],
            "link_id": row[0],
            "evidence_ids": _ids(row[11]),
            "entity": _entity_row(row, 4),
        }
        for row in rows
    ]


def _ids(text: str | None) -> list[int]:
    """The ids of a `group_concat` column (None when there are none)."""
    return [int(part) for part in text.split(",")] if text else []


def pivot_value(db: Database, name: str, value: str) -> list[dict[str, Any]]:
    """Entities whose pivot attribute `name` has `value` (e.g. licence_number 49/ZM-07)."""
    rows = db.execute(
        "SELECT entity_id FROM entity_values WHERE name = ? AND value = ?",
        [name, name_key(value, name)],
    ).fetchall()
    found = get_entities(db, [row[0] for row in rows])
    return [found[row[0]].as_dict() for row in rows]


# --- cases related to a case --------------------------------------------------------------


def related_cases(db: Database, case_id: int, *, limit: int | None = None) -> list[dict[str, Any]]:
    """The other cases sharing anything with `case_id`, and through what: all of them
    with everything they share, or the first `limit` (`related_cases_page` gives their
    total and caps what is listed per case).

    Each result names the other case and lists what is shared: `via` "entity" (the same
    entity is in both) or "value" (two entities share a pivot attribute value). Cases
    sharing more, and rarer, things come first: each shared entity or value weighs
    1/(cases it is in - 1), so ROMS shared by two cases says more than a card scheme
    shared by a thousand. An entity or value in more than COMMONPLACE_CASES cases relates
    no cases. An entity shared with several cases is one dict, the same object in each of
    their lists.
    """
    return related_cases_page(db, case_id, limit=limit, items=None)["cases"]


def related_cases_page(
    db: Database, case_id: int, *, limit: int | None = 50, items: int | None = 20
) -> dict[str, Any]:
    """What "also seen in other cases" shows first: `{"total": how many other cases share
    something, "cases": the first `limit`}`, ranked as `related_cases` ranks them, each
    listing at most `items` shared things (the rarest first) and `shared_count`, how many
    entities and values it shares in all. None for either means no limit.

    The ranking reads, for each entity and pivot value of the case, the list of cases it
    is in (kept by triggers, migration 0005): a few hundred rows per case, where joining
    memberships read one row per (shared entity, other case), 12,000 for a typical case
    of the benchmark store. What is shared is then read for the page's cases only.
    """
    for name, number in (("limit", limit), ("items", items)):
        if number is not None and number < 1:
            raise InvalidInput(name, number, "must be at least 1")
    get_case(db, case_id)
    entity_rows = db.execute(
        "SELECT mine.entity_id, counted.cases, counted.case_list FROM case_entities mine "
        "JOIN entity_case_counts counted ON counted.entity_id = mine.entity_id "
        "AND counted.cases BETWEEN 2 AND ? WHERE mine.case_id = ?",
        [COMMONPLACE_CASES, case_id],
    ).fetchall()
    # A value only one entity carries relates nothing that entity does not already.
    value_rows = db.execute(
        "SELECT mine.name, mine.value, listed.cases, listed.case_list FROM value_cases mine "
        "JOIN value_case_lists listed ON listed.name = mine.name "
        "AND listed.value = mine.value AND listed.cases BETWEEN 2 AND ? "
        "WHERE mine.case_id = ? AND (SELECT count(*) FROM (SELECT 1 FROM entity_values v "
        # Written on `listed`, so that SQLite counts only values that passed the cut
        # (on `mine`, it counted the carriers of every value of the case: 3x slower).
        "WHERE v.name = listed.name AND v.value = listed.value LIMIT 2)) = 2",
        [COMMONPLACE_CASES, case_id],
    ).fetchall()
    listed = [row[1:] for row in entity_rows] + [row[2:] for row in value_rows]
    total, ranked, positions = _ranked(case_id, listed, limit)
    things: dict[int, list[tuple]] = {}  # (cases it is in, 0 entity / 1 value, id or (name, value))
    for other, owners in positions.items():
        things[other] = [
            (entity_rows[i][1], 0, entity_rows[i][0])
            if i < len(entity_rows)
            else (value_rows[i - len(entity_rows)][2], 1, value_rows[i - len(entity_rows)][:2])
            for i in owners
        ]
    shared = _shared_with(db, case_id, things, items)
    case_rows = {}
    page_ids = [other for other, _ in ranked]
    for start in range(0, len(page_ids), 500):
        chunk = page_ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        for row in db.execute(f"SELECT {_CASE} FROM cases c WHERE c.id IN ({marks})", chunk):
            case_rows[row[0]] = dict(zip(_CASE_KEYS, row, strict=True))
    result = []
    for other, score in ranked:
        entry = {
            "case": case_rows[other],
            "score": round(score, 3),
            "shared": shared.get(other, []),
        }
        if items is not None:
            entry["shared_count"] = len(things.get(other, ()))
        result.append(entry)
    return {"total": total, "cases": result}


def _ranked(
    case_id: int, listed: list[tuple[int, str]], limit: int | None
) -> tuple[int, list[tuple[int, float]], dict[int, list[int]]]:
    """How many other cases share something; the first `limit` of them (all for None)
    best first as (case id, score); and for each of those, which of `listed` it shares
    (their positions). Each shared thing, given as (cases it is in, its case list
    ",3,17,"), adds 1/(cases - 1) to every case it lists.

    One step per (shared thing, other case): 12,000-22,000 for a typical case of the
    benchmark store, which a Python loop took 5-8 ms over; numpy's weighted `bincount`
    and `lexsort` do it in C. Scores are rounded to 1e-9 so that equal sums added in
    another order still tie (ties go to the lower case id).
    """
    import numpy as np  # here, not at import time: the app starts without it

    if not listed:
        return 0, [], {}
    lists = [case_list.strip(",") for _, case_list in listed]
    lengths = [case_list.count(",") + 1 for case_list in lists]
    ids = np.fromstring(",".join(lists), dtype=np.int64, sep=",")
    weights = np.repeat(np.array([1.0 / (count - 1) for count, _ in listed]), lengths)
    sums = np.round(np.bincount(ids, weights=weights), 9)
    if case_id < len(sums):
        sums[case_id] = 0.0
    found = np.flatnonzero(sums)
    order = found[np.lexsort((found, -sums[found]))]
    if limit is not None:
        order = order[:limit]
    # Which listed things each case of the page shares: (position in `listed`), in order.
    owners = np.repeat(np.arange(len(listed)), lengths)
    hits = np.isin(ids, order)
    things: dict[int, list[int]] = defaultdict(list)
    for other, owner in zip(ids[hits].tolist(), owners[hits].tolist(), strict=True):
        things[other].append(owner)
    ranked = list(zip(order.tolist(), sums[order].tolist(), strict=True))
    return len(found), ranked, things


def _shared_with(
    db: Database, case_id: int, found: dict[int, list[tuple]], items: int | None
) -> dict[int, list[dict[str, Any]]]:
    """What case `case_id` shares with each other case of `found` (at most `items` each,
    rarest first), given (cases it is in, 0 for an entity or 1 for a value, the entity
    id or (name, value)) for each shared thing."""
    if items is not None:
        # Rarest first; ties in the order the lists were read (entity id).
        found = {
            other: sorted(things, key=lambda thing: thing[0])[:items]
            if len(things) > items
            else things
            for other, things in found.items()
        }
    entity_ids = {thing[2] for things in found.values() for thing in things if not thing[1]}
    values = sorted({thing[2] for things in found.values() for thing in things if thing[1]})
    # Which entities carry each listed value in this case and in the page's cases.
    carriers: dict[tuple[str, str], dict[int, list[int]]] = defaultdict(lambda: defaultdict(list))
    for start in range(0, len(values), 200):
        chunk = values[start : start + 200]
        pairs = ",".join("(?, ?)" for _ in chunk)
        # The listed values drive the join (written as a CTE: as an IN list, SQLite
        # scanned every entity value).
        for name, value, entity_id, in_case in db.execute(
            f"WITH listed (name, value) AS (VALUES {pairs}) "
            "SELECT v.name, v.value, v.entity_id, ce.case_id FROM listed "
            "JOIN entity_values v ON v.name = listed.name AND v.value = listed.value "
            "JOIN case_entities ce ON ce.entity_id = v.entity_id ORDER BY v.entity_id",
            [part for pair in chunk for part in pair],
        ):
            if in_case == case_id or in_case in found:
                carriers[(name, value)][in_case].append(entity_id)
                entity_ids.add(entity_id)
    dicts = _entity_dicts(db, sorted(entity_ids))
    shared: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for other, things in found.items():
        seen: set[tuple] = set()
        for count, is_value, thing in things:
            if not is_value:
                shared[other].append(
                    {"via": "entity", "entity": dicts[thing], "cases_sharing": count}
                )
                continue
            name, value = thing
            for mine in carriers[thing][case_id]:
                for theirs in carriers[thing][other]:
                    # Many runs of shared licence wording are one shared clause: each
                    # pair of entities once per value name, with the longest wording.
                    key = (name, mine, theirs, "" if name == "licence_wording" else value)
                    if mine == theirs or key in seen:
                        continue
                    seen.add(key)
                    shown = value
                    if name == "licence_wording":
                        shown = common_wording(
                            dicts[mine]["attrs"].get("licence_claim", ""),
                            dicts[theirs]["attrs"].get("licence_claim", ""),
                        )
                    shared[other].append(
                        {
                            "via": "value",
                            "name": name,
                            "value": shown,
                            "entity": dicts[mine],
                            "other_entity": dicts[theirs],
                        }
                    )
    return shared


def _entity_dicts(db: Database, entity_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Entity dicts by id, decoded straight from the rows (no model objects)."""
    found: dict[int, dict[str, Any]] = {}
    for start in range(0, len(entity_ids), 500):
        chunk = entity_ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        for row in db.execute(f"SELECT {_ENTITY} FROM entities e WHERE e.id IN ({marks})", chunk):
            found[row[0]] = _entity_row(row)
    return found
