"""Links: typed edges between entities, each belonging to cases and resting on evidence."""

from __future__ import annotations

from collections.abc import Iterable

from sqlite_utils import Database

from workbench.domain.errors import InvalidInput, NotFound
from workbench.domain.kinds import LinkType
from workbench.domain.model import Link
from workbench.domain.normalise import display_name
from workbench.domain.times import to_iso, utc_now
from workbench.store import audit
from workbench.store.cases import require_case, touch_case
from workbench.store.entities import add_to_case, require_entity
from workbench.store.evidence import attach_to_case, require_evidence

_COLUMNS = "id, src_id, type, dst_id, label, confidence, created_at"


def parse_link_type(text: str) -> tuple[LinkType, str]:
    """A known link type, or a free-form one kept as `related` with its label."""
    raw = (text or "").strip()
    if not raw:
        raise InvalidInput("link type", text, "is empty")
    try:
        return LinkType(raw.lower()), ""
    except ValueError:
        pass
    label = display_name(raw, "link type")
    if len(label) > 80:
        raise InvalidInput("link type", text, "is longer than 80 characters")
    return LinkType.RELATED, label


def _with_refs(db: Database, link: Link) -> Link:
    link.case_ids = [
        r[0]
        for r in db.execute(
            "SELECT case_id FROM link_cases WHERE link_id = ? ORDER BY case_id", [link.id]
        )
    ]
    link.evidence_ids = [
        r[0]
        for r in db.execute(
            "SELECT evidence_id FROM link_evidence WHERE link_id = ? ORDER BY evidence_id",
            [link.id],
        )
    ]
    return link


def _with_refs_many(db: Database, links: list[Link]) -> list[Link]:
    """`_with_refs` for many links at once: two queries per 500 links instead of two per
    link (a hub's pivot or a big case holds thousands)."""
    by_id = {link.id: link for link in links}
    ids = list(by_id)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        for link_id, case_id in db.execute(
            f"SELECT link_id, case_id FROM link_cases WHERE link_id IN ({marks}) "
            "ORDER BY link_id, case_id",
            chunk,
        ):
            by_id[link_id].case_ids.append(case_id)
        for link_id, evidence_id in db.execute(
            f"SELECT link_id, evidence_id FROM link_evidence WHERE link_id IN ({marks}) "
            "ORDER BY link_id, evidence_id",
            chunk,
        ):
            by_id[link_id].evidence_ids.append(evidence_id)
    return links


def get_link(db: Database, link_id: int) -> Link:
    row = db.execute(f"SELECT {_COLUMNS} FROM links WHERE id = ?", [link_id]).fetchone()
    if row is None:
        raise NotFound("link", link_id)
    return _with_refs(db, Link(*row))


def ensure_link(
    db: Database,
    src_id: int,
    link_type: LinkType | str,
    dst_id: int,
    *,
    case_id: int | None = None,
    evidence_ids: Iterable[int] = (),
    confidence: float = 1.0,
    label: str = "",
) -> Link:
    """The link `src --type--> dst`, created if new; adds the case and evidence to it.

    Both ends and the evidence join the case too: a link in a case whose ends or evidence
    are not in it would be invisible in (or cite what is missing from) the case's views.
    """
    link_id = ensure_link_id(
        db,
        src_id,
        link_type,
        dst_id,
        case_id=case_id,
        evidence_ids=evidence_ids,
        confidence=confidence,
        label=label,
    )
    return get_link(db, link_id)


def ensure_link_id(
    db: Database,
    src_id: int,
    link_type: LinkType | str,
    dst_id: int,
    *,
    case_id: int | None = None,
    evidence_ids: Iterable[int] = (),
    confidence: float = 1.0,
    label: str = "",
) -> int:
    """`ensure_link` returning only the link's id: what bulk recording needs, without
    reading the link, its cases and its evidence back."""
    if isinstance(link_type, str) and not isinstance(link_type, LinkType):
        link_type, parsed_label = parse_link_type(link_type)
        label = label or parsed_label
    if not 0.0 <= float(confidence) <= 1.0:
        raise InvalidInput("confidence", confidence, "must be between 0 and 1")
    if src_id == dst_id:
        raise InvalidInput("link", f"{src_id} -> {dst_id}", "cannot link an entity to itself")
    require_entity(db, src_id)
    require_entity(db, dst_id)
    evidence_ids = list(evidence_ids)
    for evidence_id in evidence_ids:
        require_evidence(db, evidence_id)
    if case_id is not None:
        require_case(db, case_id)
    row = db.execute(
        "SELECT id FROM links WHERE src_id = ? AND type = ? AND dst_id = ? AND label = ?",
        [src_id, link_type.value, dst_id, label],
    ).fetchone()
    if row is None:
        cursor = db.execute(
            "INSERT INTO links (src_id, type, dst_id, label, confidence, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [src_id, link_type.value, dst_id, label, float(confidence), to_iso(utc_now())],
        )
        link_id = cursor.lastrowid
        audit.record(
            db,
            "link.create",
            "link",
            link_id,
            {
                "src_id": src_id,
                "type": link_type.value,
                "dst_id": dst_id,
                "label": label,
                "confidence": float(confidence),
            },
        )
    else:
        link_id = row[0]
    for evidence_id in evidence_ids:
        cursor = db.execute(
            "INSERT OR IGNORE INTO link_evidence (link_id, evidence_id) VALUES (?, ?)",
            [link_id, evidence_id],
        )
        if cursor.rowcount:
            audit.record(db, "link.add_evidence", "link", link_id, {"evidence_id": evidence_id})
    if case_id is not None:
        cursor = db.execute(
            "INSERT OR IGNORE INTO link_cases (link_id, case_id) VALUES (?, ?)", [link_id, case_id]
        )
        if cursor.rowcount:
            audit.record(db, "link.add_case", "link", link_id, {"case_id": case_id})
            touch_case(db, case_id)
        add_to_case(db, case_id, src_id)
        add_to_case(db, case_id, dst_id)
        for evidence_id in evidence_ids:
            attach_to_case(db, case_id, evidence_id)
    return link_id


def entity_links(db: Database, entity_id: int) -> list[Link]:
    """Every link into or out of an entity, across all cases."""
    rows = db.execute(
        f"SELECT {_COLUMNS} FROM links WHERE src_id = ? "
        f"UNION SELECT {_COLUMNS} FROM links WHERE dst_id = ? ORDER BY id",
        [entity_id, entity_id],
    ).fetchall()
    return _with_refs_many(db, [Link(*row) for row in rows])


def case_links(db: Database, case_id: int) -> list[Link]:
    rows = db.execute(
        f"SELECT {', '.join('l.' + c.strip() for c in _COLUMNS.split(','))} "
        "FROM link_cases lc JOIN links l ON l.id = lc.link_id WHERE lc.case_id = ? "
        "ORDER BY l.id",
        [case_id],
    ).fetchall()
    return _with_refs_many(db, [Link(*row) for row in rows])
