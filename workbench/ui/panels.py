"""The panels of a case workspace: entities by kind, timeline, evidence, lookups, and
"also seen in other cases"."""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import QSortFilterProxyModel, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableView,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from workbench.services import ui_queries
from workbench.store.evidence import case_evidence
from workbench.store.pivots import related_cases_page
from workbench.ui.dialogs import EVENT_KINDS
from workbench.ui.icons import action_icon, kind_icon, kind_name
from workbench.ui.models import (
    ROLE_ID,
    ROLE_KIND,
    ROLE_SORT,
    EntityTableModel,
    EvidenceListModel,
    LookupStatusModel,
    TimelineModel,
)
from workbench.ui.tasks import LookupProgress
from workbench.ui.widgets import duration, heading_label, plain_label, warning_colour


def _table(object_name: str) -> QTableView:
    view = QTableView()
    view.setObjectName(object_name)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setAlternatingRowColors(True)
    view.setWordWrap(False)
    view.verticalHeader().setVisible(False)
    view.verticalHeader().setDefaultSectionSize(view.fontMetrics().height() + 8)
    # Fixed row heights and column widths: "resize to contents" measures every row on each
    # change, which stalls the window once a table holds thousands of rows.
    view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    view.horizontalHeader().setHighlightSections(False)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setTextElideMode(Qt.TextElideMode.ElideRight)
    return view


def _columns(view: QTableView, widths: dict[int, int], stretch: int) -> None:
    header = view.horizontalHeader()
    for column, width in widths.items():
        header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(column, width)
    header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)


# --- entities -------------------------------------------------------------------------


