"""Start the desktop app on a store."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtWidgets import QApplication, QMessageBox

from workbench import __version__
from workbench.domain.errors import WorkbenchError
from workbench.store.database import open_store
from workbench.ui.main_window import MainWindow


def run_app(store_path: Path, argv: list[str] | None = None) -> int:
    app = QApplication.instance() or QApplication(argv or sys.argv[:1])
    app.setApplicationName("workbench")
    app.setApplicationDisplayName("Rights-Investigation Workbench")
    app.setApplicationVersion(__version__)
    try:
        db = open_store(store_path)
    except WorkbenchError as exc:
        QMessageBox.critical(None, "Cannot open the store", str(exc))
        return 2
    window = MainWindow(db, store_path)
    window.show()
    return app.exec()
