"""The evidence viewer: the raw response exactly as received, in a monospace plain-text
view (never rich text), with its SHA-256, capture time, server and query, a Verify button,
and, for a lookup's evidence, the history of lookups of the same domain with a readable
diff between any two of them.
"""

from __future__ import annotations

import difflib
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QSyntaxHighlighter, QTextCharFormat
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from workbench.domain.model import Evidence
from workbench.services import ui_queries
from workbench.store.evidence import get_evidence
from workbench.ui.icons import action_icon
from workbench.ui.widgets import (
    full_time,
    human_size,
    is_dark,
    plain_label,
    raw_text_view,
    status_colour,
)


class DiffHighlighter(QSyntaxHighlighter):
    """Colours a unified diff's added and removed lines (the text stays plain)."""

    def highlightBlock(self, text: str) -> None:
        colour = None
        if text.startswith("+") and not text.startswith("+++"):
            colour = "#4ade80" if is_dark() else "#166534"
        elif text.startswith("-") and not text.startswith("---"):
            colour = "#f87171" if is_dark() else "#991b1b"
        elif text.startswith("@@"):
            colour = "#93c5fd" if is_dark() else "#1d4ed8"
        if colour:
            fmt = QTextCharFormat()
            fmt.setForeground(QColor(colour))
            self.setFormat(0, len(text), fmt)


def readable_diff(before: str, after: str, before_name: str, after_name: str) -> str:
    lines = list(
        difflib.unified_diff(
            before.splitlines(), after.splitlines(), before_name, after_name, lineterm="", n=3
        )
    )
    return "\n".join(lines) if lines else "The two lookups stored the same text."


class EvidenceViewer(QDialog):
    """One evidence item. Non-modal: several can be open side by side."""

    def __init__(self, window, evidence_id: int):
        super().__init__(window)
        self.window_ = window
        self.evidence_id = evidence_id
        self.setObjectName("evidence_viewer")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.resize(900, 680)
        item, text = ui_queries.evidence_text(window.db, evidence_id)
        self.item = item
        self.setWindowTitle(f"Evidence #{item.id}: {item.kind} {item.query or item.filename or ''}")

        meta = QFormLayout()
        self.fields: dict[str, Any] = {}

        def field(name: str, label: str, value: str) -> None:
            shown = plain_label(value, selectable=True, wrap=True, object_name=f"meta_{name}")
            self.fields[name] = shown
            meta.addRow(label, shown)

        field("kind", "Kind", item.kind.replace("_", " "))
        field("sha256", "SHA-256", item.sha256)
        captured = full_time(item.captured_at)
        if item.imported:
            captured += " (claimed by whoever supplied it, not observed here)"
        field("captured", "Captured", captured)
        field("recorded", "Recorded", full_time(item.recorded_at))
        field("server", "Server or source", item.source or "—")
        field("query", "Query", item.query or "—")
        if item.filename:
            field("filename", "File name", item.filename)
        field("media", "Type and size", f"{item.media_type}, {human_size(item.size)}")
        if item.note:
            field("note", "Note", item.note)

        self.verify_button = QPushButton(action_icon("verify"), "Verify")
        self.verify_button.setObjectName("verify")
        self.verify_button.setToolTip(
            "Hash the stored bytes again and compare with the stored SHA-256 and the audit chain"
        )
        self.verify_button.clicked.connect(self.verify)
        self.verify_result = plain_label("", wrap=True, object_name="verify_result")
        verify_row = QHBoxLayout()
        verify_row.addWidget(self.verify_button)
        verify_row.addWidget(self.verify_result, 1)

        self.raw = raw_text_view()
        self.raw.setObjectName("raw")
        self.raw.setPlainText(text)

        self.tabs = QTabWidget()
        raw_page = QWidget()
        raw_layout = QVBoxLayout(raw_page)
        raw_layout.setContentsMargins(0, 0, 0, 0)
        raw_layout.addWidget(self.raw)
        self.tabs.addTab(raw_page, "Raw response")
        self.history: HistoryPage | None = None
        subject = self._lookup_subject(item)
        if subject is not None:
            self.history = HistoryPage(window, subject, evidence_id)
            self.tabs.addTab(self.history, "Lookup history and differences")

        layout = QVBoxLayout(self)
        layout.addLayout(meta)
        layout.addLayout(verify_row)
        layout.addWidget(self.tabs, 1)

    def _lookup_subject(self, item: Evidence) -> int | None:
        """The domain or address whose lookups this evidence belongs to, if any."""
        row = self.window_.db.execute(
            "SELECT s.entity_id FROM snapshot_evidence se "
            "JOIN snapshots s ON s.id = se.snapshot_id WHERE se.evidence_id = ? LIMIT 1",
            [item.id],
        ).fetchone()
        return row[0] if row else None

    def verify(self) -> None:
        self.verify_button.setEnabled(False)
        self.verify_result.setText("Verifying…")
        evidence_id = self.evidence_id
        self.window_.runner.read(
            lambda db: ui_queries.verify_evidence(db, evidence_id), self._verified
        )

    def _verified(self, result: dict) -> None:
        self.verify_button.setEnabled(True)
        if result["ok"]:
            self.verify_result.setText(
                "Verified: the stored bytes hash to the recorded SHA-256, which matches the "
                "audit chain's record of when the item was stored."
            )
            colour = status_colour("ok")
        else:
            self.verify_result.setText("NOT VERIFIED: " + "; ".join(result["problems"]))
            colour = status_colour("failed")
        palette = self.verify_result.palette()
        palette.setColor(self.verify_result.foregroundRole(), colour)
        self.verify_result.setPalette(palette)