class EntitiesPanel(QWidget):
    """Kinds on the left (with counts), a table of that kind sorted and filtered by the
    store over all its rows."""

    entity_selected = Signal(int)
    entity_activated = Signal(int)
    context_menu = Signal(object, list)  # QPoint (global), entity ids

    def __init__(self, window, case_id: int, parent=None):
        super().__init__(parent)
        self.window_ = window
        self.case_id = case_id
        self.kinds = QListWidget()
        self.kinds.setObjectName("entity_kinds")
        self.kinds.setMaximumWidth(230)
        self.kinds.currentItemChanged.connect(self._kind_changed)
        self.filter = QLineEdit()
        self.filter.setObjectName("entity_filter")
        self.filter.setPlaceholderText("Filter by name, kind or details (Ctrl+Shift+F)")
        self.filter.setClearButtonEnabled(True)
        focus_filter = QShortcut(QKeySequence("Ctrl+Shift+F"), self)
        focus_filter.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        focus_filter.activated.connect(self.filter.setFocus)
        self.count = plain_label("", object_name="entity_count")
        # No sort/filter proxy: a proxy sorts and filters only the rows it has seen, and
        # would read every row of a large case to do so. The model asks the store, which
        # sorts and filters the whole table (the view's header calls model.sort).
        self.model = EntityTableModel(window.db, case_id, None, self, reader=window.runner.read)
        self._case_total = 0  # the case's entities, all kinds, as last counted
        self.model.counted.connect(self._update_count)
        self._filter_timer = QTimer(self, singleShot=True, interval=250)
        self._filter_timer.timeout.connect(self._apply_filter)
        self.filter.textChanged.connect(lambda _text: self._filter_timer.start())
        self.table = _table("entity_table")
        self.table.setModel(self.model)
        # No column sorted at first (the order added): set before sorting is enabled,
        # which sorts by the indicator's column at once.
        self.table.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        self.table.setSortingEnabled(True)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._menu)
        _columns(self.table, {0: 260, 1: 130, 3: 160}, stretch=2)
        self.table.selectionModel().currentRowChanged.connect(self._current_changed)
        self.table.activated.connect(lambda index: self.entity_activated.emit(index.data(ROLE_ID)))
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        top = QHBoxLayout()
        top.addWidget(self.filter, 1)
        top.addWidget(self.count)
        right_layout.addLayout(top)
        right_layout.addWidget(self.table, 1)
        self.splitter = QSplitter()
        self.splitter.setObjectName("entities_splitter")
        self.splitter.addWidget(self.kinds)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.splitter)
        self.refresh_kinds()
        self._update_count()

    # Counting a case's entities by kind reads every one of them: past this many, it is
    # done on the reader thread (a million-entity case would hold the window ~1 s).
    KIND_COUNTS_ASYNC_FROM = 20_000

    def refresh_kinds(self) -> None:
        case_id = self.case_id
        size = max(self.model.total, self._case_total)
        if size >= self.KIND_COUNTS_ASYNC_FROM and not self.model.query.text:
            self.window_.runner.read(lambda db: ui_queries.kind_counts(db, case_id), self._kinds)
        else:
            self._kinds(ui_queries.kind_counts(self.window_.db, case_id))

    def _kinds(self, counts: dict[str, int]) -> None:
        self._case_total = sum(counts.values())
        current = (
            self.kinds.currentItem().data(Qt.ItemDataRole.UserRole)
            if (self.kinds.currentItem())
            else None
        )
        self.kinds.blockSignals(True)
        self.kinds.clear()
        total = sum(counts.values())
        everything = QListWidgetItem(f"All entities ({total})")
        everything.setData(Qt.ItemDataRole.UserRole, None)
        self.kinds.addItem(everything)
        selected = everything
        for kind, count in counts.items():
            item = QListWidgetItem(kind_icon(kind), f"{kind_name(kind, plural=True)} ({count})")
            item.setData(Qt.ItemDataRole.UserRole, kind)
            self.kinds.addItem(item)
            if kind == current:
                selected = item
        self.kinds.setCurrentItem(selected)
        self.kinds.blockSignals(False)

    def select_kind(self, kind: str | None) -> None:
        for row in range(self.kinds.count()):
            if self.kinds.item(row).data(Qt.ItemDataRole.UserRole) == kind:
                self.kinds.setCurrentRow(row)
                return

    def _kind_changed(self, current: QListWidgetItem | None, _previous=None) -> None:
        kind = current.data(Qt.ItemDataRole.UserRole) if current else None
        self.model.set_query(kind=kind)
        self._update_count()

    def _apply_filter(self) -> None:
        self.model.set_query(text=self.filter.text().strip())
        self._update_count()

    def _update_count(self) -> None:
        if self.model.counting:
            self.count.setText("counting…")
            return
        total = self.model.total
        noun = "entity" if total == 1 else "entities"
        self.count.setText(f"{total:,} {noun}" + (" match" if self.model.query.text else ""))

    def refresh(self) -> None:
        """Pick up what was stored since (new entities are appended live)."""
        self.model.refresh()
        self.refresh_kinds()
        self._update_count()

    def _current_changed(self, current, _previous) -> None:
        if current.isValid():
            self.entity_selected.emit(current.data(ROLE_ID))

    def selected_entities(self) -> list[tuple[int, str]]:
        rows = self.table.selectionModel().selectedRows()
        return [(index.data(ROLE_ID), index.data(ROLE_KIND)) for index in rows]

    def select_entity(self, entity_id: int) -> bool:
        """Select an entity's row (its place asked of the store: no rows read to find it).
        In a large table the store counts the rows before it on the reader thread (in a
        sorted million rows that takes seconds) and the row is selected when the answer
        comes; True then means "asked"."""
        if self.filter.text():
            self.filter.clear()
            self._apply_filter()
        model = self.model
        if model.total < model.ASYNC_FROM:
            return self._go_to_row(model.position_of(entity_id))
        query = model.query
        self.window_.runner.read(
            lambda db: ui_queries.entity_position(db, query, entity_id),
            lambda row: self._go_to_row(row) if model.query == query else None,
        )
        return True

    def _go_to_row(self, row: int | None) -> bool:
        if row is None:
            return False
        index = self.model.index(row, 0)
        self.table.setCurrentIndex(index)
        self.table.scrollTo(index)
        return True

    def _menu(self, point) -> None:
        ids = [entity_id for entity_id, _ in self.selected_entities()]
        if ids:
            self.context_menu.emit(self.table.viewport().mapToGlobal(point), ids)


# --- timeline -------------------------------------------------------------------------


