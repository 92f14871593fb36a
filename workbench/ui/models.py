"""Qt table models over the store: cases, a case's entities (one kind or all), its
timeline, its evidence, and the live status rows of a lookup run.

The entity and timeline models are windows on the store (`_PagedTable`): they know how
many rows there are and hold only the pages a view asked for lately, read with keyset or
offset queries, so a case of a million entities opens, scrolls and sorts (in SQL, over
the whole table) without ever holding all its rows. Every cell is plain text: views never
interpret it as HTML.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QFont
from sqlite_utils import Database

from workbench.domain.model import Entity, Evidence
from workbench.services import ui_queries
from workbench.store.cases import list_cases
from workbench.ui.icons import kind_icon, kind_name
from workbench.ui.widgets import (
    STATUS_NAMES,
    human_size,
    overdue_background,
    short_time,
    status_colour,
    warning_colour,
)

DisplayRole = Qt.ItemDataRole.DisplayRole
ROLE_ID = Qt.ItemDataRole.UserRole + 1  # the row's record id (case, entity, event...)
ROLE_KIND = Qt.ItemDataRole.UserRole + 2
ROLE_SORT = Qt.ItemDataRole.UserRole + 3
_ROOT = QModelIndex()
_Role = Qt.ItemDataRole
# The roles each model answers. A view asks every cell for some ten roles per paint; the
# others are turned away before any row is looked up (a table paint costs half as much).
_ENTITY_ROLES = frozenset(
    {DisplayRole, _Role.DecorationRole, _Role.ForegroundRole, ROLE_ID, ROLE_KIND, ROLE_SORT}
)
_TIMELINE_ROLES = frozenset(
    {
        DisplayRole,
        _Role.BackgroundRole,
        _Role.ForegroundRole,
        _Role.FontRole,
        _Role.ToolTipRole,
        ROLE_ID,
        ROLE_KIND,
    }
)
_LOOKUP_ROLES = frozenset({DisplayRole, _Role.ForegroundRole, _Role.DecorationRole, ROLE_ID})


class _Table(QAbstractTableModel):
    HEADERS: tuple[str, ...] = ()

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = _ROOT) -> int:
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(self, section, orientation, role=DisplayRole):
        if role == DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.HEADERS[section]
        return None


# --- cases ----------------------------------------------------------------------------


class CaseListModel(_Table):
    """Every case with status, counts and last change (most recently changed first)."""

    HEADERS = ("Case", "Status", "Investigator", "Entities", "Evidence", "Events", "Last change")

    def __init__(self, parent=None):
        super().__init__(parent)
        self._rows: list[dict] = []

    def reload(self, db: Database, include_archived: bool = False) -> None:
        self.beginResetModel()
        self._rows = list_cases(db, include_archived=include_archived)
        self.endResetModel()

    def rowCount(self, parent=_ROOT) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: QModelIndex, role=DisplayRole):
        if not index.isValid():
            return None
        row = self._rows[index.row()]
        column = index.column()
        if role in (DisplayRole, ROLE_SORT):
            counts = row["counts"]
            values = (
                row["title"],
                row["status"] + (" (archived)" if row["archived_at"] else ""),
                row["investigator"] or "",
                counts["entities"],
                counts["evidence"],
                counts["events"],
                short_time(row["updated_at"]) if role == DisplayRole else row["updated_at"],
            )
            return values[column]
        if role == ROLE_ID:
            return row["id"]
        if role == Qt.ItemDataRole.TextAlignmentRole and 3 <= column <= 5:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.FontRole and row["archived_at"]:
            font = QFont()
            font.setItalic(True)
            return font
        return None

    def case_row(self, row: int) -> dict:
        return self._rows[row]

    def row_of(self, case_id: int) -> int | None:
        for number, row in enumerate(self._rows):
            if row["id"] == case_id:
                return number
        return None


# --- entities -------------------------------------------------------------------------


def attribute_summary(entity: Entity) -> str:
    """The attributes of an entity in one line, for a table cell."""
    parts = []
    for name, value in sorted(entity.attrs.items()):
        if name in ("licence_claim", "market_notes", "note"):
            continue
        if isinstance(value, list):
            if value and isinstance(value[0], dict):  # prices
                value = ", ".join(
                    f"{v.get('amount')} {v.get('currency')}/{v.get('unit')}" for v in value
                )
            else:
                value = ", ".join(str(v) for v in value)
        text = str(value)
        if len(text) > 60:
            text = text[:57] + "…"
        parts.append(f"{name.replace('_', ' ')}: {text}")
    return "; ".join(parts)


# runs fn(db) off the main thread, then on_done(result) on it (TaskRunner.read)
Reader = Callable[[Callable[[Database], Any], Callable[[Any], None]], None]


class _PagedTable(_Table):
    """A table of any length that holds only the pages a view has asked for lately.

    `rowCount` is the whole table (the scroll bar is true from the start), and a row's
    page is read when a view first asks for one of its cells: after the page before it
    when that one is held (keyset: the same cost at any depth), before the page after it
    when scrolling up, else at its offset (a jump). At most KEEP pages are held, the least
    recently used dropped first, so scrolling through a million rows keeps a few thousand.

    A read that is not quick (`_cheap`: by default a jump deeper than ASYNC_FROM rows,
    where SQLite steps over every row before it) is done on the reader thread when the
    model has one (`reader`): its rows show "…" for the moment it takes, the window keeps
    answering, and a page scrolled past before its turn is not read at all.

    Subclasses say how many rows there are (`_count`) and how to read a page
    (`_reading`: a function of a connection, so it can run on any thread); a page is a
    list of (cursor, row), the cursor being what the next read needs to go on from a row
    (None: this table pages by offset only)."""

    PAGE = 200
    KEEP = 32
    ASYNC_FROM = 20_000

    def __init__(self, db: Database, reader: Reader | None = None, parent=None):
        super().__init__(parent)
        self.db = db
        self.reader = reader
        self._total = 0
        self._pages: OrderedDict[int, list[tuple[Any, Any]]] = OrderedDict()
        self._last: tuple[int, list[tuple[Any, Any]]] = (-1, [])
        self._pending: set[int] = set()
        # The reader thread's latest pages, by (generation, page number).
        self._fresh: dict[tuple[int, int], list[tuple[Any, Any]]] = {}
        self._generation = 0  # bumped by a reset: pages of an older query are dropped
        self.pages_read = 0  # for the benchmark and tests: how many queries ran

    def _count(self) -> int:
        raise NotImplementedError

    def _reading(
        self, *, after: Any, before: Any, offset: int, limit: int
    ) -> Callable[[Database], list[tuple[Any, Any]]]:
        raise NotImplementedError

    def reset(self) -> None:
        """Count the rows again and forget every page (the next paint reads what it shows)."""
        self.beginResetModel()
        self._clear()
        self._total = self._count()
        self.endResetModel()

    def _clear(self) -> None:
        """Forget every page; reads still under way are dropped when they come."""
        self._generation += 1
        self._pages.clear()
        self._pending.clear()
        self._last = (-1, [])

    @property
    def total(self) -> int:
        return self._total

    @property
    def held(self) -> int:
        """How many rows are in memory now."""
        return sum(len(page) for page in self._pages.values())

    @property
    def waiting(self) -> bool:
        """Whether a page is being read off the main thread."""
        return bool(self._pending)

    def rowCount(self, parent=_ROOT) -> int:
        return 0 if parent.isValid() else self._total

    def row_item(self, row: int) -> Any:
        """The row's record (reading its page if it is not held), or None while its page
        is being read off the main thread."""
        number, within = divmod(row, self.PAGE)
        if number == self._last[0]:  # a paint asks for the same page some hundred times
            page = self._last[1]
        else:
            page = self._page(number)
            if page is None:
                return None
            self._last = (number, page)
        if within >= len(page):
            raise IndexError(f"row {row} is beyond the table's {self._total} rows")
        return page[within][1]

    def _page(self, number: int) -> list[tuple[Any, Any]] | None:
        page = self._pages.get(number)
        if page is not None:
            self._pages.move_to_end(number)
            return page
        previous, following = self._pages.get(number - 1), self._pages.get(number + 1)
        after = previous[-1][0] if previous and len(previous) == self.PAGE else None
        before = following[0][0] if following and after is None else None
        offset = 0 if after is not None or before is not None else number * self.PAGE
        read = self._reading(after=after, before=before, offset=offset, limit=self.PAGE)
        if self.reader is not None and not self._cheap(after, before, offset):
            self._read_later(number, read)
            return None
        page = read(self.db)
        self.pages_read += 1
        self._keep(number, page)
        return page

    def _cheap(self, after: Any, before: Any, offset: int) -> bool:
        """Whether a read is quick enough for the main thread: a page found from its
        neighbour, or not deep."""
        return after is not None or before is not None or offset < self.ASYNC_FROM

    def _keep(self, number: int, page: list[tuple[Any, Any]]) -> None:
        self._pages[number] = page
        while len(self._pages) > self.KEEP:
            self._pages.popitem(last=False)

    def _read_later(self, number: int, read: Callable) -> None:
        if number in self._pending:
            return
        # Pages far from this one were scrolled past: their reads, still queued, are
        # skipped (see `wanted`).
        self._pending = {n for n in self._pending if abs(n - number) <= 2} | {number}
        generation = self._generation

        def wanted(db: Database):  # on the reader thread
            if generation != self._generation or number not in self._pending:
                return None
            # A neighbour read just before (the two pages a jump shows) makes this a
            # keyset read, the same cost at any depth, instead of a second jump.
            previous = self._fresh.get((generation, number - 1))
            following = self._fresh.get((generation, number + 1))
            if previous and len(previous) == self.PAGE:
                cursors = {"after": previous[-1][0], "before": None}
            elif following:
                cursors = {"after": None, "before": following[0][0]}
            else:
                cursors = None
            if cursors is None:
                page = read(db)
            else:
                page = self._reading(**cursors, offset=0, limit=self.PAGE)(db)
            self._fresh[(generation, number)] = page  # keyed by query: never mixed up
            while len(self._fresh) > 4:
                self._fresh.pop(next(iter(self._fresh)))
            return page

        self.reader(wanted, lambda page: self._arrived(generation, number, page))

    def _arrived(self, generation: int, number: int, page: list | None) -> None:
        if page is None or generation != self._generation or number not in self._pending:
            return
        self._pending.discard(number)
        self.pages_read += 1
        self._keep(number, page)
        if page:
            first = number * self.PAGE
            last = min(first + len(page), self._total) - 1
            self.dataChanged.emit(self.index(first, 0), self.index(last, self.columnCount() - 1))

    def _forget_pages(self) -> None:
        """Rows may have changed: read what is shown again (only when next painted)."""
        self._clear()
        if self._total:
            self.dataChanged.emit(
                self.index(0, 0), self.index(self._total - 1, self.columnCount() - 1)
            )


class EntityTableModel(_PagedTable):
    """A case's entities (of one kind, or all; filtered by text) in any column's order,
    sorted by the store over the whole table (`sort`), read a page at a time."""

    HEADERS = ("Name", "Kind", "Details", "Updated")
    ORDERS = ("name", "kind", "details", "updated")  # by column; "id": the order added

    counted = Signal()  # a count made off the main thread came in

    def __init__(
        self,
        db: Database,
        case_id: int,
        kind: str | None = None,
        parent=None,
        *,
        reader: Reader | None = None,
    ):
        super().__init__(db, reader, parent)
        self.query = ui_queries.EntityQuery(case_id, kind)
        self.counting = False  # a filtered count is being made off the main thread
        self._largest = 0  # the most rows this table has had unfiltered: is it large?
        self.reset()

    def reset(self) -> None:
        """As `_PagedTable.reset`; but a text filter on a large table is counted on the
        reader thread (SQLite reads every row to count the matches): the table shows no
        rows until the count comes, and the window keeps answering meanwhile."""
        if self.reader is None or not self.query.text or self._largest < self.ASYNC_FROM:
            self.counting = False
            super().reset()
            if not self.query.text:
                self._largest = max(self._largest, self._total)
            return
        self.beginResetModel()
        self._clear()
        self._total = 0
        self.counting = True
        self.endResetModel()
        generation, query = self._generation, self.query
        self.reader(
            lambda db: ui_queries.count_entities(db, query),
            lambda total: self._counted(generation, total),
        )

    def _counted(self, generation: int, total: int) -> None:
        if generation != self._generation:
            return
        self.counting = False
        if total:
            self.beginInsertRows(_ROOT, 0, total - 1)
            self._total = total
            self.endInsertRows()
        self.counted.emit()

    @property
    def case_id(self) -> int:
        return self.query.case_id

    @property
    def kind(self) -> str | None:
        return self.query.kind

    def set_query(self, **changes: Any) -> None:
        """Show other rows or another order: kind, order, descending, text."""
        query = replace(self.query, **changes)
        if query != self.query:
            self.query = query
            self.reset()

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Called by the view when a header is clicked: the store sorts the whole table
        (column -1: the order the entities were added in)."""
        self.set_query(
            order=self.ORDERS[column] if 0 <= column < len(self.ORDERS) else "id",
            descending=order == Qt.SortOrder.DescendingOrder,
        )

    def _count(self) -> int:
        return ui_queries.count_entities(self.db, self.query)

    def _cheap(self, after: Any, before: Any, offset: int) -> bool:
        """In a large table only pages in the order added come at once (the case's own
        index walks them); any other order or a text filter makes SQLite read the whole
        table for a page unless an index serves that order, so those go to the reader
        thread."""
        if self._total < self.ASYNC_FROM:
            return True
        if self.query.order != "id" or self.query.text:
            return False
        return super()._cheap(after, before, offset)

    def _reading(self, *, after, before, offset: int, limit: int):
        query = self.query  # as it is now: the read may run later, on another thread
        return lambda db: ui_queries.entity_rows(
            db, query, after=after, before=before, offset=offset, limit=limit
        )

    def refresh(self) -> None:
        """Show what was stored since. In the order added, new entities are appended as
        rows (the view keeps its place and selection); in another order they land
        anywhere, so the table is read again."""
        if self.query.text and self.reader is not None and self._largest >= self.ASYNC_FROM:
            self.reset()  # counted off the main thread
            return
        total = self._count()
        appended = self.query.order == "id" and not self.query.descending
        if appended and total > self._total:
            self.beginInsertRows(_ROOT, self._total, total - 1)
            self._total = total
            self.endInsertRows()
        elif total != self._total:
            self.reset()
            return
        self._forget_pages()  # an entity seen before may have new attributes

    def entity(self, row: int) -> Entity:
        return self.row_item(row)

    def position_of(self, entity_id: int) -> int | None:
        """The row of an entity in this table, or None (found by the store, not by reading
        the rows before it)."""
        return ui_queries.entity_position(self.db, self.query, entity_id)

    def data(self, index: QModelIndex, role=DisplayRole):
        if role not in _ENTITY_ROLES or not index.isValid():
            return None
        entity = self.row_item(index.row())
        column = index.column()
        if entity is None:  # its page is on its way
            return "…" if role == DisplayRole and column == 0 else None
        if role in (DisplayRole, ROLE_SORT):
            if column == 0:
                return entity.value
            if column == 1:
                return kind_name(entity.kind)
            if column == 2:
                return attribute_summary(entity)
            return short_time(entity.updated_at) if role == DisplayRole else entity.updated_at
        if role == Qt.ItemDataRole.DecorationRole and column == 0:
            return kind_icon(entity.kind)
        if role == ROLE_ID:
            return entity.id
        if role == ROLE_KIND:
            return entity.kind
        if (
            role == Qt.ItemDataRole.ForegroundRole
            and column == 2
            and (
                entity.attrs.get("line_type") == "fax"
                or entity.attrs.get("recognised_by_labels") == "no"
            )
        ):
            return warning_colour()
        return None


