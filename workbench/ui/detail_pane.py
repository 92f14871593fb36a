"""The detail pane: one entity whole. Its attributes, what registries redacted about it
(shown as redacted, with the evidence holding the placeholder), its links out and in with
the evidence behind each, the cases it appears in, and its lookups.

Loaded on the reader thread: a registrar linked to a thousand domains is a large read.
"""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)
from sqlite_utils import Database

from workbench.services import ui_queries
from workbench.store.details import entity_detail
from workbench.ui.icons import action_icon, kind_icon, kind_name
from workbench.ui.widgets import (
    STATUS_NAMES,
    heading_label,
    plain_label,
    short_time,
    status_colour,
    warning_colour,
)

MAX_LINKS_SHOWN = 400
ROLE = Qt.ItemDataRole.UserRole


def load_entity(db: Database, entity_id: int) -> dict[str, Any]:
    """Everything the pane shows about an entity (runs on the reader thread)."""
    detail = entity_detail(db, entity_id)
    detail["redacted"] = ui_queries.redacted_fields(db, entity_id)
    detail["snapshots"] = ui_queries.snapshot_history(db, entity_id)[-20:]
    return detail


def _value_text(value: Any) -> str:
    if isinstance(value, list):
        if value and isinstance(value[0], dict):
            return "; ".join(
                f"{v.get('amount')} {v.get('currency')} per {v.get('unit')}"
                if {"amount", "currency"} <= set(v)
                else json.dumps(v, ensure_ascii=False)
                for v in value
            )
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


