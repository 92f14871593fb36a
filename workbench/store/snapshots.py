"""Lookup snapshots: what one lookup of one kind said about one domain or address, when.

Every lookup leaves a snapshot, failed ones included (status and reason say why), so a
failure is never mistaken for empty data. Snapshots are never overwritten: a re-run adds
one, and `changes_since_previous` says what differs from the last successful one.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from workbench.domain.errors import NotFound
from workbench.domain.times import to_iso, utc_now
from workbench.store import audit

_COLUMNS = "id, entity_id, protocol, status, reason, taken_at, summary, imported, case_id, run_id"


def _snapshot(db: Database, row) -> dict[str, Any]:
    keys = [c.strip() for c in _COLUMNS.split(",")]
    data = dict(zip(keys, row, strict=True))
    data["summary"] = json.loads(data["summary"])
    data["imported"] = bool(data["imported"])
    data["evidence_ids"] = [
        r[0]
        for r in db.execute(
            "SELECT evidence_id FROM snapshot_evidence WHERE snapshot_id = ? ORDER BY evidence_id",
            [data["id"]],
        )
    ]
    return data


def add_snapshot(
    db: Database,
    entity_id: int,
    protocol: str,
    status: str,
    *,
    reason: str | None,
    summary: dict[str, Any],
    evidence_ids: Iterable[int],
    taken_at: datetime | None = None,
    imported: bool = False,
    case_id: int | None = None,
    run_id: int | None = None,
) -> dict[str, Any]:
    taken = to_iso(taken_at or utc_now())
    summary_json = json.dumps(summary, sort_keys=True)
    cursor = db.execute(
        "INSERT INTO snapshots (entity_id, protocol, status, reason, taken_at, summary, "
        "imported, case_id, run_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            entity_id,
            protocol,
            status,
            reason,
            taken,
            summary_json,
            int(imported),
            case_id,
            run_id,
        ],
    )
    snapshot_id = cursor.lastrowid
    evidence_ids = list(dict.fromkeys(evidence_ids))
    db.conn.executemany(
        "INSERT INTO snapshot_evidence (snapshot_id, evidence_id) VALUES (?, ?)",
        [(snapshot_id, eid) for eid in evidence_ids],
    )
    audit.record(
        db,
        "snapshot.create",
        "snapshot",
        snapshot_id,
        {
            "entity_id": entity_id,
            "protocol": protocol,
            "status": status,
            "reason": reason,
            "summary": summary,
            "evidence_ids": evidence_ids,
        },
    )
    # What get_snapshot would read back, built from what was written (a bulk run stores
    # thousands): the summary as JSON gives it, evidence ids in order.
    return {
        "id": snapshot_id,
        "entity_id": entity_id,
        "protocol": protocol,
        "status": status,
        "reason": reason,
        "taken_at": taken,
        "summary": json.loads(summary_json),
        "imported": bool(imported),
        "case_id": case_id,
        "run_id": run_id,
        "evidence_ids": sorted(evidence_ids),
    }


def get_snapshot(db: Database, snapshot_id: int) -> dict[str, Any]:
    row = db.execute(f"SELECT {_COLUMNS} FROM snapshots WHERE id = ?", [snapshot_id]).fetchone()
    if row is None:
        raise NotFound("snapshot", snapshot_id)
    return _snapshot(db, row)


def entity_snapshots(
    db: Database, entity_id: int, protocol: str | None = None
) -> list[dict[str, Any]]:
    """Snapshots of an entity, oldest first."""
    sql = f"SELECT {_COLUMNS} FROM snapshots WHERE entity_id = ?"
    params: list[Any] = [entity_id]
    if protocol:
        sql += " AND protocol = ?"
        params.append(protocol)
    return [_snapshot(db, row) for row in db.execute(sql + " ORDER BY taken_at, id", params)]


def previous_ok_snapshot(
    db: Database, entity_id: int, protocol: str, before_id: int
) -> dict[str, Any] | None:
    row = db.execute(
        f"SELECT {_COLUMNS} FROM snapshots WHERE entity_id = ? AND protocol = ? "
        "AND status = 'ok' AND id < ? ORDER BY taken_at DESC, id DESC LIMIT 1",
        [entity_id, protocol, before_id],
    ).fetchone()
    return _snapshot(db, row) if row else None


def diff_summaries(before: dict[str, Any], after: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """{field: {"before": ..., "after": ...}} for every field both snapshots hold whose value
    changed. A field only one of them holds was not asked in the other: no change."""
    changes = {}
    for field in sorted(set(before) & set(after)):
        if before.get(field) != after.get(field):
            changes[field] = {"before": before.get(field), "after": after.get(field)}
    return changes