class HistoryPage(QWidget):
    """Every lookup of one domain or address; pick two to see what changed."""

    def __init__(self, window, entity_id: int, evidence_id: int | None = None):
        super().__init__()
        self.window_ = window
        self.entity_id = entity_id
        self.snapshots = ui_queries.snapshot_history(window.db, entity_id)
        self.before = QComboBox(objectName="diff_before")
        self.after = QComboBox(objectName="diff_after")
        self.protocol = QComboBox(objectName="diff_protocol")
        protocols = sorted({s["protocol"] for s in self.snapshots})
        for protocol in protocols:
            self.protocol.addItem(protocol.upper().replace("_", " "), protocol)
        current = None
        if evidence_id is not None:
            for snapshot in self.snapshots:
                if evidence_id in snapshot["evidence_ids"]:
                    current = snapshot
        if current is not None:
            self.protocol.setCurrentIndex(max(0, self.protocol.findData(current["protocol"])))
        self.protocol.currentIndexChanged.connect(self._fill)
        self.before.currentIndexChanged.connect(self.show_diff)
        self.after.currentIndexChanged.connect(self.show_diff)
        self.count = plain_label("")
        self.diff = raw_text_view()
        self.diff.setObjectName("diff")
        self.highlighter = DiffHighlighter(self.diff.document())
        chooser = QHBoxLayout()
        chooser.addWidget(plain_label("Lookup kind"))
        chooser.addWidget(self.protocol)
        chooser.addWidget(plain_label("Compare"))
        chooser.addWidget(self.before, 1)
        chooser.addWidget(plain_label("with"))
        chooser.addWidget(self.after, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.count)
        layout.addLayout(chooser)
        layout.addWidget(self.diff, 1)
        self._fill()

    def _of_protocol(self) -> list[dict]:
        protocol = self.protocol.currentData()
        return [s for s in self.snapshots if s["protocol"] == protocol]

    def _fill(self) -> None:
        snapshots = self._of_protocol()
        for combo in (self.before, self.after):
            combo.blockSignals(True)
            combo.clear()
            for snapshot in snapshots:
                combo.addItem(
                    f"{full_time(snapshot['taken_at'])} — {snapshot['status']}", snapshot["id"]
                )
            combo.blockSignals(False)
        self.count.setText(
            f"{len(snapshots)} lookups of this kind recorded"
            + ("" if len(snapshots) > 1 else ": run the lookup again to compare two")
        )
        if snapshots:
            self.before.setCurrentIndex(max(0, len(snapshots) - 2))
            self.after.setCurrentIndex(len(snapshots) - 1)
        self.show_diff()

    def show_diff(self) -> None:
        before_id, after_id = self.before.currentData(), self.after.currentData()
        if before_id is None or after_id is None:
            self.diff.setPlainText("")
            return
        db = self.window_.db
        before = ui_queries.snapshot_text(db, before_id)
        after = ui_queries.snapshot_text(db, after_id)
        if before_id == after_id:
            self.diff.setPlainText(after)
            return
        self.diff.setPlainText(
            readable_diff(before, after, self.before.currentText(), self.after.currentText())
        )


def open_evidence(window, evidence_id: int) -> EvidenceViewer:
    get_evidence(window.db, evidence_id)  # NotFound before a window opens
    viewer = EvidenceViewer(window, evidence_id)
    viewer.show()
    window.open_viewers.append(viewer)
    viewer.destroyed.connect(
        lambda *_: window.open_viewers.remove(viewer) if viewer in window.open_viewers else None
    )
    return viewer