class TimelinePanel(QWidget):
    add_event = Signal()
    activated = Signal(str, int)  # source ('event' or 'lookup'), id

    def __init__(self, window, case_id: int, parent=None):
        super().__init__(parent)
        self.window_ = window
        self.case_id = case_id
        self.kind = QComboBox()
        self.kind.setObjectName("timeline_kind")
        self.kind.addItem("Everything", None)
        self.kind.addItem("Lookups", ["lookup"])
        for kind, label in EVENT_KINDS:
            self.kind.addItem(label, [kind.value])
        self.kind.currentIndexChanged.connect(self._filter)
        self.add_button = add = QPushButton(action_icon("event"), "Add event…")
        add.setObjectName("add_event_button")
        add.clicked.connect(self.add_event)
        self.overdue = plain_label("", object_name="overdue_count")
        self.model = TimelineModel(window.db, case_id, self)
        self.table = _table("timeline_table")
        self.table.setModel(self.model)
        _columns(self.table, {0: 160, 1: 120, 3: 210, 4: 170}, stretch=2)
        self.table.activated.connect(
            lambda index: self.activated.emit(index.data(ROLE_KIND), index.data(ROLE_ID))
        )
        bar = QHBoxLayout()
        bar.addWidget(plain_label("Show"))
        bar.addWidget(self.kind)
        bar.addWidget(add)
        bar.addStretch()
        bar.addWidget(self.overdue)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.table, 1)
        self._update_overdue()

    def _filter(self) -> None:
        self.model.set_kinds(self.kind.currentData())

    def refresh(self) -> None:
        self.model.reset()
        self._update_overdue()

    def _update_overdue(self) -> None:
        count = ui_queries.overdue_count(self.window_.db, self.case_id)
        self.overdue.setText(
            f"{count} deadline{'s' if count != 1 else ''} overdue" if count else ""
        )
        palette = self.overdue.palette()
        palette.setColor(self.overdue.foregroundRole(), warning_colour())
        self.overdue.setPalette(palette)

    def select_event(self, event_id: int) -> bool:
        self.kind.setCurrentIndex(0)
        row = self.model.row_of_event(event_id)
        if row is None:
            return False
        self.table.selectRow(row)
        self.table.scrollTo(self.model.index(row, 0))
        return True


# --- evidence -------------------------------------------------------------------------


class EvidencePanel(QWidget):
    open_evidence = Signal(int)
    attach = Signal()

    def __init__(self, window, case_id: int, parent=None):
        super().__init__(parent)
        self.window_ = window
        self.case_id = case_id
        self.model = EvidenceListModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(ROLE_SORT)
        self.proxy.setFilterKeyColumn(-1)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.table = _table("evidence_table")
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        _columns(self.table, {0: 110, 2: 240, 3: 230, 4: 90, 5: 160}, stretch=1)
        self.table.activated.connect(lambda index: self.open_evidence.emit(index.data(ROLE_ID)))
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Filter")
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(self.proxy.setFilterFixedString)
        self.attach_button = attach = QPushButton(action_icon("attach"), "Attach files…")
        attach.clicked.connect(self.attach)
        self.count = plain_label("")
        bar = QHBoxLayout()
        bar.addWidget(self.filter, 1)
        bar.addWidget(attach)
        bar.addWidget(self.count)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.table, 1)
        hint = plain_label(
            "Double-click an item to see its raw text, hash and lookup history, and verify it.",
        )
        hint.setEnabled(False)
        layout.addWidget(hint)

    def refresh(self) -> None:
        case_id = self.case_id
        self.window_.runner.read(lambda db: case_evidence(db, case_id), self._loaded)

    def _loaded(self, items) -> None:
        self.model.set_items(items)
        self.count.setText(f"{len(items)} items")


# --- lookups --------------------------------------------------------------------------


