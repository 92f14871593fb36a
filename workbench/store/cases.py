"""Cases: create, read, list with counts, change status, archive."""

from __future__ import annotations

from sqlite_utils import Database

from workbench.domain.errors import InvalidInput, NotFound
from workbench.domain.kinds import CaseStatus
from workbench.domain.model import Case
from workbench.domain.normalise import clean_text, display_name
from workbench.domain.times import to_iso, utc_now
from workbench.store import audit
from workbench.store.database import before_commit, known_in_transaction

_COLUMNS = "id, title, status, investigator, summary, created_at, updated_at, archived_at"


def _case(row) -> Case:
    return Case(*row)


def create_case(
    db: Database,
    title: str,
    *,
    investigator: str | None = None,
    summary: str | None = None,
    status: CaseStatus = CaseStatus.OPEN,
) -> Case:
    title = display_name(title, "title")
    investigator = display_name(investigator, "investigator") if investigator else None
    summary = clean_text(summary, "summary") or None if summary else None
    now = to_iso(utc_now())
    cursor = db.execute(
        "INSERT INTO cases (title, status, investigator, summary, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [title, status.value, investigator, summary, now, now],
    )
    case = get_case(db, cursor.lastrowid)
    audit.record(db, "case.create", "case", case.id, case.as_dict())
    return case


def get_case(db: Database, case_id: int) -> Case:
    row = db.execute(f"SELECT {_COLUMNS} FROM cases WHERE id = ?", [case_id]).fetchone()
    if row is None:
        raise NotFound("case", case_id)
    return _case(row)


def get_cases(db: Database, case_ids: list[int]) -> dict[int, Case]:
    """The cases with these ids, by id (missing ids are left out)."""
    found: dict[int, Case] = {}
    for start in range(0, len(case_ids), 500):
        chunk = case_ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        for row in db.execute(f"SELECT {_COLUMNS} FROM cases WHERE id IN ({marks})", chunk):
            found[row[0]] = _case(row)
    return found


def list_cases(db: Database, *, include_archived: bool = False) -> list[dict]:
    """Every case with its counts and last change, most recently changed first."""
    where = "" if include_archived else "WHERE c.archived_at IS NULL"
    rows = db.execute(
        f"""
        SELECT c.id, c.title, c.status, c.investigator, c.summary, c.created_at,
               c.updated_at, c.archived_at,
               (SELECT count(*) FROM case_entities WHERE case_id = c.id),
               (SELECT count(*) FROM link_cases WHERE case_id = c.id),
               (SELECT count(*) FROM case_evidence WHERE case_id = c.id),
               (SELECT count(*) FROM events WHERE case_id = c.id)
        FROM cases c {where}
        ORDER BY c.updated_at DESC, c.id DESC
        """
    ).fetchall()
    result = []
    for row in rows:
        data = _case(row[:8]).as_dict()
        data["counts"] = dict(
            zip(("entities", "links", "evidence", "events"), row[8:], strict=True)
        )
        result.append(data)
    return result


def require_case(db: Database, case_id: int) -> None:
    """Raise NotFound unless the case exists.

    Inside `writing` a case found once is not asked for again in the same transaction
    (cases are archived, never deleted): a bulk run checks its case thousands of times.
    """
    known = known_in_transaction(db, "cases")
    if case_id in known:
        return
    get_case(db, case_id)
    known.add(case_id)


def touch_case(db: Database, case_id: int) -> None:
    """Mark a case as changed now (its list order and 'last change' follow).

    Inside `writing` the mark is made once, as the transaction commits, however many
    changes the transaction makes to the case.
    """
    require_case(db, case_id)

    def touch() -> None:
        db.execute("UPDATE cases SET updated_at = ? WHERE id = ?", [to_iso(utc_now()), case_id])

    if not before_commit(db, ("touch_case", case_id), touch):
        touch()


def update_case(db: Database, case_id: int, **changes: str | None) -> Case:
    """Change title, status, investigator or summary; each change is audited."""
    before = get_case(db, case_id)
    clean: dict[str, str | None] = {}
    for name, value in changes.items():
        if name == "title":
            clean[name] = display_name(value or "", "title")
        elif name == "status":
            try:
                clean[name] = CaseStatus(str(value).strip().lower()).value
            except ValueError:
                raise InvalidInput(
                    "status", value, "must be one of: open, referred, closed"
                ) from None
        elif name == "investigator":
            clean[name] = display_name(value, "investigator") if value else None
        elif name == "summary":
            clean[name] = clean_text(value, "summary") if value else None
        else:
            raise InvalidInput("case field", name, "is not a field that can be changed")
    clean = {k: v for k, v in clean.items() if getattr(before, k) != v}
    if not clean:
        return before
    clean["updated_at"] = to_iso(utc_now())
    assignments = ", ".join(f"{name} = ?" for name in clean)
    db.execute(f"UPDATE cases SET {assignments} WHERE id = ?", [*clean.values(), case_id])
    audit.record(db, "case.update", "case", case_id, clean)
    return get_case(db, case_id)


def set_archived(db: Database, case_id: int, archived: bool) -> Case:
    case = get_case(db, case_id)
    if bool(case.archived_at) == archived:
        return case
    now = to_iso(utc_now())
    db.execute(
        "UPDATE cases SET archived_at = ?, updated_at = ? WHERE id = ?",
        [now if archived else None, now, case_id],
    )
    audit.record(db, "case.archive" if archived else "case.unarchive", "case", case_id, {})
    return get_case(db, case_id)
