"""`verify`: prove that nothing in a store changed behind the workbench's back.

Checks that every evidence item still hashes to its SHA-256, that the SHA-256 is the one
the audit chain recorded when the item was stored, that the audit chain itself is intact,
that every case, entity, link and event still holds what the chain says it does, and that
no case, entity, link, event or evidence row exists that the chain never saw.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass, field

from sqlite_utils import Database

from workbench.store.audit import verify_chain
from workbench.store.evidence import text_sha256


@dataclass
class VerifyReport:
    checked_evidence: int = 0
    checked_audit_rows: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict:
        return {
            "ok": self.ok,
            "checked_evidence": self.checked_evidence,
            "checked_audit_rows": self.checked_audit_rows,
            "problems": self.problems,
        }


_UNAUDITED = (
    ("case", "cases", "case.create"),
    ("entity", "entities", "entity.create"),
    ("link", "links", "link.create"),
    ("event", "events", "event.create"),
    ("evidence", "evidence", "evidence.create"),
)


def verify_store(db: Database) -> VerifyReport:
    """Everything the module docstring says, in memory that does not grow with the store:
    each table is read in id order beside its audited records sorted the same way (SQLite
    sorts them, spilling to a temporary file when they are many), one row at a time."""
    report = VerifyReport()
    report.checked_audit_rows = db.execute("SELECT count(*) FROM audit").fetchone()[0]
    report.problems.extend(problem.message for problem in verify_chain(db))
    report.problems.extend(_check_evidence(db, report))
    report.problems.extend(_changed_rows(db))
    for subject, table, action in _UNAUDITED:
        for (row_id,) in db.execute(
            f"SELECT id FROM {table} WHERE id NOT IN "
            "(SELECT subject_id FROM audit WHERE action = ?) ORDER BY id",
            [action],
        ):
            report.problems.append(
                f"{subject} {row_id}: not in the audit chain (added behind the workbench's back)"
            )
    return report


def _audited(db: Database, actions: tuple[str, ...]) -> Iterator[tuple[int, list]]:
    """(subject id, [(action, payload as a dict or None when it no longer parses), ...])
    for every subject of the audit rows with one of `actions`, by subject id, each
    subject's rows in chain order.

    NOT INDEXED: the only index (subject, subject_id) is keyed on the subject column, and
    walking it would read the table in random order; one pass over the chain plus a sort
    is linear and bounded in memory."""
    marks = ",".join("?" * len(actions))
    rows = db.execute(
        f"SELECT subject_id, action, payload FROM audit NOT INDEXED "
        f"WHERE action IN ({marks}) ORDER BY subject_id, id",
        list(actions),
    )
    for subject_id, group in itertools.groupby(rows, key=lambda row: row[0]):
        yield subject_id, [(action, _payload(payload)) for _, action, payload in group]


def _check_evidence(db: Database, report: VerifyReport) -> Iterator[str]:
    """Evidence items against their hash, size and what the chain recorded when each was
    stored (the last record of it that still parses), merged in id order."""
    audited = _audited(db, ("evidence.create",))
    pending = next(audited, None)
    for row in db.execute(f"SELECT {', '.join(_EVIDENCE_COLUMNS)} FROM evidence ORDER BY id"):
        columns = dict(zip(_EVIDENCE_COLUMNS, row, strict=True))
        evidence_id = columns["id"]
        while pending is not None and _before(pending[0], evidence_id):
            if _recorded(pending[1]) is not None:
                yield (
                    f"evidence {pending[0]}: recorded in the audit chain but missing from the store"
                )
            pending = next(audited, None)
        recorded = None
        if pending is not None and pending[0] == evidence_id:
            recorded = _recorded(pending[1])
            pending = next(audited, None)
        report.checked_evidence += 1
        yield from _evidence_problems(columns, recorded)
    while pending is not None:
        if _recorded(pending[1]) is not None:
            yield f"evidence {pending[0]}: recorded in the audit chain but missing from the store"
        pending = next(audited, None)


_MISSING = "recorded in the audit chain but missing from the store"


def _before(subject_id: object, row_id: int) -> bool:
    """Whether an audited subject id comes before table row `row_id` in the merge. A
    NULL or text id (an altered row, which verify_chain names) matches no row: SQLite
    sorts it before (NULL) or after (text) every number, and it is reported as missing."""
    return not isinstance(subject_id, int) or subject_id < row_id


def _recorded(records: list) -> dict | None:
    """The last create record of a subject whose payload still parses (an altered one is
    named by verify_chain and says nothing about the item)."""
    found = None
    for _action, data in records:
        if data is not None:
            found = data
    return found


def _evidence_problems(columns: dict, audited: dict | None) -> Iterator[str]:
    evidence_id, stored_hash, size = columns["id"], columns["sha256"], columns["size"]
    content = columns["content"]
    if not isinstance(content, bytes):
        # Rewritten as TEXT (or a number) behind the app's back: hash what is there now.
        yield f"evidence {evidence_id}: content is no longer stored as bytes (it was rewritten)"
        content = b"" if content is None else str(content).encode("utf-8", "surrogatepass")
    actual = hashlib.sha256(content).hexdigest()
    if actual != stored_hash:
        yield (
            f"evidence {evidence_id}: content does not match its SHA-256 "
            f"(stored {stored_hash[:16]}..., content hashes to {actual[:16]}...)"
        )
    if len(content) != size:
        yield f"evidence {evidence_id}: size {len(content)} bytes, recorded {size}"
    if audited is None:
        return  # reported as a row the chain never saw
    if audited.get("sha256") != stored_hash:
        yield (
            f"evidence {evidence_id}: SHA-256 differs from the one "
            "recorded in the audit chain when it was stored"
        )
    if audited.get("captured_at") != columns["captured_at"]:
        yield f"evidence {evidence_id}: capture time differs from the audit chain's record"
    changed = _changed_evidence_columns(columns, audited)
    if changed:
        yield (
            f"evidence {evidence_id}: {', '.join(changed)} differ from the audit chain "
            "(changed behind the workbench's back)"
        )


_EVIDENCE_COLUMNS = (
    "id", "sha256", "size", "captured_at", "content", "kind", "source", "query", "imported",
    "media_type", "recorded_at", "filename", "note", "text",
)  # fmt: skip


def _changed_evidence_columns(columns: dict, audited: dict) -> list[str]:
    """The evidence columns that differ from what the audit chain recorded when the item
    was stored. Items stored by older versions recorded fewer columns: only those that
    were recorded are compared (sha256 and capture time are reported on their own)."""
    changed = []
    for name in ("kind", "size", "source", "query", "media_type", "recorded_at", "filename"):
        if name in audited and audited[name] != columns[name]:
            changed.append(name)
    if "note" in audited and audited["note"] != columns["note"]:
        changed.append("note")
    if "imported" in audited and columns["imported"] != int(bool(audited["imported"])):
        changed.append("imported")
    if "text_sha256" in audited and audited["text_sha256"] != text_sha256(columns["text"]):
        changed.append("search text")
    return changed


def _payload(text: object) -> dict | None:
    """A JSON object stored as text, or None when what is there is not one (a payload or
    an attrs column edited behind the app's back must be reported, not crash verify)."""
    try:
        data = json.loads(text)  # type: ignore[arg-type]
    except (TypeError, ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


# The columns of each kind of record whose every value the audit chain holds: what the
# create step recorded, plus what later update steps changed.
_REPLAYED = {
    "case": ("cases", ("title", "status", "investigator", "summary")),
    "entity": ("entities", ("kind", "key", "value", "attrs")),
    "link": ("links", ("src_id", "type", "dst_id", "label", "confidence")),
    "event": ("events", ("case_id", "at", "kind", "text", "deadline", "outcome")),
}


def _changed_rows(db: Database) -> Iterator[str]:
    """Rows whose values differ from what the audit chain says they hold, or that the
    chain saw created and that are gone: a case title, an entity's value or attributes,
    a link's ends, an event's text changed or deleted behind the workbench's back.

    One table at a time: its create and update records replayed subject by subject (in id
    order) beside its rows read in id order; only one subject's values are held at once.
    """
    for subject, (table, columns) in _REPLAYED.items():
        replayed = _replayed(db, subject, columns)
        pending = next(replayed, None)
        for row in db.execute(f"SELECT id, {', '.join(columns)} FROM {table} ORDER BY id"):
            while pending is not None and _before(pending[0], row[0]):
                yield f"{subject} {pending[0]}: {_MISSING}"
                pending = next(replayed, None)
            if pending is None or pending[0] != row[0]:
                continue  # never recorded: named by the check for unaudited rows
            stored = dict(zip(columns, row[1:], strict=True))
            if subject == "entity":
                stored["attrs"] = _payload(stored["attrs"])  # None (so differing) if not JSON
            changed = [c for c in columns if stored[c] != pending[1][c]]
            if changed:
                yield (
                    f"{subject} {row[0]}: {', '.join(changed)} differ from the audit chain "
                    "(changed behind the workbench's back)"
                )
            pending = next(replayed, None)
        while pending is not None:
            yield f"{subject} {pending[0]}: {_MISSING}"
            pending = next(replayed, None)


def _replayed(db: Database, subject: str, columns: tuple[str, ...]) -> Iterator[tuple[int, dict]]:
    """(id, the values the chain says it holds) of each `subject` the chain saw created
    (with a payload that still parses), by id: its create record, then its updates."""
    for subject_id, records in _audited(db, (f"{subject}.create", f"{subject}.update")):
        expected = None
        for action, data in records:
            if data is None:
                continue  # altered: verify_chain names the row
            if action.endswith(".create"):
                expected = {c: data.get(c) for c in columns}
            elif expected is not None:
                if subject == "entity":
                    expected["attrs"] = {**(expected["attrs"] or {}), **data.get("attrs", {})}
                else:
                    expected.update({c: data[c] for c in columns if c in data})
        if expected is not None:
            yield subject_id, expected