class LookupPanel(QWidget):
    """Start lookups, watch them arrive, cancel them."""

    look_up_all = Signal()
    look_up_selected = Signal()
    look_up_one = Signal()
    entity_activated = Signal(int)

    def __init__(self, window, case_id: int, parent=None):
        super().__init__(parent)
        self.window_ = window
        self.case_id = case_id
        self.job = None
        self.last_query: str | None = None
        self._pending_rows: list[dict[str, Any]] = []
        self._pending_progress: LookupProgress | None = None
        self._show_timer = QTimer(self, singleShot=True, interval=250)
        self._show_timer.timeout.connect(self._show_pending)
        self.all_button = QPushButton(action_icon("lookup"), "Look up every domain")
        self.all_button.setObjectName("lookup_all")
        self.all_button.clicked.connect(self.look_up_all)
        self.selected_button = QPushButton("Look up selected")
        self.selected_button.setToolTip("The domains selected in the Entities table")
        self.selected_button.clicked.connect(self.look_up_selected)
        self.one_button = QPushButton("Look up a domain…")
        self.one_button.clicked.connect(self.look_up_one)
        self.cancel_button = QPushButton(action_icon("cancel"), "Cancel")
        self.cancel_button.setObjectName("lookup_cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        self.progress = QProgressBar()
        self.progress.setObjectName("lookup_progress")
        self.progress.setFormat("%v / %m domains")
        self.progress.setValue(0)
        self.progress.setMaximum(1)
        self.rate = plain_label("No lookup running.", object_name="lookup_rate")
        self.mode = plain_label("", object_name="lookup_mode")
        self.model = LookupStatusModel(self)
        self.table = _table("lookup_status")
        self.table.setModel(self.model)
        _columns(self.table, {0: 240, 1: 96, 2: 96, 3: 96, 4: 116}, stretch=5)
        self.table.activated.connect(lambda index: self.entity_activated.emit(index.data(ROLE_ID)))
        buttons = QHBoxLayout()
        for button in (self.all_button, self.selected_button, self.one_button):
            buttons.addWidget(button)
        buttons.addStretch()
        buttons.addWidget(self.mode)
        progress = QHBoxLayout()
        progress.addWidget(self.progress, 1)
        progress.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(buttons)
        layout.addLayout(progress)
        layout.addWidget(self.rate)
        layout.addWidget(self.table, 1)

    def set_running(self, running: bool) -> None:
        for button in (self.all_button, self.selected_button, self.one_button):
            button.setEnabled(not running and not self.window_.read_only)
        self.cancel_button.setEnabled(running)

    def attach_job(self, job, total: int, offline: bool) -> None:
        self.job = job
        self.model.clear()
        self.progress.setMaximum(max(1, total))
        self.progress.setValue(0)
        self.progress.setFormat("%v / %m domains")
        self.rate.setText(f"Starting {total} domain{'s' if total != 1 else ''}…")
        self.mode.setText("Offline mode: nothing is asked" if offline else "")
        self.set_running(True)
        job.started.connect(self.on_started)
        job.progressed.connect(self.on_progress)
        job.finished.connect(self.on_finished)
        job.failed.connect(self.on_failed)

    def on_started(self, _run_id: int, total: int) -> None:
        self.progress.setMaximum(max(1, total))
        self.rate.setText(f"Looking up {total} domain{'s' if total != 1 else ''}…")

    def on_progress(self, progress: LookupProgress, rows: list[dict[str, Any]]) -> None:
        """Results are shown at most a few times a second, however fast they arrive:
        each showing repaints the table and the bar."""
        self._pending_rows.extend(rows)
        self._pending_progress = progress
        if not self._show_timer.isActive():
            self._show_timer.start()

    def _show_pending(self) -> None:
        self._show_timer.stop()
        if self._pending_rows:
            rows, self._pending_rows = self._pending_rows, []
            self.model.add_snapshots(rows)
        progress, self._pending_progress = self._pending_progress, None
        if progress is None:
            return
        self.progress.setMaximum(max(1, progress.total))
        self.progress.setValue(progress.done)
        # The live figures go in the bar's own text: a label whose text changes size would
        # re-lay out the whole window several times a second.
        self.progress.setFormat(
            f"%v / %m domains · {progress.failed} with failures · {progress.rate:.1f}/s · "
            f"about {duration(progress.eta_s)} left"
        )
        if progress.last_query:
            self.last_query = progress.last_query

    def on_finished(self, report) -> None:
        self._show_pending()
        self.set_running(False)
        self.progress.setFormat("%v / %m domains")
        state = "Cancelled" if report.cancelled else "Finished"
        elapsed = time.monotonic() - self.job.started_at if self.job else 0.0
        self.progress.setValue(report.done)
        self.rate.setText(
            f"{state}: {report.done} of {report.total} domains stored in {duration(elapsed)}"
            + (
                f" (run {report.run_id} can be resumed from the command line)"
                if report.cancelled
                else ""
            )
        )

    def on_failed(self, message: str) -> None:
        self._show_pending()
        self.set_running(False)
        self.progress.setFormat("%v / %m domains")
        self.rate.setText(f"The lookup run stopped: {message}")

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()
            self.cancel_button.setEnabled(False)
            self.rate.setText("Cancelling: nothing new starts, what finished is kept…")


# --- also seen in other cases ---------------------------------------------------------


def describe_shared(item: dict[str, Any]) -> tuple[str, str, int | None]:
    """(through what, the shared thing, the entity id to show) for one shared item of
    `related_cases`."""
    entity = item.get("entity") or {}
    if item.get("via") == "value":
        name = str(item.get("name", "value")).replace("_", " ")
        return name, str(item.get("value", "")), entity.get("id")
    return kind_name(entity.get("kind", "entity")), entity.get("value", ""), entity.get("id")


class RelatedPanel(QWidget):
    """'Also seen in other cases': what this case shares with others, and through what.
    Filled on opening the case, without the investigator asking.

    A case can share something with thousands of others: the panel reads the first
    `LIMIT` of them, best first, with at most `ITEMS` shared things each (the rarest);
    the store counts the rest, and the panel says how many it does not list."""

    open_case = Signal(int)
    show_entity = Signal(int)

    LIMIT = 50  # other cases read and listed
    ITEMS = 10  # shared things listed per case

    def __init__(self, window, case_id: int, parent=None):
        super().__init__(parent)
        self.window_ = window
        self.case_id = case_id
        self.results: list[dict[str, Any]] = []
        self.total = 0
        self.title = heading_label("Also seen in other cases", size_delta=1)
        self.summary = plain_label("Looking…", wrap=True, object_name="related_summary")
        self.tree = QTreeWidget()
        self.tree.setObjectName("related_tree")
        self.tree.setHeaderLabels(["Case or shared item", "Through"])
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.tree.header().setSectionResizeMode(1, QHeaderView.ResizeMode.Interactive)
        self.tree.header().resizeSection(1, 140)
        self.tree.itemActivated.connect(self._activated)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.title)
        layout.addWidget(self.summary)
        layout.addWidget(self.tree, 1)

    def refresh(self) -> None:
        case_id, limit, items = self.case_id, self.LIMIT, self.ITEMS
        self.window_.runner.read(
            lambda db: related_cases_page(db, case_id, limit=limit, items=items),
            lambda page: self._loaded(page, items),
        )

    def _loaded(self, page: dict[str, Any], items: int | None = None) -> None:
        results, total = page["cases"], page["total"]
        items = self.ITEMS if items is None else items
        self.results, self.total = results, total
        self.tree.clear()
        if not results:
            self.summary.setText("Nothing in this case appears in another case yet.")
            return
        names = ", ".join(r["case"]["title"] for r in results[:3])
        self.summary.setText(
            f"Shares entities with {total:,} other case{'s' if total != 1 else ''}: "
            f"{names}{'…' if total > 3 else ''}"
        )
        for result in results:
            case = result["case"]
            count = result.get("shared_count", len(result["shared"]))
            top = QTreeWidgetItem(self.tree, [case["title"], f"{count:,} shared"])
            top.setData(0, Qt.ItemDataRole.UserRole, ("case", case["id"]))
            font = top.font(0)
            font.setBold(True)
            top.setFont(0, font)
            top.setIcon(0, action_icon("new-case"))
            for shared in result["shared"]:
                through, value, entity_id = describe_shared(shared)
                child = QTreeWidgetItem(top, [value, through])
                entity = shared.get("entity") or {}
                if entity.get("kind"):
                    child.setIcon(0, kind_icon(entity["kind"]))
                child.setData(0, Qt.ItemDataRole.UserRole, ("entity", entity_id))
            # Only the `ITEMS` rarest shared things are read; the rest are counted.
            if count > items:
                QTreeWidgetItem(top, [f"… and {count - items:,} more shared (not listed)", ""])
            top.setExpanded(True)
        if total > len(results):
            left = total - len(results)
            QTreeWidgetItem(
                self.tree,
                [f"… and {left:,} more case{'s' if left != 1 else ''} (not listed)", ""],
            )

    def _activated(self, item: QTreeWidgetItem, _column: int) -> None:
        target = item.data(0, Qt.ItemDataRole.UserRole)
        if not target or target[1] is None:
            return
        if target[0] == "case":
            self.open_case.emit(target[1])
        else:
            self.show_entity.emit(target[1])

    def shared_texts(self) -> list[tuple[str, str, str]]:
        """(other case, shared thing, through what) rows, for tests and screenshots."""
        rows = []
        for index in range(self.tree.topLevelItemCount()):
            top = self.tree.topLevelItem(index)
            for child_index in range(top.childCount()):
                child = top.child(child_index)
                rows.append((top.text(0), child.text(0), child.text(1)))
        return rows


def entity_menu(parent: QWidget, ids: list[int], *, kinds: list[str]) -> QMenu:
    """The context menu of selected entities (the caller connects the actions)."""
    menu = QMenu(parent)
    menu.addAction(action_icon("pivot"), "Pivot: what else shares this").setData("pivot")
    if "domain" in kinds:
        menu.addAction(action_icon("lookup"), "Look up selected domains").setData("lookup")
    menu.addAction(action_icon("graph"), "Show in graph").setData("graph")
    menu.addAction(action_icon("event"), "Add event about these…").setData("event")
    return menu