# --- timeline -------------------------------------------------------------------------


class TimelineModel(_PagedTable):
    """A case's events and lookups in time order, a page at a time; overdue deadlines
    (passed, with no outcome recorded) are highlighted."""

    HEADERS = ("When", "Kind", "What", "Deadline", "Outcome")
    PAGE = 300

    def __init__(self, db: Database, case_id: int, parent=None):
        super().__init__(db, None, parent)  # events are few per case: read at once
        self.case_id = case_id
        self.kinds: list[str] | None = None
        self.reset()

    def set_kinds(self, kinds: list[str] | None) -> None:
        self.kinds = kinds
        self.reset()

    def _count(self) -> int:
        return ui_queries.timeline_count(self.db, self.case_id, kinds=self.kinds)

    def _reading(self, *, after, before, offset: int, limit: int):
        case_id, kinds = self.case_id, self.kinds

        def read(db: Database) -> list[tuple[None, dict[str, Any]]]:
            page = ui_queries.timeline_page(db, case_id, kinds=kinds, offset=offset, limit=limit)
            return [(None, item) for item in page]  # by offset: events are few per case

        return read

    def row_data(self, row: int) -> dict[str, Any]:
        return self.row_item(row)

    def data(self, index: QModelIndex, role=DisplayRole):
        if role not in _TIMELINE_ROLES or not index.isValid():
            return None
        item = self.row_item(index.row())
        column = index.column()
        if role == DisplayRole:
            if column == 0:
                return short_time(item["at"])
            if column == 1:
                return item["kind"].replace("_", " ")
            if column == 2:
                return item["text"].replace("\n", " ")
            if column == 3:
                if not item["deadline"]:
                    return ""
                return short_time(item["deadline"]) + ("  OVERDUE" if item["overdue"] else "")
            return item["outcome"] or ""
        if role == Qt.ItemDataRole.BackgroundRole and item["overdue"]:
            return overdue_background()
        if role == Qt.ItemDataRole.ForegroundRole:
            if item["overdue"] and column == 3:
                return warning_colour()
            if item["source"] == "lookup" and column == 2:
                status = item["text"].rsplit(": ", 1)[-1].split(" ")[0]
                return status_colour(status) if status in STATUS_NAMES else None
        if role == Qt.ItemDataRole.FontRole and item["overdue"] and column == 3:
            font = QFont()
            font.setBold(True)
            return font
        if role == ROLE_ID:
            return item["id"]
        if role == ROLE_KIND:
            return item["source"]
        if role == Qt.ItemDataRole.ToolTipRole and item["overdue"] and column == 3:
            return "The deadline has passed and no outcome is recorded"
        return None

    def row_of_event(self, event_id: int) -> int | None:
        for number in range(self._total):
            row = self.row_item(number)
            if row["source"] == "event" and row["id"] == event_id:
                return number
        return None


