"""Where the data the app ships lives: resources/ beside the package in a source tree or
an editable install, or inside a frozen application bundle (PyInstaller's _MEIPASS)."""

from __future__ import annotations

import sys
from pathlib import Path

import workbench


def resources_dir() -> Path:
    frozen = getattr(sys, "_MEIPASS", None)
    if frozen:
        return Path(frozen) / "resources"
    return Path(workbench.__file__).resolve().parent.parent / "resources"
