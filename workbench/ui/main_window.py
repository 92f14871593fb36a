"""The main window: the store's cases, each open case as a tab, the menus, shortcuts,
undo, status bar and the lookup runs.

Widgets only show and ask: every change goes to the task runner's writer thread, every
lookup run to its own thread; results come back as signals on the main thread. The main
thread reads only small things (a page of a table, a case header) from its own connection.
"""

from __future__ import annotations

import gc
import importlib
import importlib.util
import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QSortFilterProxyModel, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence, QUndoCommand, QUndoStack
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QCheckBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QTableView,
    QTabWidget,
    QTextEdit,
    QToolBar,
    QVBoxLayout,
    QWidget,
)
from sqlite_utils import Database

from workbench import __version__
from workbench.domain.errors import InvalidInput, NotFound, WorkbenchError
from workbench.domain.kinds import CaseStatus
from workbench.domain.normalise import display_name
from workbench.services import casework
from workbench.services.ui_queries import case_domains
from workbench.store.database import open_store
from workbench.store.events import get_event
from workbench.store.verify import verify_store
from workbench.ui import options
from workbench.ui.dialogs import (
    AddEventDialog,
    AttachFileDialog,
    LookupDialog,
    NewCaseDialog,
    RenameCaseDialog,
    SettingsDialog,
)
from workbench.ui.evidence_viewer import open_evidence
from workbench.ui.explore import PivotDialog, SearchDialog
from workbench.ui.icons import action_icon, app_icon
from workbench.ui.models import ROLE_ID, ROLE_SORT, CaseListModel
from workbench.ui.panels import entity_menu
from workbench.ui.storefront_form import StorefrontDialog
from workbench.ui.tasks import LookupJob, TaskRunner
from workbench.ui.widgets import heading_label, plain_label, show_message
from workbench.ui.workspace import (
    VIEW_ENTITIES,
    VIEW_EVIDENCE,
    VIEW_GRAPH,
    VIEW_LOOKUPS,
    VIEW_TIMELINE,
    CaseWorkspace,
)

log = logging.getLogger(__name__)

BUNDLE_PENDING = "Coming with issue 5: opening a sealed case bundle read-only"
PDF_PENDING = "Coming with issue 5: the PDF case file"


def optional_function(module: str, name: str):
    """A function of a module that may not exist yet (features landing with other issues),
    or None. The module is imported on the first call, not here: the exporters pull in
    networkx, numpy and the PDF code (~0.3 s), which a window that never exports should
    not pay for at startup."""
    try:
        if importlib.util.find_spec(module) is None:
            return None
    except Exception:  # a half-finished module must not stop the app from starting
        log.exception("optional module %s could not be found", module)
        return None

    def call(*args: Any, **kwargs: Any) -> Any:
        return getattr(importlib.import_module(module), name)(*args, **kwargs)

    return call


def _tab_text(title: str) -> str:
    """A case title as a tab's text: '&' would otherwise mark a keyboard mnemonic."""
    return title.replace("&", "&&")


class CaseEdit(QUndoCommand):
    """An undoable change to a case: its title, status or archived state.

    Undo writes the old values back through the same service (the audit chain keeps both
    changes: nothing in the store is ever rewritten)."""

    def __init__(self, window: MainWindow, case_id: int, text: str, before: dict, after: dict):
        super().__init__(text)
        self.window_ = window
        self.case_id = case_id
        self.before = before
        self.after = after

    def _apply(self, values: dict) -> None:
        case_id = self.case_id
        archived = values.get("archived")
        changes = {k: v for k, v in values.items() if k != "archived"}

        def write(db):
            if changes:
                casework.update_case(db, case_id, **changes)
            if archived is not None:
                casework.archive_case(db, case_id, archived)

        self.window_.runner.write(write, lambda _r: self.window_.store_changed(case_id))

    def redo(self) -> None:
        self._apply(self.after)

    def undo(self) -> None:
        self._apply(self.before)


class CasesPage(QWidget):
    """The home tab: every case with status, counts and last change."""

    def __init__(self, window: MainWindow):
        super().__init__()
        self.window_ = window
        self.setObjectName("cases_page")
        self.model = CaseListModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(ROLE_SORT)
        self.proxy.setFilterKeyColumn(-1)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.view = QTableView()
        self.view.setObjectName("cases")
        self.view.setModel(self.proxy)
        self.view.setSortingEnabled(True)
        self.view.sortByColumn(-1, Qt.SortOrder.AscendingOrder)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setAlternatingRowColors(True)
        self.view.verticalHeader().setVisible(False)
        self.view.verticalHeader().setDefaultSectionSize(self.view.fontMetrics().height() + 10)
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in range(1, 7):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.view.activated.connect(self._activated)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        self.filter = QLineEdit()
        self.filter.setObjectName("case_filter")
        self.filter.setPlaceholderText("Filter cases")
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(self.proxy.setFilterFixedString)
        self.show_archived = QCheckBox("Show archived")
        self.show_archived.setObjectName("show_archived")
        self.show_archived.toggled.connect(lambda _checked: self.refresh())
        self.empty = plain_label(
            "No case yet. File > New case (Ctrl+N) starts one; a case holds the storefronts, "
            "domains, lookups, evidence and events of one investigation.",
            wrap=True,
            object_name="cases_empty",
        )
        bar = QHBoxLayout()
        bar.addWidget(heading_label("Cases", size_delta=5))
        bar.addStretch()
        bar.addWidget(self.filter)
        bar.addWidget(self.show_archived)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 10, 10, 10)
        layout.addLayout(bar)
        layout.addWidget(self.empty)
        self.welcome = QWidget()
        self.welcome.setObjectName("demo_welcome")
        welcome_row = QHBoxLayout(self.welcome)
        welcome_row.setContentsMargins(0, 0, 0, 0)
        welcome_row.addWidget(
            plain_label(
                "Welcome. This new store was filled with two demo cases, AllofMP3 (2006-2007) "
                "and Soundsbox, built from recorded WHOIS, RDAP and DNS answers so that every "
                "view has something to show: open Soundsbox to see it linked to AllofMP3 "
                "through ROMS. Invented details are marked 'source: illustrative'.",
                wrap=True,
            ),
            1,
        )
        self.empty_store_button = QPushButton("Start with an empty store instead…")
        self.empty_store_button.clicked.connect(window.start_empty_store)
        welcome_row.addWidget(self.empty_store_button)
        self.welcome.setVisible(False)
        layout.addWidget(self.welcome)
        layout.addWidget(self.view, 1)
        hint = plain_label(
            "Enter or double-click opens a case. F2 renames it; the Case menu sets its status "
            "or archives it (Ctrl+Z undoes either)."
        )
        hint.setEnabled(False)
        layout.addWidget(hint)

    def refresh(self) -> None:
        selected = self.selected_case_id()
        self.model.reload(self.window_.db, include_archived=self.show_archived.isChecked())
        self.empty.setVisible(self.model.rowCount() == 0)
        if selected is not None:
            self.select_case(selected)

    def selected_case_id(self) -> int | None:
        rows = self.view.selectionModel().selectedRows()
        return rows[0].data(ROLE_ID) if rows else None

    def select_case(self, case_id: int) -> None:
        row = self.model.row_of(case_id)
        if row is not None:
            index = self.proxy.mapFromSource(self.model.index(row, 0))
            self.view.selectRow(index.row())

    def _activated(self, index) -> None:
        self.window_.open_case(index.data(ROLE_ID))


