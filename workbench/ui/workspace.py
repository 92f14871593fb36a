"""A case open in the window: its header, the views (entities, graph, timeline, evidence,
lookups) on the left, the selected entity's details and "also seen in other cases" on the
right."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QSplitter,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from workbench.domain.errors import NotFound
from workbench.store.cases import get_case
from workbench.ui.detail_pane import DetailPane
from workbench.ui.graph_view import GraphPanel
from workbench.ui.icons import action_icon
from workbench.ui.panels import (
    EntitiesPanel,
    EvidencePanel,
    LookupPanel,
    RelatedPanel,
    TimelinePanel,
)
from workbench.ui.widgets import heading_label, plain_label, short_time

VIEW_ENTITIES, VIEW_GRAPH, VIEW_TIMELINE, VIEW_EVIDENCE, VIEW_LOOKUPS = range(5)


class CaseWorkspace(QWidget):
    """Everything about one case. The window owns the actions; this shows."""

    title_changed = Signal(int, str)

    def __init__(self, window, case_id: int, parent=None):
        super().__init__(parent)
        self.window_ = window
        self.case_id = case_id
        self.setObjectName(f"case_{case_id}")
        case = get_case(window.db, case_id)

        self._stale: set[int] = set()
        self.title = heading_label(case.title, size_delta=5)
        self.title.setObjectName("case_title")
        self.meta = plain_label("", object_name="case_meta")
        header_buttons = QHBoxLayout()
        header_buttons.setSpacing(4)
        for text, icon, action in (
            ("Record storefront…", "storefront", window.act_storefront),
            ("Look up every domain", "lookup", window.act_lookup_all),
            ("Add event…", "event", window.act_add_event),
            ("Attach files…", "attach", window.act_attach),
        ):
            button = QToolButton()
            button.setDefaultAction(action)
            button.setText(text)
            button.setIcon(action_icon(icon))
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
            header_buttons.addWidget(button)
        header = QHBoxLayout()
        titles = QVBoxLayout()
        titles.setSpacing(0)
        titles.addWidget(self.title)
        titles.addWidget(self.meta)
        header.addLayout(titles, 1)
        header.addLayout(header_buttons)

        self.entities = EntitiesPanel(window, case_id)
        self.graph = GraphPanel(window, case_id)
        self.timeline = TimelinePanel(window, case_id)
        self.evidence = EvidencePanel(window, case_id)
        self.lookups = LookupPanel(window, case_id)
        self.views = QTabWidget()
        self.views.setObjectName("case_views")
        self.views.setDocumentMode(True)
        self.views.addTab(self.entities, action_icon("new-case"), "Entities")
        self.views.addTab(self.graph, action_icon("graph"), "Graph")
        self.views.addTab(self.timeline, action_icon("timeline"), "Timeline")
        self.views.addTab(self.evidence, action_icon("verify"), "Evidence")
        self.views.addTab(self.lookups, action_icon("lookup"), "Lookups")
        self.views.currentChanged.connect(self._view_changed)

        self.detail = DetailPane(window)
        self.related = RelatedPanel(window, case_id)
        self.side = QSplitter(Qt.Orientation.Vertical)
        self.side.setObjectName("side_splitter")
        self.side.addWidget(self.detail)
        self.side.addWidget(self.related)
        self.side.setStretchFactor(0, 3)
        self.side.setStretchFactor(1, 2)
        self.splitter = QSplitter()
        self.splitter.setObjectName("case_splitter")
        self.splitter.addWidget(self.views)
        self.splitter.addWidget(self.side)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setSizes([760, 440])

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addLayout(header)
        layout.addWidget(self.splitter, 1)

        self.entities.entity_selected.connect(self.show_entity)
        self.entities.entity_activated.connect(self.show_entity)
        self.entities.context_menu.connect(window.entity_context_menu)
        self.graph.entity_selected.connect(self.show_entity)
        self.graph.entity_activated.connect(self.show_entity)
        self.lookups.entity_activated.connect(self.show_entity)
        self.lookups.look_up_all.connect(window.act_lookup_all.trigger)
        self.lookups.look_up_selected.connect(window.act_lookup_selected.trigger)
        self.lookups.look_up_one.connect(window.act_lookup_one.trigger)
        self.timeline.add_event.connect(window.act_add_event.trigger)
        self.timeline.activated.connect(self._timeline_activated)
        self.evidence.open_evidence.connect(window.open_evidence)
        self.evidence.attach.connect(window.act_attach.trigger)
        self.detail.open_evidence.connect(window.open_evidence)
        self.detail.open_case.connect(window.open_case)
        self.detail.show_entity.connect(self.show_entity)
        self.detail.pivot.connect(window.pivot)
        self.detail.look_up.connect(lambda entity_id: window.look_up_entities([entity_id]))
        self.detail.show_in_graph.connect(self.show_in_graph)
        self.related.open_case.connect(window.open_case)
        self.related.show_entity.connect(self.show_entity)

        if window.read_only:
            self.lookups.set_running(False)
            self.timeline.add_button.setEnabled(False)
            self.evidence.attach_button.setEnabled(False)
            self.lookups.rate.setText("A read-only review: lookups cannot be run.")

        # Refreshes while a lookup run stores results are coalesced: at most a few a second.
        self._refresh_timer = QTimer(self, singleShot=True, interval=400)
        self._refresh_timer.timeout.connect(self._refresh_now)
        # Views to refresh when next shown (the entities and timeline load as they are made).
        self._stale: set[int] = {VIEW_GRAPH, VIEW_EVIDENCE}
        self.refresh_header()
        self.evidence.refresh()
        self._stale.discard(VIEW_EVIDENCE)
        self.related.refresh()

    # -- refreshing --------------------------------------------------------------------

    def refresh_header(self) -> None:
        try:
            case = get_case(self.window_.db, self.case_id)
        except NotFound:
            return
        parts = [f"Case {case.id}", case.status]
        if case.archived_at:
            parts.append("archived")
        if case.investigator:
            parts.append(case.investigator)
        parts.append(f"last change {short_time(case.updated_at)}")
        meta = " · ".join(parts)
        # Unchanged text is not set again: a label's new text re-lays out the window.
        if self.meta.text() != meta:
            self.meta.setText(meta)
        if self.title.text() != case.title:
            self.title.setText(case.title)
            self.title_changed.emit(case.id, case.title)

    def schedule_refresh(self) -> None:
        if not self._refresh_timer.isActive():
            self._refresh_timer.start()

    def refresh(self) -> None:
        self._refresh_timer.stop()
        self._refresh_now()

    def _refresh_now(self) -> None:
        """Refresh the visible view now and the others when they are next shown: during a
        lookup run this runs a few times a second, and only what is seen is worth it."""
        self.refresh_header()
        self._stale = {VIEW_ENTITIES, VIEW_GRAPH, VIEW_TIMELINE, VIEW_EVIDENCE}
        self._refresh_visible()
        if not self.lookup_running():
            self.related.refresh()
            if self.detail.entity_id is not None:
                self.detail.show_entity_id(self.detail.entity_id)

    def _refresh_visible(self) -> None:
        index = self.views.currentIndex()
        if index not in self._stale:
            return
        if index == VIEW_GRAPH and self.lookup_running():
            return  # a layout per batch would be wasted: the graph reloads when the run ends
        self._stale.discard(index)
        if index == VIEW_ENTITIES:
            self.entities.refresh()
        elif index == VIEW_TIMELINE:
            self.timeline.refresh()
        elif index == VIEW_EVIDENCE:
            self.evidence.refresh()
        elif index == VIEW_GRAPH:
            self.graph.load()

    def lookup_running(self) -> bool:
        job = self.lookups.job
        return bool(job and job.running)

    def _view_changed(self, _index: int) -> None:
        self._refresh_visible()

    # -- navigation --------------------------------------------------------------------

    def show_view(self, index: int) -> None:
        self.views.setCurrentIndex(index)
        self._refresh_visible()

    def show_entity(self, entity_id: int | None) -> None:
        if entity_id is not None:
            self.detail.show_entity_id(entity_id)

    def show_in_graph(self, entity_id: int) -> None:
        self.show_view(VIEW_GRAPH)
        if self.graph.is_loaded and not self.graph.loading:
            self.graph.select_entity(entity_id)
        else:
            self.graph.loaded.connect(
                lambda: self.graph.select_entity(entity_id), Qt.ConnectionType.SingleShotConnection
            )

    def _timeline_activated(self, source: str, ident: int) -> None:
        if source == "lookup":
            row = self.window_.db.execute(
                "SELECT evidence_id FROM snapshot_evidence WHERE snapshot_id = ? LIMIT 1", [ident]
            ).fetchone()
            if row:
                self.window_.open_evidence(row[0])
            else:
                entity = self.window_.db.execute(
                    "SELECT entity_id FROM snapshots WHERE id = ?", [ident]
                ).fetchone()
                if entity:
                    self.show_entity(entity[0])
        else:
            event = self.window_.db.execute(
                "SELECT entity_id FROM event_entities WHERE event_id = ? LIMIT 1", [ident]
            ).fetchone()
            if event:
                self.show_entity(event[0])

    def selected_domain_values(self) -> list[str]:
        """The domains selected in the entities table (for 'look up selected')."""
        ids = [eid for eid, kind in self.entities.selected_entities() if kind == "domain"]
        if not ids:
            return []
        marks = ",".join("?" * len(ids))
        return [
            row[0]
            for row in self.window_.db.execute(
                f"SELECT key FROM entities WHERE id IN ({marks}) ORDER BY id",  # noqa: S608
                ids,
            )
        ]

    def save_state(self, settings) -> None:
        settings.setValue("workspace/case_splitter", self.splitter.saveState())
        settings.setValue("workspace/side_splitter", self.side.saveState())
        settings.setValue("workspace/entities_splitter", self.entities.splitter.saveState())

    def restore_state(self, settings) -> None:
        for key, splitter in (
            ("workspace/case_splitter", self.splitter),
            ("workspace/side_splitter", self.side),
            ("workspace/entities_splitter", self.entities.splitter),
        ):
            state = settings.value(key)
            if state is not None:
                splitter.restoreState(state)