# --- evidence -------------------------------------------------------------------------


class EvidenceListModel(_Table):
    HEADERS = ("Kind", "Query or file", "Source", "Captured", "Size", "SHA-256")

    def __init__(self, parent=None):
        super().__init__(parent)
        self._rows: list[Evidence] = []

    def set_items(self, items: list[Evidence]) -> None:
        self.beginResetModel()
        self._rows = list(items)
        self.endResetModel()

    def rowCount(self, parent=_ROOT) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def item(self, row: int) -> Evidence:
        return self._rows[row]

    def data(self, index: QModelIndex, role=DisplayRole):
        if not index.isValid():
            return None
        item = self._rows[index.row()]
        column = index.column()
        if role in (DisplayRole, ROLE_SORT):
            values = (
                item.kind.replace("_", " "),
                item.query or item.filename or f"#{item.id}",
                item.source or "",
                (short_time(item.captured_at) + (" (claimed)" if item.imported else ""))
                if role == DisplayRole
                else item.captured_at,
                human_size(item.size) if role == DisplayRole else item.size,
                item.sha256[:16] + "…" if role == DisplayRole else item.sha256,
            )
            return values[column]
        if role == ROLE_ID:
            return item.id
        return None


# --- lookup status rows ---------------------------------------------------------------

PROTOCOLS = ("whois", "rdap", "dns", "rdap_ip")


