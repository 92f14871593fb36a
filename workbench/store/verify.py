"""`verify`: prove that nothing in a store changed behind the workbench's back.

Checks that every evidence item still hashes to its SHA-256, that the SHA-256 is the one
the audit chain recorded when the item was stored, that the audit chain itself is intact,
that every case, entity, link and event still holds what the chain says it does, and that
no case, entity, link, event or evidence row exists that the chain never saw.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

from sqlite_utils import Database

from workbench.store.audit import verify_chain


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
    report = VerifyReport()
    report.checked_audit_rows = db.execute("SELECT count(*) FROM audit").fetchone()[0]
    report.problems.extend(problem.message for problem in verify_chain(db))
    recorded = {
        subject_id: json.loads(payload)
        for subject_id, payload in db.execute(
            "SELECT subject_id, payload FROM audit WHERE action = 'evidence.create'"
        )
    }
    for evidence_id, stored_hash, size, captured_at, content in db.execute(
        "SELECT id, sha256, size, captured_at, content FROM evidence ORDER BY id"
    ):
        report.checked_evidence += 1
        if not isinstance(content, bytes):
            # Rewritten as TEXT (or a number) behind the app's back: hash what is there now.
            report.problems.append(
                f"evidence {evidence_id}: content is no longer stored as bytes (it was rewritten)"
            )
            content = b"" if content is None else str(content).encode("utf-8", "surrogatepass")
        actual = hashlib.sha256(content).hexdigest()
        if actual != stored_hash:
            report.problems.append(
                f"evidence {evidence_id}: content does not match its SHA-256 "
                f"(stored {stored_hash[:16]}..., content hashes to {actual[:16]}...)"
            )
        if len(content) != size:
            report.problems.append(
                f"evidence {evidence_id}: size {len(content)} bytes, recorded {size}"
            )
        audited = recorded.pop(evidence_id, None)
        if audited is None:
            continue  # reported below as a row the chain never saw
        if audited.get("sha256") != stored_hash:
            report.problems.append(
                f"evidence {evidence_id}: SHA-256 differs from the one "
                "recorded in the audit chain when it was stored"
            )
        if audited.get("captured_at") != captured_at:
            report.problems.append(
                f"evidence {evidence_id}: capture time differs from the audit chain's record"
            )
    for missing in sorted(recorded):
        report.problems.append(
            f"evidence {missing}: recorded in the audit chain but missing from the store"
        )
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


# The columns of each kind of record whose every value the audit chain holds: what the
# create step recorded, plus what later update steps changed.
_REPLAYED = {
    "case": ("cases", ("title", "status", "investigator", "summary")),
    "entity": ("entities", ("kind", "key", "value", "attrs")),
    "link": ("links", ("src_id", "type", "dst_id", "label", "confidence")),
    "event": ("events", ("case_id", "at", "kind", "text", "deadline", "outcome")),
}


def _changed_rows(db: Database) -> list[str]:
    """Rows whose values differ from what the audit chain says they hold, or that the
    chain saw created and that are gone: a case title, an entity's value or attributes,
    a link's ends, an event's text changed or deleted behind the workbench's back."""
    expected: dict[tuple[str, int], dict] = {}
    for action, subject_id, payload in db.execute(
        "SELECT action, subject_id, payload FROM audit ORDER BY id"
    ):
        subject, _, verb = action.partition(".")
        if subject not in _REPLAYED:
            continue
        data = json.loads(payload)
        columns = _REPLAYED[subject][1]
        if verb == "create":
            expected[(subject, subject_id)] = {c: data.get(c) for c in columns}
        elif (subject, subject_id) in expected and verb == "update":
            recorded = expected[(subject, subject_id)]
            if subject == "entity":
                recorded["attrs"] = {**(recorded["attrs"] or {}), **data.get("attrs", {})}
            else:
                recorded.update({c: data[c] for c in columns if c in data})
    problems = []
    for subject, (table, columns) in _REPLAYED.items():
        stored = {
            row[0]: dict(zip(columns, row[1:], strict=True))
            for row in db.execute(f"SELECT id, {', '.join(columns)} FROM {table}")
        }
        for (kind, row_id), recorded in sorted(expected.items()):
            if kind != subject:
                continue
            row = stored.get(row_id)
            if row is None:
                problems.append(
                    f"{subject} {row_id}: recorded in the audit chain but missing from the store"
                )
                continue
            if subject == "entity":
                row["attrs"] = json.loads(row["attrs"])
            changed = [c for c in columns if row[c] != recorded[c]]
            if changed:
                problems.append(
                    f"{subject} {row_id}: {', '.join(changed)} differ from the audit chain "
                    "(changed behind the workbench's back)"
                )
    return problems
