"""The main window: the store's cases in a table. (The full workspace is issue 4.)"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt
from PySide6.QtWidgets import QMainWindow, QTableView
from sqlite_utils import Database

from workbench.store.cases import list_cases


class CaseListModel(QAbstractTableModel):
    """Cases as rows, over the plain dicts `list_cases` returns."""

    HEADERS = ("ID", "Title", "Status", "Entities", "Evidence", "Events", "Last change (UTC)")

    def __init__(self, rows: list[dict], parent=None):
        super().__init__(parent)
        self._rows = rows

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.HEADERS[section]
        return None

    def data(self, index: QModelIndex, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or role != Qt.ItemDataRole.DisplayRole:
            return None
        row = self._rows[index.row()]
        counts = row["counts"]
        values = (
            row["id"],
            row["title"],
            row["status"],
            counts["entities"],
            counts["evidence"],
            counts["events"],
            row["updated_at"][:16].replace("T", " "),
        )
        return values[index.column()]

    def case_id(self, row: int) -> int:
        return self._rows[row]["id"]


class MainWindow(QMainWindow):
    def __init__(self, db: Database, store_path: Path):
        super().__init__()
        self.db = db
        self.setWindowTitle(f"Workbench — {store_path.name}")
        self.cases_view = QTableView(self)
        self.cases_view.setObjectName("cases")
        self.cases_view.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.setCentralWidget(self.cases_view)
        self.statusBar().showMessage(str(store_path))
        self.resize(1000, 640)
        self.refresh()

    def refresh(self) -> None:
        self.cases_model = CaseListModel(list_cases(self.db), self)
        self.cases_view.setModel(self.cases_model)
        self.cases_view.resizeColumnsToContents()
