"""The audit chain: every change to a store appends a row hash-chained to the one before.

row.hash = SHA-256(prev_hash, at, action, subject, subject_id, payload), where payload is
the change as canonical JSON. Editing, inserting or deleting any row behind the app's back
breaks the chain from that row on, and `verify_chain` names the first row that disagrees.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from workbench.domain.times import to_iso, utc_now
from workbench.store.database import transaction_memo

GENESIS = "0" * 64


def canonical_json(payload: Any) -> str:
    """JSON with sorted keys and no spaces: one text per value, so one hash.

    A lone surrogate (a server's "\\ud800" escape) is written as its JSON escape: as a
    character it cannot be encoded to UTF-8, so neither hashed nor stored; as an escape it
    reads back as the same string."""
    text = _CANONICAL.encode(payload)
    if text.isascii():  # no surrogate can hide in ASCII: skip the search (bulk imports)
        return text
    return _SURROGATE.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


# One encoder for every call: `json.dumps` with options builds a new one each time, which
# cost a third of canonical_json in bulk generation.
_CANONICAL = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
)
_SURROGATE = re.compile("[\ud800-\udfff]")


def chain_hash(
    prev_hash: str, at: str, action: str, subject: str, subject_id: int | None, payload_json: str
) -> str:
    material = "\n".join([prev_hash, at, action, subject, str(subject_id), payload_json])
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


def last_hash(db: Database) -> str:
    row = db.execute("SELECT hash FROM audit ORDER BY id DESC LIMIT 1").fetchone()
    return row[0] if row else GENESIS


def record(
    db: Database, action: str, subject: str, subject_id: int | None, payload: dict[str, Any]
) -> None:
    """Append one change. Call inside `writing(db)` so the chain and the change commit
    together (and two writers cannot both extend the same previous hash)."""
    record_many(db, [(action, subject, subject_id, payload)])


def record_many(db: Database, changes: list[tuple[str, str, int | None, dict[str, Any]]]) -> None:
    """Append several changes in order with one read of the chain's end (batch imports).

    Inside `writing` the chain's end is read once per transaction and then remembered:
    the transaction holds the write lock, so no other writer can extend the chain.
    """
    record_many_json(
        db,
        [
            (action, subject, subject_id, canonical_json(payload))
            for action, subject, subject_id, payload in changes
        ],
    )


def record_many_json(db: Database, changes: list[tuple[str, str, int | None, str]]) -> None:
    """`record_many` for a batch writer that already holds each payload as its canonical
    JSON text (`canonical_json(payload)`, e.g. formatted from a template for millions of
    rows of one shape): the text is hashed and stored as given."""
    memo = transaction_memo(db)
    prev = memo.pop(_HEAD, None) if memo is not None else None
    if prev is None:
        prev = last_hash(db)
    at = to_iso(utc_now())
    rows = []
    for action, subject, subject_id, payload_json in changes:
        digest = chain_hash(prev, at, action, subject, subject_id, payload_json)
        rows.append((at, action, subject, subject_id, payload_json, prev, digest))
        prev = digest
    db.conn.executemany(
        "INSERT INTO audit (at, action, subject, subject_id, payload, prev_hash, hash) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    if memo is not None:  # only once the rows are in: a failed insert leaves no stale end
        memo[_HEAD] = prev


_HEAD = "audit_head"  # the transaction memo's copy of the chain's last hash


@dataclass(frozen=True)
class ChainProblem:
    audit_id: int
    message: str


def verify_chain(db: Database) -> list[ChainProblem]:
    """Re-hash the whole chain in order; one problem per row that does not match."""
    problems: list[ChainProblem] = []
    prev = GENESIS
    expected_id = None
    cursor = db.execute(
        "SELECT id, at, action, subject, subject_id, payload, prev_hash, hash "
        "FROM audit ORDER BY id"
    )
    for audit_id, at, action, subject, subject_id, payload, prev_hash, digest in cursor:
        if expected_id is not None and audit_id != expected_id:
            problems.append(
                ChainProblem(
                    audit_id,
                    f"audit rows {expected_id}-{audit_id - 1} are missing (deleted from the chain)",
                )
            )
        if prev_hash != prev:
            problems.append(
                ChainProblem(
                    audit_id,
                    f"audit row {audit_id} does not follow "
                    "the row before it (previous hash differs)",
                )
            )
        if chain_hash(prev_hash, at, action, subject, subject_id, payload) != digest:
            problems.append(
                ChainProblem(
                    audit_id,
                    f"audit row {audit_id} ({action} "
                    f"{subject} {subject_id}) was altered: its hash "
                    "does not match its contents",
                )
            )
        prev = digest
        expected_id = audit_id + 1
    return problems