class LookupStatusModel(_Table):
    """One row per domain (or address) of a lookup run, a column per protocol, filled
    as the run stores each result."""

    HEADERS = ("Domain or address", "WHOIS", "RDAP", "DNS", "RDAP (address)", "Reason")

    def __init__(self, parent=None):
        super().__init__(parent)
        self._rows: list[dict[str, Any]] = []
        self._index: dict[int, int] = {}

    def clear(self) -> None:
        self.beginResetModel()
        self._rows = []
        self._index = {}
        self.endResetModel()

    def rowCount(self, parent=_ROOT) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def add_snapshots(self, snapshots: list[dict[str, Any]]) -> None:
        new_rows: list[dict[str, Any]] = []
        changed: set[int] = set()
        for snapshot in snapshots:
            position = self._index.get(snapshot["entity_id"])
            if position is None:
                row = {
                    "entity_id": snapshot["entity_id"],
                    "subject": snapshot["subject"],
                    "kind": snapshot["kind"],
                    "statuses": {},
                    "reasons": {},
                }
                self._index[snapshot["entity_id"]] = len(self._rows) + len(new_rows)
                new_rows.append(row)
            else:
                row = (
                    self._rows[position]
                    if position < len(self._rows)
                    else new_rows[position - len(self._rows)]
                )
                if position < len(self._rows):
                    changed.add(position)
            row["statuses"][snapshot["protocol"]] = snapshot["status"]
            if snapshot["reason"] and snapshot["status"] != "ok":
                row["reasons"][snapshot["protocol"]] = snapshot["reason"]
        if new_rows:
            start = len(self._rows)
            self.beginInsertRows(_ROOT, start, start + len(new_rows) - 1)
            self._rows.extend(new_rows)
            self.endInsertRows()
        if changed:
            self.dataChanged.emit(
                self.index(min(changed), 0), self.index(max(changed), len(self.HEADERS) - 1)
            )

    def row_data(self, row: int) -> dict[str, Any]:
        return self._rows[row]

    def status_of(self, subject: str, protocol: str) -> str | None:
        for row in self._rows:
            if row["subject"] == subject:
                return row["statuses"].get(protocol)
        return None

    def data(self, index: QModelIndex, role=DisplayRole):
        if role not in _LOOKUP_ROLES or not index.isValid():
            return None
        row = self._rows[index.row()]
        column = index.column()
        protocol = PROTOCOLS[column - 1] if 1 <= column <= 4 else None
        if role == DisplayRole:
            if column == 0:
                return row["subject"]
            if protocol:
                status = row["statuses"].get(protocol)
                return STATUS_NAMES.get(status, status) if status else ""
            # One reason shared by several lookups ("offline mode") is said once.
            by_reason: dict[str, list[str]] = {}
            for name, reason in row["reasons"].items():
                by_reason.setdefault(reason, []).append(name.upper().replace("_", " "))
            return "; ".join(f"{', '.join(names)}: {reason}" for reason, names in by_reason.items())
        if role == Qt.ItemDataRole.ForegroundRole and protocol:
            status = row["statuses"].get(protocol)
            return status_colour(status) if status else None
        if role == Qt.ItemDataRole.DecorationRole and column == 0:
            return kind_icon(row["kind"])
        if role == ROLE_ID:
            return row["entity_id"]
        return None
