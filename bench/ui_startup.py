"""Startup to a usable window (issue 8, item 4): target under 1.5 s with the demo store.

    .venv/bin/python bench/ui_startup.py [--runs 5]

Each run is a fresh interpreter (offscreen Qt) that imports the app, opens the demo store,
builds and shows the main window and returns to the event loop once: the time from
launching the process to that first turn of the event loop is what a user waits for. The
same is measured for a bare PySide6 window (import Qt, show an empty QMainWindow) as the
floor, and one run with `python -X importtime` gives the import-time breakdown by top-level
package.

Prints `RESULT ui_startup <median ms> ms ratio=<median / bare median>`.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TARGET_MS = 1500.0

APP = """
import sys
from pathlib import Path
from PySide6.QtCore import QTimer
from workbench.ui.app import make_application, open_or_start_store
from workbench.ui.main_window import MainWindow
app = make_application()
db, _ = open_or_start_store(Path(sys.argv[1]))
window = MainWindow(db, Path(sys.argv[1]))
window.show()
QTimer.singleShot(0, lambda: (print("READY", flush=True), app.quit()))
app.exec()
"""

BARE = """
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMainWindow
app = QApplication([])
window = QMainWindow()
window.show()
QTimer.singleShot(0, lambda: (print("READY", flush=True), app.quit()))
app.exec()
"""


def python() -> str:
    venv = REPO / ".venv" / "bin" / "python"
    return str(venv) if venv.exists() else sys.executable


def launch(code: str, *args: str, extra: tuple[str, ...] = ()) -> tuple[float, str]:
    """Milliseconds from starting the process to its READY line, and its stderr."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(REPO)}
    # stderr to a file, not a pipe: -X importtime writes more than a pipe holds, and the
    # child would block on it before printing READY.
    with tempfile.TemporaryFile("w+") as errors:
        started = time.perf_counter()
        process = subprocess.Popen(
            [python(), *extra, "-c", code, *args],
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
            env=env,
            cwd=REPO,
        )
        assert process.stdout is not None
        line = process.stdout.readline()
        ready = (time.perf_counter() - started) * 1000
        process.communicate(timeout=120)
        errors.seek(0)
        err = errors.read()
    if line.strip() != "READY":
        raise SystemExit(f"the window did not start: {err[-2000:]}")
    return ready, err


def import_breakdown(store: Path, top: int = 12) -> list[tuple[str, float]]:
    """Cumulative import time (ms) per top-level package, from `-X importtime`."""
    _, err = launch(APP, str(store), extra=("-X", "importtime"))
    totals: dict[str, float] = defaultdict(float)
    pattern = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)")
    for line in err.splitlines():
        match = pattern.match(line)
        if not match:
            continue
        self_us, package = int(match[1]), match[4].split(".")[0]
        totals[package] += self_us / 1000  # self times add up without double counting
    return sorted(totals.items(), key=lambda item: -item[1])[:top]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        store = Path(folder) / "demo.sqlite"
        first, _ = launch(APP, str(store))  # builds the demo cases: a first start only
        print(f"first start (builds the demo store): {first:.0f} ms", flush=True)
        app = [launch(APP, str(store))[0] for _ in range(args.runs)]
        bare = [launch(BARE)[0] for _ in range(args.runs)]
        print(
            f"startup with the demo store: median {statistics.median(app):.0f} ms, "
            f"max {max(app):.0f} ms; bare PySide6 window: median "
            f"{statistics.median(bare):.0f} ms; target {TARGET_MS:.0f} ms",
            flush=True,
        )
        print("import time by package (self time summed, one run):")
        for package, ms in import_breakdown(store):
            print(f"  {package:24} {ms:8.1f} ms")
    median = statistics.median(app)
    print(f"RESULT ui_startup {median:.0f} ms ratio={median / statistics.median(bare):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
