"""UI tests drive the real MainWindow offscreen with pytest-qt.

QT_QPA_PLATFORM must be set before Qt is imported anywhere; QSettings are pointed at the
test's temporary folder so a test never reads or writes the user's settings."""

from __future__ import annotations

import contextlib
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.pop("WORKBENCH_THEME", None)

from pathlib import Path

import pytest
from PySide6.QtCore import QSettings

from workbench.services import casework
from workbench.services.demo import build_demo
from workbench.store.database import open_store


@pytest.fixture(autouse=True)
def private_settings(tmp_path: Path):
    """Every test gets empty app settings of its own."""
    folder = tmp_path / "config"
    folder.mkdir()
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(folder))
    yield folder


def _make_window(qtbot, store_path: Path):
    from workbench.ui.app import make_application
    from workbench.ui.main_window import MainWindow

    make_application()
    db = open_store(store_path)
    window = MainWindow(db, store_path)
    qtbot.addWidget(window)
    window.show()
    return window


@pytest.fixture
def make_window(qtbot):
    """Open a window on a store path; windows are shut down cleanly after the test."""
    made = []

    def make(path: Path):
        window = _make_window(qtbot, path)
        made.append(window)
        return window

    yield make
    for window in made:
        if window.lookup_job is not None:
            window.lookup_job.cancel()
            window.lookup_job.join(10)
        window.shutdown()
        with contextlib.suppress(Exception):  # already closed by a store switch
            window.db.close()


@pytest.fixture
def window(make_window, store_path: Path):
    """The main window on a fresh, empty store."""
    return make_window(store_path)


@pytest.fixture
def demo_store(store_path: Path) -> dict[str, int]:
    """The scenario's two cases (AllofMP3, Soundsbox) built through the core services."""
    db = open_store(store_path)
    try:
        return build_demo(db)["cases"]
    finally:
        db.close()


@pytest.fixture
def demo_window(make_window, store_path: Path, demo_store):
    window = make_window(store_path)
    window.demo = demo_store
    return window


def new_case_in(store_path: Path, title: str) -> int:
    db = open_store(store_path)
    try:
        return casework.new_case(db, title).id
    finally:
        db.close()


def idle(qtbot, window, timeout: int = 10_000) -> None:
    """Wait until every queued store task has delivered its result."""
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=timeout)
