"""Full-text search over entities, events and evidence (FTS5, diacritics folded)."""

from __future__ import annotations

from typing import Any

from sqlite_utils import Database

from workbench.domain.errors import InvalidInput

_SOURCES = (
    # (result type, FTS table, content table, what to show as the title)
    ("entity", "entities_fts", "entities", "c.kind || ': ' || c.value"),
    ("event", "events_fts", "events", "c.kind || ' on case ' || c.case_id"),
    (
        "evidence",
        "evidence_fts",
        "evidence",
        "c.kind || ' ' || ifnull(c.query, ifnull(c.filename, '#' || c.id))",
    ),
)


def search(db: Database, query: str, *, limit: int = 50) -> list[dict[str, Any]]:
    """Results for `query` across the store, best first within each type.

    The query is taken as words to find (all of them), never as FTS syntax: user input is
    quoted with `quote_fts`, so `"`, `*` or `NEAR` in it cannot break or widen the search.
    """
    text = (query or "").strip()
    if not text:
        raise InvalidInput("search query", query, "is empty")
    if len(text) > 500:
        raise InvalidInput("search query", query, "is longer than 500 characters")
    if any("\ud800" <= ch <= "\udfff" for ch in text):
        raise InvalidInput("search query", query, "contains invalid Unicode (lone surrogates)")
    quoted = db.quote_fts(text)
    if not quoted.strip():
        return []  # only quote marks: nothing to look for (and "" is an FTS syntax error)
    results: list[dict[str, Any]] = []
    for result_type, fts, table, title in _SOURCES:
        rows = db.execute(
            f"SELECT c.id, {title}, snippet({fts}, -1, '[', ']', ' … ', 12), {fts}.rank "
            f"FROM {fts} JOIN {table} c ON c.rowid = {fts}.rowid "
            f"WHERE {fts} MATCH ? ORDER BY {fts}.rank LIMIT ?",
            [quoted, limit],
        ).fetchall()
        results.extend(
            {"type": result_type, "id": row[0], "title": row[1], "snippet": row[2], "rank": row[3]}
            for row in rows
        )
    return results
