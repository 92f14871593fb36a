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
from workbench.store.pivots import pivot_entity, pivot_neighbours
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
    the cases it appears in, and entities sharing one of its values.

    A hub (a hosting company's nameserver) is linked to thousands of domains: the dialog
    reads the first `PAGE` of each direction and link type (the store counts the rest)
    and a "more…" row under each group that has more reads its next page, both on the
    reader thread."""

    open_entity = Signal(int)
    open_case = Signal(int)
    open_evidence = Signal(int)

    PAGE = 200  # neighbours per direction and link type, cases and sharers per read

    def __init__(self, window, entity_id: int):
        super().__init__(window)
        self.window_ = window
        self.setObjectName("pivot_dialog")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.resize(720, 560)
        self.data: dict[str, Any] | None = None
        # Per (direction, link type) group that has more than is shown: its "more…" row,
        # how many it has in all, and the last entity shown (where its next page starts).
        self._more: dict[tuple[str, str], dict[str, Any]] = {}
        self._generation = 0  # answers for an entity no longer shown are dropped
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
        self._generation += 1
        generation, page = self._generation, self.PAGE
        self.summary.setText("Loading…")
        self.window_.runner.read(
            lambda db: pivot_entity(db, entity_id, limit=page),
            lambda data: self._loaded(data) if generation == self._generation else None,
        )

    def _loaded(self, data: dict[str, Any]) -> None:
        self.data = data
        counts = data["counts"]
        entity = data["entity"]
        self.setWindowTitle(f"Pivot: {kind_name(entity['kind'])} {entity['value']}")
        self.title.setText(f"{kind_name(entity['kind'])}: {entity['value']}")
        neighbours, cases, same = data["neighbours"], data["cases"], data["same_values"]
        self.summary.setText(
            f"Linked to {counts['neighbours']:,} entities, in {counts['cases']:,} case"
            f"{'s' if counts['cases'] != 1 else ''}, sharing a value with "
            f"{counts['same_values']:,} other entities."
        )
        self.tree.clear()
        self._more = {}
        section = QTreeWidgetItem(self.tree, [f"Cases ({counts['cases']:,})", ""])
        _bold(section)
        for case in cases:
            item = QTreeWidgetItem(section, [case["title"], case["status"]])
            item.setData(0, ROLE, ("case", case["id"]))
        _note_unshown(section, counts["cases"] - len(cases), "cases")
        section.setExpanded(True)
        section = QTreeWidgetItem(self.tree, [f"Linked entities ({counts['neighbours']:,})", ""])
        _bold(section)
        self.linked_section = section
        shown: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for neighbour in neighbours:
            shown.setdefault((neighbour["direction"], neighbour["type"]), []).append(neighbour)
        for group in counts["by_type"]:
            key = (group["direction"], group["type"])
            for neighbour in shown.get(key, []):
                self._add_neighbour(section, neighbour)
            page = shown.get(key, [])
            if group["count"] > len(page):
                more = QTreeWidgetItem(section, ["", _how(*key, None)])
                more.setData(0, ROLE, ("more", key))
                self._more[key] = {
                    "item": more,
                    "total": group["count"],
                    "shown": len(page),
                    "after": page[-1]["entity"]["id"] if page else 0,
                    "loading": False,
                }
                self._label_more(key)
        section.setExpanded(True)
        section = QTreeWidgetItem(self.tree, [f"Sharing a value ({counts['same_values']:,})", ""])
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
        _note_unshown(section, counts["same_values"] - len(same), "entities")
        section.setExpanded(True)

    def _add_neighbour(
        self, section: QTreeWidgetItem, neighbour: dict[str, Any], before: int | None = None
    ) -> None:
        other = neighbour["entity"]
        item = QTreeWidgetItem(
            [other["value"], _how(neighbour["direction"], neighbour["type"], neighbour["label"])]
        )
        if before is None:
            section.addChild(item)
        else:
            section.insertChild(before, item)
        item.setIcon(0, kind_icon(other["kind"]))
        item.setData(0, ROLE, ("entity", other["id"]))
        for evidence_id in neighbour.get("evidence_ids", []):
            child = QTreeWidgetItem(item, [f"evidence #{evidence_id}", "open"])
            child.setData(0, ROLE, ("evidence", evidence_id))

    def _label_more(self, key: tuple[str, str]) -> None:
        group = self._more[key]
        left = group["total"] - group["shown"]
        text = "loading…" if group["loading"] else f"more… ({left:,} more of {group['total']:,})"
        group["item"].setText(0, text)

    def load_more(self, key: tuple[str, str]) -> None:
        """Read the next page of one group of neighbours (on the reader thread) and show
        it above the group's "more…" row."""
        group = self._more.get(key)
        if group is None or group["loading"]:
            return
        group["loading"] = True
        self._label_more(key)
        entity_id, after, page = self.entity_id, group["after"], self.PAGE
        generation = self._generation
        direction, link_type = key

        def done(rows: list[dict[str, Any]]) -> None:
            if generation == self._generation and self._more.get(key) is group:
                self._more_loaded(key, rows)

        def failed(exc: BaseException) -> None:
            if generation == self._generation and self._more.get(key) is group:
                group["loading"] = False
                self._label_more(key)

        self.window_.runner.read(
            lambda db: pivot_neighbours(
                db, entity_id, direction, link_type, after_entity_id=after, limit=page
            ),
            done,
            failed,
            title="Could not read the next neighbours",
        )

    def _more_loaded(self, key: tuple[str, str], rows: list[dict[str, Any]]) -> None:
        group = self._more[key]
        section = self.linked_section
        position = section.indexOfChild(group["item"])
        for offset, neighbour in enumerate(rows):
            self._add_neighbour(section, neighbour, before=position + offset)
        if self.data is not None:
            self.data["neighbours"].extend(rows)
        group["shown"] += len(rows)
        group["loading"] = False
        if rows:
            group["after"] = rows[-1]["entity"]["id"]
        if not rows or group["shown"] >= group["total"]:
            # Everything is shown (or links went away meanwhile): the row has done its job.
            current = self.tree.currentItem() is group["item"]
            section.removeChild(group["item"])
            del self._more[key]
            if current and rows:
                self.tree.setCurrentItem(section.child(position + len(rows) - 1))
        else:
            self._label_more(key)

    def _activated(self, item: QTreeWidgetItem, _column: int) -> None:
        target = item.data(0, ROLE)
        if not target:
            return
        what, ident = target
        if what == "more":
            self.load_more(ident)
            return
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

    def more_rows(self) -> list[QTreeWidgetItem]:
        """The "more…" rows shown, in order (one per group with more to read)."""
        return [group["item"] for group in self._more.values()]

    def texts(self) -> list[tuple[str, str]]:
        rows = []
        for index in range(self.tree.topLevelItemCount()):
            top = self.tree.topLevelItem(index)
            rows.append((top.text(0), top.text(1)))
            for child in range(top.childCount()):
                rows.append((top.child(child).text(0), top.child(child).text(1)))
        return rows


def _how(direction: str, link_type: str, label: str | None) -> str:
    """How a neighbour is linked: "→ uses nameserver (primary)"."""
    how = link_type.replace("_", " ") + (f" ({label})" if label else "")
    return ("→ " if direction == "out" else "← ") + how


def _note_unshown(section: QTreeWidgetItem, left: int, what: str) -> None:
    """A row saying how many of a section are not listed (the first page is shown)."""
    if left > 0:
        QTreeWidgetItem(section, [f"… and {left:,} more {what} (not listed)", ""])


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