class DetailPane(QWidget):
    """Shows one entity; asks the window to open evidence, cases, pivots and lookups."""

    open_evidence = Signal(int)
    open_case = Signal(int)
    show_entity = Signal(int)
    pivot = Signal(int)
    look_up = Signal(int)
    show_in_graph = Signal(int)

    def __init__(self, window, parent: QWidget | None = None):
        super().__init__(parent)
        self.window_ = window
        self.setObjectName("detail_pane")
        self.entity: dict[str, Any] | None = None
        self.entity_id: int | None = None
        self._generation = 0

        self.icon = plain_label("")
        self.title = heading_label("Nothing selected", size_delta=3)
        self.title.setObjectName("detail_title")
        self.title.setWordWrap(True)
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.subtitle = plain_label(
            "Select an entity in a table, the graph or a search.",
            wrap=True,
            object_name="detail_subtitle",
        )
        header = QHBoxLayout()
        header.addWidget(self.icon)
        header.addWidget(self.title, 1)

        self.pivot_button = QPushButton(action_icon("pivot"), "Pivot")
        self.pivot_button.setToolTip("Everything else in the store that shares this entity")
        self.pivot_button.clicked.connect(lambda: self._emit(self.pivot))
        self.lookup_button = QPushButton(action_icon("lookup"), "Look up")
        self.lookup_button.setToolTip("WHOIS, RDAP and DNS of this domain now")
        self.lookup_button.clicked.connect(lambda: self._emit(self.look_up))
        self.graph_button = QPushButton(action_icon("graph"), "Show in graph")
        self.graph_button.clicked.connect(lambda: self._emit(self.show_in_graph))
        buttons = QHBoxLayout()
        for button in (self.pivot_button, self.lookup_button, self.graph_button):
            button.setEnabled(False)
            buttons.addWidget(button)
        buttons.addStretch()

        self.tree = QTreeWidget()
        self.tree.setObjectName("detail_tree")
        self.tree.setColumnCount(2)
        self.tree.setHeaderLabels(["", ""])
        self.tree.setHeaderHidden(True)
        self.tree.setUniformRowHeights(True)
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        self.tree.header().setStretchLastSection(True)
        self.tree.setWordWrap(False)
        self.tree.itemActivated.connect(self._activated)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(header)
        layout.addWidget(self.subtitle)
        layout.addLayout(buttons)
        layout.addWidget(self.tree, 1)

    def _emit(self, signal) -> None:
        if self.entity_id is not None:
            signal.emit(self.entity_id)

    # -- loading -----------------------------------------------------------------------

    def show_entity_id(self, entity_id: int) -> None:
        """Load and show an entity (results of older requests are dropped)."""
        self._generation += 1
        generation = self._generation
        self.entity_id = entity_id
        self.subtitle.setText("Loading…")
        self.window_.runner.read(
            lambda db: load_entity(db, entity_id),
            lambda detail: self._loaded(generation, detail),
            lambda exc: self._failed(generation, exc),
        )

    def _failed(self, generation: int, exc: BaseException) -> None:
        if generation == self._generation:
            self.subtitle.setText(f"Cannot show this entity: {exc}")

    def _loaded(self, generation: int, detail: dict[str, Any]) -> None:
        if generation != self._generation:
            return
        self.entity = detail
        entity = detail["entity"]
        self.icon.setPixmap(kind_icon(entity["kind"]).pixmap(32, 32))
        self.title.setText(entity["value"])
        cases = detail["cases"]
        self.subtitle.setText(
            f"{kind_name(entity['kind'])} · in {len(cases)} case{'s' if len(cases) != 1 else ''}"
            f" · first recorded {short_time(entity['created_at'])}"
        )
        for button in (self.pivot_button, self.graph_button):
            button.setEnabled(True)
        self.lookup_button.setEnabled(entity["kind"] == "domain")
        self._fill_tree(detail)
        # Measured once per entity shown, not on every change.
        self.tree.resizeColumnToContents(0)
        self.tree.setColumnWidth(0, min(self.tree.columnWidth(0), 260))

    def clear(self) -> None:
        self._generation += 1
        self.entity = None
        self.entity_id = None
        self.title.setText("Nothing selected")
        self.subtitle.setText("Select an entity in a table, the graph or a search.")
        self.icon.clear()
        self.tree.clear()
        for button in (self.pivot_button, self.lookup_button, self.graph_button):
            button.setEnabled(False)

    # -- the tree ----------------------------------------------------------------------

    def _section(self, title: str) -> QTreeWidgetItem:
        item = QTreeWidgetItem(self.tree, [title, ""])
        font = item.font(0)
        font.setBold(True)
        item.setFont(0, font)
        item.setFirstColumnSpanned(True)
        item.setExpanded(True)
        return item

    def _fill_tree(self, detail: dict[str, Any]) -> None:
        self.tree.clear()
        entity = detail["entity"]
        evidence = {item["id"]: item for item in detail["evidence"]}

        attributes = self._section("Attributes")
        QTreeWidgetItem(attributes, ["key", entity["key"]])
        for name, value in sorted(entity["attrs"].items()):
            item = QTreeWidgetItem(attributes, [name.replace("_", " "), _value_text(value)])
            item.setToolTip(1, "")
            if (name == "line_type" and value == "fax") or (
                name == "recognised_by_labels" and value == "no"
            ):
                item.setForeground(1, warning_colour())
        if detail["redacted"]:
            redacted = self._section("Redacted by the registry or registrar")
            for report in detail["redacted"]:
                fields = report["fields"]
                item = QTreeWidgetItem(
                    redacted,
                    [
                        f"{report['protocol'].upper()} {short_time(report['taken_at'])}",
                        f"[REDACTED] {len(fields)} field{'s' if len(fields) != 1 else ''}: "
                        + ", ".join(fields),
                    ],
                )
                item.setForeground(1, warning_colour())
                if report["evidence_ids"]:
                    item.setData(0, ROLE, ("evidence", report["evidence_ids"][0]))
                for field in fields:
                    child = QTreeWidgetItem(item, [field, "[REDACTED]"])
                    child.setForeground(1, warning_colour())
        for key, title in (("links_out", "Links out"), ("links_in", "Links in")):
            links = detail[key]
            section = self._section(f"{title} ({len(links)})")
            for link in links[:MAX_LINKS_SHOWN]:
                other = link["other"]
                label = link["type"].replace("_", " ") + (
                    f" ({link['label']})" if link["label"] else ""
                )
                item = QTreeWidgetItem(section, [label, other["value"]])
                item.setIcon(1, kind_icon(other["kind"]))
                item.setData(0, ROLE, ("entity", other["id"]))
                if not link["evidence_ids"]:
                    child = QTreeWidgetItem(item, ["evidence", "entered by hand (no evidence)"])
                    child.setDisabled(True)
                for evidence_id in link["evidence_ids"]:
                    meta = evidence.get(evidence_id)
                    if meta:
                        what = meta.get("query") or meta.get("filename") or ""
                        text = (
                            f"#{evidence_id} {meta['kind']} {what} · "
                            f"{short_time(meta['captured_at'])} · {meta['sha256'][:12]}…"
                        )
                    else:
                        text = f"#{evidence_id}"
                    child = QTreeWidgetItem(item, ["evidence", text])
                    child.setData(0, ROLE, ("evidence", evidence_id))
            if len(links) > MAX_LINKS_SHOWN:
                QTreeWidgetItem(
                    section, ["…", f"{len(links) - MAX_LINKS_SHOWN} more: use Pivot to see all"]
                )

        cases = self._section(f"Cases ({len(detail['cases'])})")
        for case in detail["cases"]:
            item = QTreeWidgetItem(cases, [case["status"], case["title"]])
            item.setData(0, ROLE, ("case", case["id"]))

        if detail["snapshots"]:
            lookups = self._section("Lookups")
            for snapshot in reversed(detail["snapshots"]):
                status = snapshot["status"]
                text = STATUS_NAMES.get(status, status)
                if snapshot["reason"] and status != "ok":
                    text += f" ({snapshot['reason']})"
                item = QTreeWidgetItem(
                    lookups,
                    [f"{snapshot['protocol'].upper()} {short_time(snapshot['taken_at'])}", text],
                )
                item.setForeground(1, status_colour(status))
                if snapshot["evidence_ids"]:
                    item.setData(0, ROLE, ("evidence", snapshot["evidence_ids"][0]))

    def _activated(self, item: QTreeWidgetItem, _column: int) -> None:
        target = item.data(0, ROLE)
        if not target:
            return
        what, ident = target
        if what == "evidence":
            self.open_evidence.emit(ident)
        elif what == "case":
            self.open_case.emit(ident)
        elif what == "entity":
            self.show_entity.emit(ident)

    def item_texts(self) -> list[tuple[str, str]]:
        """Every row of the tree as (column 0, column 1): what the pane shows, for tests."""
        rows = []

        def walk(item: QTreeWidgetItem) -> None:
            rows.append((item.text(0), item.text(1)))
            for index in range(item.childCount()):
                walk(item.child(index))

        for index in range(self.tree.topLevelItemCount()):
            walk(self.tree.topLevelItem(index))
        return rows