class MainWindow(QMainWindow):
    lookup_started = Signal(object)  # LookupJob

    def __init__(
        self,
        db: Database,
        store_path: Path,
        *,
        read_only: bool = False,
        review_label: str | None = None,
    ):
        super().__init__()
        self.setObjectName("main_window")
        self.db = db
        self.store_path = Path(store_path)
        self.runner = TaskRunner(self.store_path, self)
        self.runner.failed.connect(self._task_failed)
        self.undo_stack = QUndoStack(self)
        self.workspaces: dict[int, CaseWorkspace] = {}
        self.open_viewers: list = []
        self.dialogs: list[QWidget] = []
        self.lookup_job: LookupJob | None = None
        self.closed = False
        self.export_pdf = optional_function("workbench.export.pdf", "export_pdf")
        self.open_bundle = optional_function("workbench.export.bundle", "open_bundle_read_only")
        self.export_bundle = optional_function("workbench.export.bundle", "export_bundle")
        self.read_only = read_only
        self.review_label = review_label
        self.setWindowIcon(app_icon())
        self.resize(1280, 820)

        self._make_actions()
        self.cases_page = CasesPage(self)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("tabs")
        self.tabs.setDocumentMode(True)
        self.tabs.setTabsClosable(True)
        self.tabs.setMovable(True)
        self.tabs.addTab(self.cases_page, action_icon("new-case"), "Cases")
        self.tabs.tabBar().setTabButton(0, self.tabs.tabBar().ButtonPosition.RightSide, None)
        self.tabs.tabCloseRequested.connect(self.close_tab)
        self.tabs.currentChanged.connect(lambda _i: self._update_actions())
        self.setCentralWidget(self.tabs)
        self.cases_page.view.addActions([self.act_open_case, self.act_rename, self.act_archive])
        self.cases_page.view.selectionModel().selectionChanged.connect(
            lambda *_: self._update_actions()
        )
        self._make_menus()
        self._make_toolbar()
        self._make_status_bar()
        self.undo_stack.indexChanged.connect(self._undo_index_changed)
        self._update_title()
        self.cases_page.refresh()
        self._update_actions()
        self._restore_geometry()

    # -- actions -----------------------------------------------------------------------

    def _action(
        self, text: str, slot, shortcut=None, icon: str | None = None, tip: str | None = None
    ) -> QAction:
        action = QAction(text, self)
        if icon:
            action.setIcon(action_icon(icon))
            action.setData(icon)
        if shortcut is not None:
            if isinstance(shortcut, list | tuple):
                action.setShortcuts([QKeySequence(s) for s in shortcut])
            else:
                action.setShortcut(QKeySequence(shortcut))
        if tip:
            action.setStatusTip(tip)
            action.setToolTip(tip)
        action.triggered.connect(lambda _checked=False: slot())
        self.addAction(action)
        return action

    def _make_actions(self) -> None:
        a = self._action
        K = QKeySequence.StandardKey
        self.act_new_case = a("&New case…", self.new_case, K.New, "new-case", "Start a new case")
        self.act_open_store = a(
            "&Open store…", self.choose_store, K.Open, None, "Open or create another store file"
        )
        self.act_open_bundle = a("Open case &bundle (read-only)…", self.open_bundle_dialog)
        self.act_export_pdf = a("Case file as &PDF…", self.export_pdf_dialog, None, "export")
        self.act_export_bundle = a("Sealed case &bundle…", self.export_bundle_dialog)
        self.act_export_png = a("Graph as P&NG…", lambda: self._graph_export("png"))
        self.act_export_svg = a("Graph as &SVG…", lambda: self._graph_export("svg"))
        self.act_close_tab = a(
            "&Close tab", lambda: self.close_tab(self.tabs.currentIndex()), K.Close
        )
        self.act_quit = a("&Quit", self.close, K.Quit)
        self.act_undo = a("&Undo", self.undo, K.Undo)
        self.act_redo = a("&Redo", self.redo, K.Redo)
        self.act_search = a(
            "&Search the store…",
            self.search,
            K.Find,
            "search",
            "Full text across entities, events and evidence",
        )
        self.act_verify = a(
            "&Verify the store",
            self.verify_store,
            None,
            "verify",
            "Re-hash every evidence item and check the audit chain",
        )
        self.act_settings = a("Se&ttings…", self.settings, K.Preferences, "settings")
        if not self.act_settings.shortcuts():
            self.act_settings.setShortcut(QKeySequence("Ctrl+,"))
        self.act_open_case = a("&Open case", self.open_selected_case, None)
        self.act_rename = a("&Rename case…", self.rename_case, "F2")
        self.act_archive = a("&Archive case", self.toggle_archive)
        self.act_storefront = a(
            "Record &storefront…",
            self.record_storefront,
            "Ctrl+Shift+S",
            "storefront",
            "Record a storefront: names, URLs, licence claim, prices, captures",
        )
        self.act_add_event = a(
            "Add &event…",
            self.add_event,
            "Ctrl+E",
            "event",
            "Add a contact attempt, a notice with a deadline, a response…",
        )
        self.act_attach = a(
            "Attach &files…",
            self.attach_files,
            "Ctrl+Shift+A",
            "attach",
            "Attach captures, emails or documents as hashed evidence",
        )
        self.act_lookup_all = a(
            "Look up &every domain",
            self.look_up_all,
            "Ctrl+L",
            "lookup",
            "WHOIS, RDAP and DNS of every domain of the case",
        )
        self.act_lookup_selected = a(
            "Look up &selected domains",
            self.look_up_selected,
            "Ctrl+Shift+L",
            None,
            "The domains selected in the Entities table",
        )
        self.act_lookup_one = a("Look up a &domain…", self.look_up_one, "Ctrl+Alt+L")
        self.act_cancel_lookups = a("&Cancel lookups", self.cancel_lookups, "Ctrl+.", "cancel")
        self.act_pivot = a(
            "&Pivot on the selected entity",
            self.pivot_selected,
            "Ctrl+P",
            "pivot",
            "Everything else in the store that shares it",
        )
        self.act_refresh = a("&Refresh", self.refresh_all, K.Refresh)
        self.act_views = []
        for number, (label, view) in enumerate(
            (
                ("&Entities", VIEW_ENTITIES),
                ("&Graph", VIEW_GRAPH),
                ("&Timeline", VIEW_TIMELINE),
                ("E&vidence", VIEW_EVIDENCE),
                ("&Lookups", VIEW_LOOKUPS),
            ),
            1,
        ):
            self.act_views.append(
                a(label, lambda view=view: self.show_view(view), f"Ctrl+{number}")
            )
        self.act_cases = a("&Cases", lambda: self.tabs.setCurrentIndex(0), "Ctrl+0")
        self.act_next_tab = a("Next tab", lambda: self._step_tab(1), K.NextChild)
        self.act_prev_tab = a("Previous tab", lambda: self._step_tab(-1), K.PreviousChild)
        self.act_about = a("&About the Workbench", self.about)
        self.act_status = {}
        for status in CaseStatus:
            self.act_status[status.value] = a(
                status.value.capitalize(), lambda s=status.value: self.set_case_status(s)
            )
        if self.open_bundle is None:
            self.act_open_bundle.setEnabled(False)
            self.act_open_bundle.setToolTip(BUNDLE_PENDING)
            self.act_open_bundle.setStatusTip(BUNDLE_PENDING)
        if self.export_pdf is None:
            self.act_export_pdf.setToolTip(PDF_PENDING)
            self.act_export_pdf.setStatusTip(PDF_PENDING)

    def _make_menus(self) -> None:
        bar = self.menuBar()
        bar.setNativeMenuBar(True)
        menu = bar.addMenu("&File")
        menu.addAction(self.act_new_case)
        menu.addAction(self.act_open_store)
        menu.addAction(self.act_open_bundle)
        export = menu.addMenu(action_icon("export"), "&Export")
        export.setObjectName("export_menu")
        export.setToolTipsVisible(True)
        for action in (
            self.act_export_pdf,
            self.act_export_bundle,
            self.act_export_png,
            self.act_export_svg,
        ):
            export.addAction(action)
        menu.setToolTipsVisible(True)
        menu.addSeparator()
        menu.addAction(self.act_close_tab)
        menu.addAction(self.act_quit)

        menu = bar.addMenu("&Edit")
        menu.addAction(self.act_undo)
        menu.addAction(self.act_redo)
        menu.addSeparator()
        menu.addAction(self.act_search)
        menu.addAction(self.act_verify)
        menu.addSeparator()
        menu.addAction(self.act_settings)

        menu = bar.addMenu("&Case")
        for action in (self.act_storefront, self.act_add_event, self.act_attach):
            menu.addAction(action)
        menu.addSeparator()
        for action in (
            self.act_lookup_all,
            self.act_lookup_selected,
            self.act_lookup_one,
            self.act_cancel_lookups,
        ):
            menu.addAction(action)
        menu.addSeparator()
        menu.addAction(self.act_pivot)
        menu.addSeparator()
        menu.addAction(self.act_rename)
        status_menu = menu.addMenu("Set &status")
        for action in self.act_status.values():
            status_menu.addAction(action)
        menu.addAction(self.act_archive)

        menu = bar.addMenu("&View")
        menu.addAction(self.act_cases)
        for action in self.act_views:
            menu.addAction(action)
        menu.addSeparator()
        menu.addAction(self.act_next_tab)
        menu.addAction(self.act_prev_tab)
        menu.addAction(self.act_refresh)

        menu = bar.addMenu("&Help")
        menu.addAction(self.act_about)

    def _make_toolbar(self) -> None:
        toolbar = QToolBar("Main")
        toolbar.setObjectName("main_toolbar")
        toolbar.setMovable(False)
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        toolbar.addAction(self.act_new_case)
        toolbar.addAction(self.act_storefront)
        toolbar.addAction(self.act_lookup_all)
        toolbar.addAction(self.act_add_event)
        toolbar.addAction(self.act_pivot)
        toolbar.addSeparator()
        spacer = QWidget()
        spacer.setSizePolicy(
            spacer.sizePolicy().Policy.Expanding, spacer.sizePolicy().Policy.Preferred
        )
        toolbar.addWidget(spacer)
        self.search_box = QLineEdit()
        self.search_box.setObjectName("search_box")
        self.search_box.setPlaceholderText("Search the store (Ctrl+F)")
        self.search_box.setClearButtonEnabled(True)
        self.search_box.setMaximumWidth(320)
        self.search_box.addAction(action_icon("search"), QLineEdit.ActionPosition.LeadingPosition)
        self.search_box.returnPressed.connect(lambda: self.search(self.search_box.text()))
        toolbar.addWidget(self.search_box)
        self.addToolBar(toolbar)
        self.toolbar = toolbar

    def _make_status_bar(self) -> None:
        status = self.statusBar()
        self.store_label = plain_label("", object_name="store_label")
        self.busy_label = plain_label("", object_name="busy_label")
        self.lookup_bar = QProgressBar()
        self.lookup_bar.setObjectName("status_lookup_progress")
        self.lookup_bar.setMaximumWidth(200)
        self.lookup_bar.setMaximumHeight(16)
        self.lookup_bar.setFormat("lookups %v/%m")
        self.lookup_bar.setVisible(False)
        status.addPermanentWidget(self.busy_label)
        status.addPermanentWidget(self.lookup_bar)
        status.addPermanentWidget(self.store_label)
        self.runner.busy_changed.connect(
            lambda busy: self.busy_label.setText("Working…" if busy else "")
        )
        self._show_store()
        status.showMessage("Ready", 3000)

    def _show_store(self) -> None:
        if self.read_only:
            self.store_label.setText(f"Read-only review of {self.review_label or self.store_path}")
        else:
            self.store_label.setText(f"Store: {self.store_path}")

    def _update_title(self) -> None:
        name = self.review_label or self.store_path.name
        suffix = " (read-only review)" if self.read_only else ""
        self.setWindowTitle(f"{name}{suffix} — Rights-Investigation Workbench")

    # -- state -------------------------------------------------------------------------

    def current_workspace(self) -> CaseWorkspace | None:
        widget = self.tabs.currentWidget()
        return widget if isinstance(widget, CaseWorkspace) else None

    def target_case_id(self) -> int | None:
        """The case an action applies to: the open tab's, or the one selected in the list."""
        workspace = self.current_workspace()
        if workspace is not None:
            return workspace.case_id
        if self.tabs.currentWidget() is self.cases_page:
            return self.cases_page.selected_case_id()
        return None

    def _undo_index_changed(self, _index: int) -> None:
        self._update_actions()

    def _update_actions(self) -> None:
        if self.closed:
            return
        workspace = self.current_workspace()
        in_case = workspace is not None
        case_id = self.target_case_id()
        running = bool(self.lookup_job and self.lookup_job.running)
        for action in (self.act_storefront, self.act_add_event, self.act_attach, *self.act_views):
            action.setEnabled(in_case)
        for action in (self.act_lookup_all, self.act_lookup_selected, self.act_lookup_one):
            action.setEnabled(in_case and not running)
        self.act_cancel_lookups.setEnabled(running)
        self.act_export_png.setEnabled(in_case)
        self.act_export_svg.setEnabled(in_case)
        self.act_export_pdf.setEnabled(in_case and self.export_pdf is not None)
        self.act_pivot.setEnabled(in_case)
        self.act_close_tab.setEnabled(in_case)
        for action in (
            self.act_rename,
            self.act_archive,
            self.act_open_case,
            *self.act_status.values(),
        ):
            action.setEnabled(case_id is not None)
        self.act_open_case.setEnabled(case_id is not None and not in_case)
        self.act_export_bundle.setEnabled(in_case and self.export_bundle is not None)
        if self.read_only:
            for action in self.write_actions():
                action.setEnabled(False)
        archived = False
        if case_id is not None:
            row = self.db.execute(
                "SELECT archived_at FROM cases WHERE id = ?", [case_id]
            ).fetchone()
            archived = bool(row and row[0])
        self.act_archive.setText("Un&archive case" if archived else "&Archive case")
        self.act_undo.setEnabled(True)
        self.act_redo.setEnabled(True)
        undo_text = self.undo_stack.undoText()
        self.act_undo.setText(f"&Undo {undo_text}" if undo_text else "&Undo")
        redo_text = self.undo_stack.redoText()
        self.act_redo.setText(f"&Redo {redo_text}" if redo_text else "&Redo")

    def write_actions(self) -> list[QAction]:
        """Everything that changes the store (off in a read-only review)."""
        return [
            self.act_new_case,
            self.act_storefront,
            self.act_add_event,
            self.act_attach,
            self.act_lookup_all,
            self.act_lookup_selected,
            self.act_lookup_one,
            self.act_rename,
            self.act_archive,
            *self.act_status.values(),
        ]

    def store_changed(self, case_id: int | None = None) -> None:
        """Something was written: refresh what shows it."""
        self.cases_page.refresh()
        if case_id is not None and case_id in self.workspaces:
            self.workspaces[case_id].refresh()
        elif case_id is None:
            for workspace in self.workspaces.values():
                workspace.refresh()
        self._update_actions()

    def refresh_all(self) -> None:
        self.store_changed(None)

    def _task_failed(self, title: str, message: str) -> None:
        self.statusBar().showMessage(f"{title}: {message}", 8000)
        show_message(self, title, message, error=True)

    # -- cases -------------------------------------------------------------------------

    def open_case(self, case_id: int) -> CaseWorkspace | None:
        if case_id in self.workspaces:
            self.tabs.setCurrentWidget(self.workspaces[case_id])
            return self.workspaces[case_id]
        try:
            workspace = CaseWorkspace(self, case_id)
        except NotFound as exc:
            show_message(self, "Cannot open the case", str(exc), error=True)
            return None
        workspace.restore_state(options.app_settings())
        workspace.title_changed.connect(self._case_title_changed)
        self.workspaces[case_id] = workspace
        index = self.tabs.addTab(
            workspace, action_icon("new-case"), _tab_text(workspace.title.text())
        )
        self.tabs.setCurrentIndex(index)
        self._update_actions()
        return workspace

    def _case_title_changed(self, case_id: int, title: str) -> None:
        workspace = self.workspaces.get(case_id)
        if workspace is not None:
            index = self.tabs.indexOf(workspace)
            if index >= 0:
                self.tabs.setTabText(index, _tab_text(title))

    def open_selected_case(self) -> None:
        case_id = self.cases_page.selected_case_id()
        if case_id is not None:
            self.open_case(case_id)

    def close_tab(self, index: int) -> None:
        widget = self.tabs.widget(index)
        if not isinstance(widget, CaseWorkspace):
            return
        if widget.lookup_running():
            self.statusBar().showMessage("Cancel the lookups of this case before closing it", 5000)
            return
        widget.save_state(options.app_settings())
        self.tabs.removeTab(index)
        self.workspaces.pop(widget.case_id, None)
        widget.deleteLater()
        self._update_actions()

    def _step_tab(self, step: int) -> None:
        count = self.tabs.count()
        if count:
            self.tabs.setCurrentIndex((self.tabs.currentIndex() + step) % count)

    def show_view(self, view: int) -> None:
        workspace = self.current_workspace()
        if workspace is not None:
            workspace.show_view(view)

    def new_case(self) -> NewCaseDialog:
        dialog = NewCaseDialog(self)
        dialog.saved.connect(self._case_created)
        dialog.open()
        return dialog

    def _case_created(self, case) -> None:
        self.cases_page.refresh()
        self.open_case(case.id)
        self.statusBar().showMessage(f"Case {case.id} created", 4000)

    def rename_case(self) -> RenameCaseDialog | None:
        """Ask for a new title in a dialog that shows a refused one under the field."""
        case_id = self.target_case_id()
        if case_id is None or self.read_only:
            return None
        current = self.db.execute("SELECT title FROM cases WHERE id = ?", [case_id]).fetchone()[0]
        dialog = RenameCaseDialog(self, case_id, current)
        self._keep(dialog)
        dialog.open()
        return dialog

    def push_case_edit(self, case_id: int, text: str, before: dict, after: dict) -> bool:
        """Check the new values here (so a refused one never enters the undo stack), then
        push the change; the push performs it."""
        if self.read_only:
            return False
        try:
            if "title" in after:
                after = {**after, "title": display_name(after["title"], "title")}
            if "status" in after:
                CaseStatus(after["status"])
        except (InvalidInput, ValueError) as exc:
            show_message(self, "Cannot change the case", str(exc), error=True)
            return False
        if before == after:
            return False
        self.undo_stack.push(CaseEdit(self, case_id, text, before, after))
        return True

    def set_case_status(self, status: str) -> None:
        case_id = self.target_case_id()
        if case_id is None:
            return
        current = self.db.execute("SELECT status FROM cases WHERE id = ?", [case_id]).fetchone()[0]
        self.push_case_edit(
            case_id, f"set status to {status}", {"status": current}, {"status": status}
        )

    def toggle_archive(self) -> None:
        case_id = self.target_case_id()
        if case_id is None:
            return
        row = self.db.execute("SELECT archived_at FROM cases WHERE id = ?", [case_id]).fetchone()
        archived = bool(row and row[0])
        self.push_case_edit(
            case_id,
            "unarchive case" if archived else "archive case",
            {"archived": archived},
            {"archived": not archived},
        )

    # -- undo --------------------------------------------------------------------------

    def _focused_editor(self):
        widget = QApplication.focusWidget()
        if isinstance(widget, QLineEdit | QPlainTextEdit | QTextEdit) and not (widget.isReadOnly()):
            return widget
        return None

    def undo(self) -> None:
        """Undo in the focused text field if it has something to undo, else the last case
        edit."""
        editor = self._focused_editor()
        if editor is not None and (
            editor.isUndoAvailable()
            if isinstance(editor, QLineEdit)
            else editor.document().isUndoAvailable()
        ):
            editor.undo()
        elif self.undo_stack.canUndo():
            self.undo_stack.undo()
        else:
            self.statusBar().showMessage(
                "Nothing to undo. Recorded evidence, entities, links, events and lookups "
                "are kept for good (the store is append-only).",
                6000,
            )

    def redo(self) -> None:
        editor = self._focused_editor()
        if editor is not None and (
            editor.isRedoAvailable()
            if isinstance(editor, QLineEdit)
            else editor.document().isRedoAvailable()
        ):
            editor.redo()
        elif self.undo_stack.canRedo():
            self.undo_stack.redo()

    # -- recording ---------------------------------------------------------------------

    def _keep(self, dialog: QWidget) -> QWidget:
        self.dialogs.append(dialog)
        dialog.finished.connect(
            lambda *_: self.dialogs.remove(dialog) if dialog in self.dialogs else None
        )
        return dialog

    def record_storefront(self) -> StorefrontDialog | None:
        workspace = self.current_workspace()
        if workspace is None:
            return None
        dialog = StorefrontDialog(self, workspace.case_id)
        case_id = workspace.case_id

        def saved(result: dict) -> None:
            self.store_changed(case_id)
            self.statusBar().showMessage(
                f"Storefront {result['storefront']['value']} recorded with "
                f"{len(result['entities'])} related entities",
                5000,
            )

        dialog.saved.connect(saved)
        self._keep(dialog)
        dialog.open()
        return dialog

    def add_event(self, entity_ids: list[int] | None = None) -> AddEventDialog | None:
        workspace = self.current_workspace()
        if workspace is None:
            return None
        case_id = workspace.case_id
        dialog = AddEventDialog(self, case_id, entity_ids)
        dialog.saved.connect(lambda _event: self.store_changed(case_id))
        self._keep(dialog)
        dialog.open()
        return dialog

    def attach_files(self, paths: list[Path] | None = None) -> AttachFileDialog | None:
        workspace = self.current_workspace()
        if workspace is None:
            return None
        case_id = workspace.case_id
        dialog = AttachFileDialog(self, case_id, paths)
        dialog.saved.connect(lambda _items: self.store_changed(case_id))
        self._keep(dialog)
        dialog.open()
        return dialog

    # -- lookups -----------------------------------------------------------------------

    def look_up_all(self) -> LookupJob | None:
        workspace = self.current_workspace()
        if workspace is None:
            return None
        domains = case_domains(self.db, workspace.case_id)
        if not domains:
            show_message(
                self,
                "No domain to look up",
                "This case has no domain yet. Record a storefront with its URLs, or use "
                "Look up a domain.",
            )
            return None
        return self.look_up_domains(workspace.case_id, domains)

    def look_up_selected(self) -> LookupJob | None:
        workspace = self.current_workspace()
        if workspace is None:
            return None
        domains = workspace.selected_domain_values()
        if not domains:
            self.statusBar().showMessage("Select one or more domains in the Entities table", 5000)
            return None
        return self.look_up_domains(workspace.case_id, domains)

    def look_up_entities(self, entity_ids: list[int]) -> LookupJob | None:
        workspace = self.current_workspace()
        if workspace is None or not entity_ids:
            return None
        marks = ",".join("?" * len(entity_ids))
        domains = [
            row[0]
            for row in self.db.execute(
                f"SELECT key FROM entities WHERE kind = 'domain' AND id IN ({marks})",  # noqa: S608
                entity_ids,
            )
        ]
        return self.look_up_domains(workspace.case_id, domains) if domains else None

    def look_up_one(self) -> LookupDialog | None:
        """Ask for a domain or URL (refused values and lookalikes shown in the dialog),
        then look it up in the current case."""
        workspace = self.current_workspace()
        if workspace is None:
            return None
        case_id = workspace.case_id
        dialog = LookupDialog(self)
        dialog.chosen.connect(lambda text: self.look_up_domains(case_id, [text]))
        self._keep(dialog)
        dialog.open()
        return dialog

    def look_up_domains(self, case_id: int, lines: list[str]) -> LookupJob | None:
        """Start a lookup run of `lines` (domains or URLs) in case `case_id`."""
        if self.read_only:
            self.statusBar().showMessage("A read-only review cannot run lookups", 5000)
            return None
        lines = [line for line in lines if line.strip()]
        if not lines:
            return None
        try:
            settings = options.lookup_settings()
            plan = options.lookup_plan()
            job = self.runner.start_lookups(lines, case_id=case_id, plan=plan, settings=settings)
        except WorkbenchError as exc:
            show_message(self, "Cannot start the lookups", str(exc), error=True)
            return None
        self.lookup_job = job
        gc.freeze()  # what exists now outlives the run: keep full collections short meanwhile
        count = len(lines)
        workspace = self.workspaces.get(case_id) or self.open_case(case_id)
        if workspace is not None:
            workspace.lookups.attach_job(job, count, settings.offline)
            workspace.show_view(VIEW_LOOKUPS)
            job.progressed.connect(lambda *_: workspace.schedule_refresh())
        self.lookup_bar.setMaximum(count)
        self.lookup_bar.setValue(0)
        self.lookup_bar.setVisible(True)
        job.started.connect(lambda _run, total: self.lookup_bar.setMaximum(max(1, total)))
        job.progressed.connect(lambda progress, _rows: self.lookup_bar.setValue(progress.done))
        job.finished.connect(lambda report: self._lookups_done(case_id, report))
        job.failed.connect(lambda message: self._lookups_failed(case_id, message))
        self.statusBar().showMessage(
            f"Looking up {count} domain{'s' if count != 1 else ''}…"
            + (" (offline mode: nothing is asked)" if settings.offline else ""),
            5000,
        )
        self._update_actions()
        self.lookup_started.emit(job)
        return job

    def _lookups_done(self, case_id: int, report) -> None:
        self.lookup_bar.setVisible(False)
        self.store_changed(case_id)
        state = "cancelled" if report.cancelled else "finished"
        self.statusBar().showMessage(
            f"Lookups {state}: {report.done} of {report.total} domains stored", 8000
        )
        self._update_actions()

    def _lookups_failed(self, case_id: int, message: str) -> None:
        self.lookup_bar.setVisible(False)
        self.store_changed(case_id)
        self._update_actions()
        show_message(self, "The lookup run stopped", message, error=True)

    def cancel_lookups(self) -> None:
        if self.lookup_job is not None and self.lookup_job.running:
            for workspace in self.workspaces.values():
                if workspace.lookups.job is self.lookup_job:
                    workspace.lookups.cancel()
                    return
            self.lookup_job.cancel()

    # -- exploring ---------------------------------------------------------------------

    def selected_entity_ids(self) -> list[int]:
        workspace = self.current_workspace()
        if workspace is None:
            return []
        if workspace.views.currentIndex() == VIEW_GRAPH:
            ids = workspace.graph.scene.selected_entity_ids()
            if ids:
                return ids
        ids = [entity_id for entity_id, _ in workspace.entities.selected_entities()]
        if ids:
            return ids
        return [workspace.detail.entity_id] if workspace.detail.entity_id else []

    def pivot_selected(self) -> PivotDialog | None:
        ids = self.selected_entity_ids()
        if not ids:
            self.statusBar().showMessage("Select an entity to pivot on", 4000)
            return None
        return self.pivot(ids[0])

    def pivot(self, entity_id: int) -> PivotDialog:
        dialog = PivotDialog(self, entity_id)
        dialog.open_entity.connect(self.show_entity)
        dialog.open_case.connect(self.open_case)
        dialog.open_evidence.connect(self.open_evidence)
        self._keep(dialog)
        dialog.show()
        return dialog

    def show_entity(self, entity_id: int) -> None:
        """Show an entity in the current case's detail pane (or in a case holding it)."""
        workspace = self.current_workspace()
        if workspace is None:
            row = self.db.execute(
                "SELECT case_id FROM case_entities WHERE entity_id = ? ORDER BY case_id LIMIT 1",
                [entity_id],
            ).fetchone()
            workspace = self.open_case(row[0]) if row else None
        if workspace is not None:
            workspace.show_entity(entity_id)
            workspace.entities.select_kind(None)
            workspace.entities.select_entity(entity_id)

    def open_event(self, event_id: int) -> None:
        try:
            event = get_event(self.db, event_id)
        except NotFound as exc:
            show_message(self, "Cannot open the event", str(exc), error=True)
            return
        workspace = self.open_case(event.case_id)
        if workspace is not None:
            workspace.show_view(VIEW_TIMELINE)
            workspace.timeline.select_event(event_id)

    def open_evidence(self, evidence_id: int):
        try:
            return open_evidence(self, evidence_id)
        except NotFound as exc:
            show_message(self, "Cannot open the evidence", str(exc), error=True)
            return None

    def search(self, text: str = "") -> SearchDialog:
        dialog = SearchDialog(self, text)
        dialog.open_entity.connect(self.show_entity)
        dialog.open_event.connect(self.open_event)
        dialog.open_evidence.connect(self.open_evidence)
        self._keep(dialog)
        dialog.show()
        dialog.query.setFocus()
        return dialog

    def entity_context_menu(self, point, ids: list[int]) -> None:
        workspace = self.current_workspace()
        if workspace is None:
            return
        kinds = [kind for _, kind in workspace.entities.selected_entities()]
        menu = entity_menu(self, ids, kinds=kinds)
        chosen = menu.exec(point)
        if chosen is None:
            return
        what = chosen.data()
        if what == "pivot":
            self.pivot(ids[0])
        elif what == "lookup":
            self.look_up_entities(ids)
        elif what == "graph":
            workspace.show_in_graph(ids[0])
        elif what == "event":
            self.add_event(ids)

    # -- store -------------------------------------------------------------------------

    def verify_store(self) -> None:
        self.statusBar().showMessage("Verifying every evidence item and the audit chain…")
        self.runner.read(verify_store, self._verified)

    def _verified(self, report) -> None:
        if report.ok:
            text = (
                f"The store verifies: {report.checked_evidence} evidence items hash to their "
                f"recorded SHA-256 and the audit chain of {report.checked_audit_rows} changes "
                "is intact."
            )
            self.statusBar().showMessage("Store verified", 6000)
            show_message(self, "Store verified", text)
        else:
            shown = "\n".join(report.problems[:20])
            more = len(report.problems) - 20
            show_message(
                self,
                "The store does NOT verify",
                f"{len(report.problems)} problems found:\n{shown}"
                + (f"\n… and {more} more" if more > 0 else ""),
                error=True,
            )

    def show_demo_welcome(self) -> None:
        """Say that the demo cases were put in this new store, and offer an empty one."""
        self.cases_page.welcome.setVisible(True)

    def start_empty_store(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self,
            "Where should the empty store be?",
            str(self.store_path.with_name("cases.sqlite")),
            "Workbench stores (*.sqlite)",
        )
        if path and self.switch_store(Path(path)):
            self.cases_page.welcome.setVisible(False)
            self.statusBar().showMessage(
                f"Empty store {path}: File > New case starts one. The demo store stays at "
                f"its place; File > Open store shows it again.",
                10000,
            )

    def choose_store(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self,
            "Open or create a store",
            str(self.store_path.parent),
            "Workbench stores (*.sqlite *.db);;All files (*)",
            options=QFileDialog.Option.DontConfirmOverwrite,
        )
        if path:
            self.switch_store(Path(path))

    def switch_store(
        self, path: Path, *, read_only: bool = False, label: str | None = None
    ) -> bool:
        """Show another store (or, read-only, a bundle's review store) in this window."""
        if self.lookup_job is not None and self.lookup_job.running:
            show_message(self, "Lookups running", "Cancel the running lookups first.")
            return False
        try:
            db = open_store(path, read_only=read_only)
        except WorkbenchError as exc:
            show_message(self, "Cannot open the store", str(exc), error=True)
            return False
        self._use_store(db, Path(path), read_only=read_only, label=label)
        if not read_only:
            options.app_settings().setValue("last_store", str(self.store_path))
        return True

    def _use_store(self, db: Database, path: Path, *, read_only: bool, label: str | None) -> None:
        for case_id in list(self.workspaces):
            self.close_tab(self.tabs.indexOf(self.workspaces[case_id]))
        for viewer in list(self.open_viewers):
            viewer.close()
        self.runner.shutdown()
        self.db.close()
        self.db = db
        self.store_path = path
        self.read_only = read_only
        self.review_label = label
        self.runner = TaskRunner(self.store_path, self)
        self.runner.failed.connect(self._task_failed)
        self.runner.busy_changed.connect(
            lambda busy: self.busy_label.setText("Working…" if busy else "")
        )
        self.undo_stack.clear()
        self._show_store()
        self._update_title()
        self.cases_page.refresh()
        self._update_actions()

    def open_bundle_dialog(self) -> None:
        if self.open_bundle is None:
            show_message(self, "Not available yet", BUNDLE_PENDING)
            return
        path, _ = QFileDialog.getOpenFileName(
            self, "Open a case bundle (read-only)", "", "Case bundles (*.wbbundle);;All files (*)"
        )
        if path:
            self.open_bundle_file(Path(path))

    def open_bundle_file(self, path: Path) -> None:
        """Verify a sealed bundle and show its case read-only (off the main thread: the
        bundle is checked and imported into a private temporary store first)."""
        from workbench.export import bundle

        self.statusBar().showMessage(f"Verifying {path.name}…")

        def prepare(_db) -> Path:
            return bundle.prepare_review_store(path)

        def ready(review: Path) -> None:
            if self.switch_store(review, read_only=True, label=path.name):
                self.statusBar().showMessage(
                    f"{path.name} verified and opened read-only: nothing can be changed", 8000
                )
                row = self.db.execute("SELECT min(id) FROM cases").fetchone()
                if row and row[0] is not None:
                    self.open_case(row[0])

        self.runner.read(prepare, ready, title="Cannot open the bundle")

    def export_bundle_dialog(self) -> None:
        workspace = self.current_workspace()
        if workspace is None or self.export_bundle is None:
            return
        path, _ = QFileDialog.getSaveFileName(
            self,
            "Export the case as a sealed bundle",
            f"case-{workspace.case_id}.wbbundle",
            "Case bundles (*.wbbundle)",
        )
        if path:
            self.start_bundle_export(workspace.case_id, Path(path))

    def start_bundle_export(self, case_id: int, path: Path) -> None:
        export = self.export_bundle
        self.statusBar().showMessage("Writing the sealed bundle…")
        self.runner.read(
            lambda db: export(db, case_id, path),
            lambda _result: self.statusBar().showMessage(f"Bundle written to {path}", 8000),
            title="Export refused",
        )

    def export_pdf_dialog(self) -> None:
        workspace = self.current_workspace()
        if workspace is None or self.export_pdf is None:
            return
        path, _ = QFileDialog.getSaveFileName(
            self, "Export the case file as PDF", f"case-{workspace.case_id}.pdf", "PDF (*.pdf)"
        )
        if path:
            self.start_pdf_export(workspace.case_id, Path(path))

    def start_pdf_export(self, case_id: int, path: Path) -> None:
        export = self.export_pdf
        self.statusBar().showMessage("Writing the PDF case file (evidence is verified first)…")

        def done(result: Any) -> None:
            self.statusBar().showMessage(f"Case file written to {path}", 8000)

        self.runner.read(lambda db: export(db, case_id, path), done, title="Export refused")

    def _graph_export(self, kind: str) -> None:
        workspace = self.current_workspace()
        if workspace is None:
            return
        workspace.show_view(VIEW_GRAPH)
        if kind == "png":
            workspace.graph.export_png_dialog()
        else:
            workspace.graph.export_svg_dialog()

    # -- dialogs -----------------------------------------------------------------------

    def settings(self) -> SettingsDialog:
        dialog = SettingsDialog(self)
        self._keep(dialog)
        dialog.open()
        return dialog

    def about(self) -> QMessageBox:
        box = QMessageBox(self)
        box.setObjectName("about")
        box.setWindowTitle("About the Workbench")
        box.setIconPixmap(app_icon().pixmap(64, 64))
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.setText(f"Rights-Investigation Workbench {__version__}")
        box.setInformativeText(
            "Cases, storefronts, WHOIS, RDAP and DNS evidence, linked across cases into "
            "court-ready case files.\n\n"
            "Every raw response is kept as hashed evidence; the store is append-only and "
            "audit-chained.\n\nLicensed under the Apache License 2.0."
        )
        box.open()
        return box

    # -- window state ------------------------------------------------------------------

    def _restore_geometry(self) -> None:
        settings = options.app_settings()
        geometry = settings.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        state = settings.value("window/state")
        if state is not None:
            self.restoreState(state)

    def save_window_state(self) -> None:
        settings = options.app_settings()
        settings.setValue("window/geometry", self.saveGeometry())
        settings.setValue("window/state", self.saveState())
        workspace = self.current_workspace() or next(iter(self.workspaces.values()), None)
        if workspace is not None:
            workspace.save_state(settings)
        settings.sync()

    def closeEvent(self, event) -> None:
        if self.lookup_job is not None and self.lookup_job.running:
            answer = QMessageBox.question(
                self,
                "Lookups running",
                "Lookups are still running. Stop them and quit? What finished is kept; the "
                "rest can be resumed from the command line.",
            )
            if answer != QMessageBox.StandardButton.Yes:
                event.ignore()
                return
        self.shutdown()
        super().closeEvent(event)

    def shutdown(self) -> None:
        """Save the window's state and layouts, stop lookups and worker threads. Safe to
        call twice; the caller closes the main-thread connection afterwards."""
        if self.closed:
            return
        self.save_window_state()
        for workspace in self.workspaces.values():
            if workspace.graph.is_loaded:
                workspace.graph.save_layout()
        self.closed = True
        self.runner.shutdown()

    def changeEvent(self, event) -> None:
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange):
            # Dark mode switched: re-tint the action icons and repaint the graphs.
            QTimer.singleShot(0, self._apply_palette)
        super().changeEvent(event)

    def _apply_palette(self) -> None:
        for action in self.findChildren(QAction):
            icon = action.data()
            if isinstance(icon, str) and icon:
                action.setIcon(action_icon(icon))
        for workspace in self.workspaces.values():
            workspace.graph._apply_palette()
            workspace.graph.scene.update()
