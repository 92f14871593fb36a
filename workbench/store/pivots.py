"""Pivots: from one entity to everything sharing it, and from one case to the other cases
it shares anything with.

Sharing means the same entity (one ROMS per store, so two cases naming ROMS share it) or
the same pivot attribute value (the same licence number quoted by two storefronts).
Redaction placeholders never become entities or indexed values, so they never link.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlite_utils import Database

from workbench.domain.normalise import name_key
from workbench.domain.pivot_values import common_wording
from workbench.store.cases import get_case, get_cases
from workbench.store.entities import get_entities, get_entity
from workbench.store.links import entity_links
from workbench.store.plain import case_dict, entity_dict

# An entity in more cases than this (a big registrar, a hosting company's nameserver or
# address) links nothing in `related_cases`: it is the landscape, not a lead, and listing
# every case sharing it would bury the leads (and cost 100 ms a case on a big store).
COMMONPLACE_CASES = 100


def pivot_entity(db: Database, entity_id: int) -> dict[str, Any]:
    """Everything in the store that shares entity `entity_id`: the entities linked to it
    (with how), the cases it appears in, and entities sharing one of its pivot values."""
    entity = get_entity(db, entity_id)
    links = entity_links(db, entity_id)
    others = {
        other_id: entity_dict(other)
        for other_id, other in get_entities(
            db, [link.dst_id if link.src_id == entity_id else link.src_id for link in links]
        ).items()
    }
    neighbours = []
    for link in links:
        outgoing = link.src_id == entity_id
        other = others[link.dst_id if outgoing else link.src_id]
        neighbours.append(
            {
                "direction": "out" if outgoing else "in",
                "type": link.type,
                "label": link.label,
                "link_id": link.id,
                "evidence_ids": link.evidence_ids,
                "entity": other,
            }
        )
    case_ids = [
        row[0]
        for row in db.execute(
            "SELECT case_id FROM case_entities WHERE entity_id = ? ORDER BY case_id", [entity_id]
        )
    ]
    found_cases = get_cases(db, case_ids)
    cases = [case_dict(found_cases[case_id]) for case_id in case_ids]
    rows = db.execute(
        "SELECT mine.name, mine.value, theirs.entity_id FROM entity_values mine "
        "JOIN entity_values theirs ON theirs.name = mine.name AND theirs.value = mine.value "
        "AND theirs.entity_id != mine.entity_id WHERE mine.entity_id = ?",
        [entity_id],
    ).fetchall()
    sharing = {eid: entity_dict(e) for eid, e in get_entities(db, [row[2] for row in rows]).items()}
    same_values = [
        {"name": name, "value": value, "entity": sharing[eid]} for name, value, eid in rows
    ]
    return {
        "entity": entity.as_dict(),
        "neighbours": neighbours,
        "cases": cases,
        "same_values": same_values,
    }


def pivot_value(db: Database, name: str, value: str) -> list[dict[str, Any]]:
    """Entities whose pivot attribute `name` has `value` (e.g. licence_number 49/ZM-07)."""
    rows = db.execute(
        "SELECT entity_id FROM entity_values WHERE name = ? AND value = ?",
        [name, name_key(value, name)],
    ).fetchall()
    found = get_entities(db, [row[0] for row in rows])
    return [found[row[0]].as_dict() for row in rows]


def related_cases(db: Database, case_id: int) -> list[dict[str, Any]]:
    """The other cases sharing anything with `case_id`, and through what.

    Each result names the other case and lists what is shared: `via` "entity" (the same
    entity is in both) or "value" (two entities share a pivot attribute value). Cases
    sharing more, and rarer, things come first: ROMS shared by two cases says more than a
    card scheme shared by a thousand. An entity in more than COMMONPLACE_CASES cases
    relates no cases. An entity shared with several cases is one dict, the same object in
    each of their lists.
    """
    get_case(db, case_id)
    shared: dict[int, list[dict[str, Any]]] = defaultdict(list)
    rows = db.execute(
        """
        SELECT theirs.case_id, mine.entity_id, counted.cases
        FROM case_entities mine
        JOIN entity_case_counts counted
          ON counted.entity_id = mine.entity_id AND counted.cases BETWEEN 2 AND ?
        JOIN case_entities theirs
          ON theirs.entity_id = mine.entity_id AND theirs.case_id != mine.case_id
        WHERE mine.case_id = ?
        """,
        [COMMONPLACE_CASES, case_id],
    ).fetchall()
    value_rows = db.execute(
        """
        SELECT theirs_ce.case_id, mine_v.entity_id, theirs_v.entity_id, mine_v.name,
               mine_v.value
        FROM case_entities mine_ce
        JOIN entity_values mine_v ON mine_v.entity_id = mine_ce.entity_id
        JOIN entity_values theirs_v
          ON theirs_v.name = mine_v.name AND theirs_v.value = mine_v.value
         AND theirs_v.entity_id != mine_v.entity_id
        JOIN case_entities theirs_ce
          ON theirs_ce.entity_id = theirs_v.entity_id AND theirs_ce.case_id != mine_ce.case_id
        WHERE mine_ce.case_id = ?
        """,
        [case_id],
    ).fetchall()
    wanted = {row[1] for row in rows} | {r[1] for r in value_rows} | {r[2] for r in value_rows}
    entities = get_entities(db, sorted(wanted))
    dicts = {entity_id: entity_dict(entity) for entity_id, entity in entities.items()}
    weight: dict[int, float] = defaultdict(float)
    for other_case, entity_id, case_count in rows:
        shared[other_case].append(
            {"via": "entity", "entity": dicts[entity_id], "cases_sharing": case_count}
        )
        weight[other_case] += 1.0 / max(1, case_count - 1)
    # Many runs of shared licence wording are one shared clause: report each pair of
    # entities once per value name, with the longest wording they share.
    seen: set[tuple] = set()
    for other_case, mine, theirs, name, value in value_rows:
        key = (other_case, name, mine, theirs, "" if name == "licence_wording" else value)
        if key in seen:
            continue
        seen.add(key)
        if name == "licence_wording":
            value = common_wording(
                entities[mine].attrs.get("licence_claim", ""),
                entities[theirs].attrs.get("licence_claim", ""),
            )
        shared[other_case].append(
            {
                "via": "value",
                "name": name,
                "value": value,
                "entity": dicts[mine],
                "other_entity": dicts[theirs],
            }
        )
        weight[other_case] += 1.0
    result = []
    cases = get_cases(db, list(shared))
    for other_case in sorted(shared, key=lambda c: (-weight[c], c)):
        result.append(
            {
                "case": case_dict(cases[other_case]),
                "score": round(weight[other_case], 3),
                "shared": shared[other_case],
            }
        )
    return result
