"""`verify`: prove that nothing in a store changed behind the workbench's back.

Checks that every evidence item still hashes to its SHA-256, that the SHA-256 is the one
the audit chain recorded when the item was stored, that the audit chain itself is intact,
and that no case, entity, link, event or evidence row exists that the chain never saw.
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
