"""Start the desktop app on a store.

Dark mode follows the system: when the platform reports a dark colour scheme (Qt 6.5+
`QStyleHints.colorScheme`), the Fusion style gets a dark palette, and switching the system
theme while the app runs switches it too. `WORKBENCH_THEME=dark|light` forces one (for
screenshots and for desktops that report nothing).
"""

from __future__ import annotations

import gc
import logging
import os
import sys
from pathlib import Path

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QMessageBox
from sqlite_utils import Database

from workbench import __version__
from workbench.domain.errors import WorkbenchError
from workbench.store.database import open_store
from workbench.ui.icons import app_icon
from workbench.ui.main_window import MainWindow
from workbench.ui.widgets import show_message

THEME_ENV = "WORKBENCH_THEME"
NO_DEMO_ENV = "WORKBENCH_NO_DEMO"


def dark_palette() -> QPalette:
    palette = QPalette()
    window, base, text = QColor("#1f2329"), QColor("#16191d"), QColor("#e6e8eb")
    roles = QPalette.ColorRole
    palette.setColor(roles.Window, window)
    palette.setColor(roles.WindowText, text)
    palette.setColor(roles.Base, base)
    palette.setColor(roles.AlternateBase, QColor("#1c2025"))
    palette.setColor(roles.ToolTipBase, QColor("#2b3038"))
    palette.setColor(roles.ToolTipText, text)
    palette.setColor(roles.PlaceholderText, QColor("#8b929b"))
    palette.setColor(roles.Text, text)
    palette.setColor(roles.Button, QColor("#2a2f36"))
    palette.setColor(roles.ButtonText, text)
    palette.setColor(roles.BrightText, QColor("#ff6b6b"))
    palette.setColor(roles.Highlight, QColor("#2f6fdb"))
    palette.setColor(roles.HighlightedText, QColor("#ffffff"))
    palette.setColor(roles.Link, QColor("#7fb0ff"))
    palette.setColor(roles.Mid, QColor("#3a4048"))
    palette.setColor(roles.Dark, QColor("#111316"))
    palette.setColor(roles.Light, QColor("#3a4048"))
    palette.setColor(roles.Shadow, QColor("#000000"))
    disabled = QPalette.ColorGroup.Disabled
    for role in (roles.Text, roles.WindowText, roles.ButtonText):
        palette.setColor(disabled, role, QColor("#7b828b"))
    return palette


def wants_dark(app: QGuiApplication) -> bool:
    forced = os.environ.get(THEME_ENV, "").strip().lower()
    if forced in ("dark", "light"):
        return forced == "dark"
    return app.styleHints().colorScheme() == Qt.ColorScheme.Dark


def apply_theme(app: QApplication) -> None:
    """Fusion, with a dark palette when the system (or WORKBENCH_THEME) asks for one."""
    app.setStyle("Fusion")
    app.setPalette(dark_palette() if wants_dark(app) else app.style().standardPalette())


def make_application(argv: list[str] | None = None) -> QApplication:
    app = QApplication.instance() or QApplication(argv or sys.argv[:1])
    app.setApplicationName("workbench")
    app.setOrganizationName("workbench")
    app.setApplicationDisplayName("Rights-Investigation Workbench")
    app.setApplicationVersion(__version__)
    app.setWindowIcon(app_icon())
    apply_theme(app)
    app.styleHints().colorSchemeChanged.connect(lambda _scheme: apply_theme(app))
    return app


def binding_problem() -> str | None:
    """Why the installed Qt binding is unsafe to run on, or None.

    PySide6 6.12.0 on CPython 3.11 drops a reference to None on every call of a method
    that returns nothing (and to True on every Signal.emit): after some tens of thousands
    of calls the interpreter aborts ("Fatal Python error: none_dealloc"). 6.11 is sound.
    """
    probe = QObject()
    before = sys.getrefcount(None)
    for _ in range(64):
        probe.setObjectName("probe")
    lost = before - sys.getrefcount(None)
    if lost < 32:
        return None
    import PySide6

    return (
        f"PySide6 {PySide6.__version__} loses a Python reference on every Qt call here "
        f"(Python {sys.version.split()[0]}); the app will abort after a while. Install "
        "PySide6-Essentials 6.11 (pip install 'PySide6-Essentials<6.12')."
    )


def settle_memory() -> None:
    """Move every object alive now out of the garbage collector's sight (`gc.freeze`).

    A full collection scans every tracked object; with Qt's wrappers and a case's rows
    that is tens of milliseconds during which the window does not answer. Objects alive
    at start-up (and when a lookup run starts) live as long as the window anyway."""
    gc.collect()
    gc.freeze()


def open_or_start_store(store_path: Path) -> tuple[Database, bool]:
    """Open the store; a store that did not exist yet gets the demo cases, so a new user's
    first window has something in every view (`WORKBENCH_NO_DEMO=1` starts it empty).
    Returns the store and whether the demo was put in it."""
    new = not Path(store_path).exists()
    db = open_store(store_path)
    if not new or os.environ.get(NO_DEMO_ENV):
        return db, False
    try:
        from workbench.services.demo import build_demo

        build_demo(db)
    except WorkbenchError:
        logging.getLogger(__name__).exception("the demo cases could not be built")
        return db, False
    return db, True


def run_app(store_path: Path, argv: list[str] | None = None, *, read_only: bool = False) -> int:
    """The desktop app on `store_path` until its window closes; returns the exit code.
    `read_only`: a review (of a bundle's store): nothing can be changed, no demo added."""
    logging.basicConfig(level=logging.WARNING)
    app = make_application(argv)
    try:
        if read_only:
            db, demo = open_store(store_path, read_only=True), False
        else:
            db, demo = open_or_start_store(Path(store_path))
    except WorkbenchError as exc:
        box = QMessageBox(QMessageBox.Icon.Critical, "Cannot open the store", str(exc))
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.exec()
        return 2
    window = MainWindow(db, Path(store_path), read_only=read_only)
    window.show()
    if demo:
        window.show_demo_welcome()
    problem = binding_problem()
    if problem:
        logging.getLogger(__name__).error(problem)
        show_message(window, "Unsafe Qt version", problem, error=True)
    settle_memory()
    code = app.exec()
    db.close()
    return code
