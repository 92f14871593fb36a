"""Going across the store: a pivot from one entity to everything that shares it, and
full-text search with results grouped by kind, each opening its entity, event or evidence.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
)

from workbench.domain.errors import InvalidInput
from workbench.store.pivots import pivot_entity
from workbench.store.search import search
from workbench.ui.icons import action_icon, kind_icon, kind_name
from workbench.ui.widgets import heading_label, plain_label

ROLE = Qt.ItemDataRole.UserRole


def _bold(item: QTreeWidgetItem) -> None:
    font = item.font(0)
    font.setBold(True)
    item.setFont(0, font)


class PivotDialog(QDialog):
    """Everything else in the store that shares one entity: linked entities (and how),
    the cases it appears in, and entities sharing one of its values."""

    open_entity = Signal(int)
    open_case = Signal(int)
    open_evidence = Signal(int)

    def __init__(self, window, entity_id: int):
        super().__init__(window)
        self.window_ = window
        self.setObjectName("pivot_dialog")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.resize(720, 560)
        self.data: dict[str, Any] | None = None
        self.title = heading_label("Pivot", size_delta=2)
        self.summary = plain_label("Loading…", wrap=True, object_name="pivot_summary")
        self.tree = QTreeWidget()
        self.tree.setObjectName("pivot_tree")
        self.tree.setHeaderLabels(["Entity or case", "How"])
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.tree.header().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.itemActivated.connect(self._activated)
        again = QPushButton(action_icon("pivot"), "Pivot on the selected entity")
        again.clicked.connect(self._pivot_again)
        buttons = QHBoxLayout()
        buttons.addWidget(again)
        buttons.addStretch()
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.summary)
        layout.addWidget(self.tree, 1)
        layout.addLayout(buttons)
        self.load(entity_id)

    def load(self, entity_id: int) -> None:
        self.entity_id = entity_id
        self.summary.setText("Loading…")
        self.window_.runner.read(lambda db: pivot_entity(db, entity_id), self._loaded)

    def _loaded(self, data: dict[str, Any]) -> None:
        self.data = data
        entity = data["entity"]
        self.setWindowTitle(f"Pivot: {kind_name(entity['kind'])} {entity['value']}")
        self.title.setText(f"{kind_name(entity['kind'])}: {entity['value']}")
        neighbours, cases, same = data["neighbours"], data["cases"], data["same_values"]
        self.summary.setText(
            f"Linked to {len(neighbours)} entities, in {len(cases)} case"
            f"{'s' if len(cases) != 1 else ''}, sharing a value with {len(same)} other entities."
        )
        self.tree.clear()
        section = QTreeWidgetItem(self.tree, [f"Cases ({len(cases)})", ""])
        _bold(section)
        for case in cases:
            item = QTreeWidgetItem(section, [case["title"], case["status"]])
            item.setData(0, ROLE, ("case", case["id"]))
        section.setExpanded(True)
        section = QTreeWidgetItem(self.tree, [f"Linked entities ({len(neighbours)})", ""])
        _bold(section)
        for neighbour in neighbours:
            other = neighbour["entity"]
            how = neighbour["type"].replace("_", " ") + (
                f" ({neighbour['label']})" if neighbour["label"] else ""
            )
            how = ("→ " if neighbour["direction"] == "out" else "← ") + how
            item = QTreeWidgetItem(section, [other["value"], how])
            item.setIcon(0, kind_icon(other["kind"]))
            item.setData(0, ROLE, ("entity", other["id"]))
            for evidence_id in neighbour.get("evidence_ids", []):
                child = QTreeWidgetItem(item, [f"evidence #{evidence_id}", "open"])
                child.setData(0, ROLE, ("evidence", evidence_id))
        section.setExpanded(True)
        section = QTreeWidgetItem(self.tree, [f"Sharing a value ({len(same)})", ""])
        _bold(section)
        for shared in same:
            other = shared["entity"]
            item = QTreeWidgetItem(
                section,
                [
                    other["value"],
                    f"same {str(shared['name']).replace('_', ' ')}: {shared['value']}",
                ],
            )
            item.setIcon(0, kind_icon(other["kind"]))
            item.setData(0, ROLE, ("entity", other["id"]))
        section.setExpanded(True)

    def _activated(self, item: QTreeWidgetItem, _column: int) -> None:
        target = item.data(0, ROLE)
        if not target:
            return
        what, ident = target
        signals = {
            "entity": self.open_entity,
            "case": self.open_case,
            "evidence": self.open_evidence,
        }
        signals[what].emit(ident)

    def _pivot_again(self) -> None:
        item = self.tree.currentItem()
        target = item.data(0, ROLE) if item else None
        if target and target[0] == "entity":
            self.load(target[1])

    def texts(self) -> list[tuple[str, str]]:
        rows = []
        for index in range(self.tree.topLevelItemCount()):
            top = self.tree.topLevelItem(index)
            rows.append((top.text(0), top.text(1)))
            for child in range(top.childCount()):
                rows.append((top.child(child).text(0), top.child(child).text(1)))
        return rows


RESULT_GROUPS = {"entity": "Entities", "event": "Events", "evidence": "Evidence"}


class SearchDialog(QDialog):
    """Full-text search across the store, results grouped by kind; Enter or a double-click
    opens a result."""

    open_entity = Signal(int)
    open_event = Signal(int)
    open_evidence = Signal(int)

    def __init__(self, window, query: str = ""):
        super().__init__(window)
        self.window_ = window
        self.setObjectName("search_dialog")
        self.setWindowTitle("Search the store")
        self.resize(760, 560)
        self.query = QLineEdit(objectName="search_query")
        self.query.setPlaceholderText("Words to find in entities, events and evidence text")
        self.query.setClearButtonEnabled(True)
        self.query.returnPressed.connect(self.run)
        self._debounce = QTimer(self, singleShot=True, interval=250)
        self._debounce.timeout.connect(self.run)
        self.query.textEdited.connect(lambda _text: self._debounce.start())
        self.summary = plain_label("", object_name="search_summary")
        self.tree = QTreeWidget()
        self.tree.setObjectName("search_results")
        self.tree.setHeaderLabels(["Result", "Where the words are"])
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        self.tree.header().resizeSection(0, 300)
        self.tree.header().setStretchLastSection(True)
        self.tree.itemActivated.connect(self._activated)
        self.results: list[dict[str, Any]] = []
        layout = QVBoxLayout(self)
        layout.addWidget(self.query)
        layout.addWidget(self.summary)
        layout.addWidget(self.tree, 1)
        if query:
            self.query.setText(query)
            self.run()

    def run(self) -> None:
        text = self.query.text()
        if not text.strip():
            self.tree.clear()
            self.summary.setText("")
            return
        self.summary.setText("Searching…")
        self.window_.runner.read(
            lambda db: search(db, text, limit=100),
            lambda results: self._show(text, results),
            self._failed,
        )

    def _failed(self, exc: BaseException) -> None:
        self.summary.setText(str(exc) if isinstance(exc, InvalidInput) else f"Search failed: {exc}")

    def _show(self, text: str, results: list[dict[str, Any]]) -> None:
        if text != self.query.text():
            return  # a newer search is on its way
        self.results = results
        self.tree.clear()
        groups: dict[str, QTreeWidgetItem] = {}
        entity_groups: dict[str, QTreeWidgetItem] = {}
        for result in results:
            group = groups.get(result["type"])
            if group is None:
                group = QTreeWidgetItem(self.tree, [RESULT_GROUPS.get(result["type"], ""), ""])
                _bold(group)
                group.setExpanded(True)
                groups[result["type"]] = group
            parent = group
            title = result["title"]
            icon = None
            if result["type"] == "entity":
                kind, _, value = title.partition(": ")
                parent = entity_groups.get(kind)
                if parent is None:
                    parent = QTreeWidgetItem(group, [kind_name(kind, plural=True), ""])
                    parent.setIcon(0, kind_icon(kind))
                    parent.setExpanded(True)
                    entity_groups[kind] = parent
                title, icon = value, kind_icon(kind)
            item = QTreeWidgetItem(parent, [title, " ".join(result["snippet"].split())])
            if icon is not None:
                item.setIcon(0, icon)
            item.setData(0, ROLE, (result["type"], result["id"]))
        for group_type, group in groups.items():
            count = sum(1 for r in results if r["type"] == group_type)
            group.setText(0, f"{RESULT_GROUPS.get(group_type, group_type)} ({count})")
        for kind, parent in entity_groups.items():
            parent.setText(0, f"{kind_name(kind, plural=True)} ({parent.childCount()})")
        self.summary.setText(
            f"{len(results)} result{'s' if len(results) != 1 else ''}" if results else "No match"
        )
        first = self._first_result()
        if first is not None:
            self.tree.setCurrentItem(first)

    def _first_result(self) -> QTreeWidgetItem | None:
        def walk(item: QTreeWidgetItem):
            if item.data(0, ROLE):
                return item
            for index in range(item.childCount()):
                found = walk(item.child(index))
                if found is not None:
                    return found
            return None

        for index in range(self.tree.topLevelItemCount()):
            found = walk(self.tree.topLevelItem(index))
            if found is not None:
                return found
        return None

    def _activated(self, item: QTreeWidgetItem, _column: int) -> None:
        target = item.data(0, ROLE)
        if not target:
            return
        what, ident = target
        signals = {
            "entity": self.open_entity,
            "event": self.open_event,
            "evidence": self.open_evidence,
        }
        signals[what].emit(ident)

    def group_texts(self) -> list[str]:
        return [self.tree.topLevelItem(i).text(0) for i in range(self.tree.topLevelItemCount())]
