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
    report = VerifyReport()
    report.checked_audit_rows = db.execute("SELECT count(*) FROM audit").fetchone()[0]
    report.problems.extend(problem.message for problem in verify_chain(db))
    # A payload that no longer parses was altered: verify_chain has named its row, and it
    # says nothing about the item (reported below as not in the chain, if nothing else).
    recorded = {
        subject_id: data
        for subject_id, payload in db.execute(
            "SELECT subject_id, payload FROM audit WHERE action = 'evidence.create'"
        )
        if (data := _payload(payload)) is not None
    }
    for row in db.execute(f"SELECT {', '.join(_EVIDENCE_COLUMNS)} FROM evidence ORDER BY id"):
        columns = dict(zip(_EVIDENCE_COLUMNS, row, strict=True))
        evidence_id, stored_hash, size = columns["id"], columns["sha256"], columns["size"]
        captured_at, content = columns["captured_at"], columns["content"]
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
        changed = _changed_evidence_columns(columns, audited)
        if changed:
            report.problems.append(
                f"evidence {evidence_id}: {', '.join(changed)} differ from the audit chain "
                "(changed behind the workbench's back)"
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
        data = _payload(payload)
        if data is None:
            continue  # altered: verify_chain names the row
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
        for (kind, row_id), recorded in sorted(expected.items(), key=lambda i: repr(i[0])):
            if kind != subject:
                continue
            row = stored.get(row_id)
            if row is None:
                problems.append(
                    f"{subject} {row_id}: recorded in the audit chain but missing from the store"
                )
                continue
            if subject == "entity":
                row["attrs"] = _payload(row["attrs"])  # None (so differing) if not JSON
            changed = [c for c in columns if row[c] != recorded[c]]
            if changed:
                problems.append(
                    f"{subject} {row_id}: {', '.join(changed)} differ from the audit chain "
                    "(changed behind the workbench's back)"
                )
    return problems
