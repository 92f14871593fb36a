"""Startup to a usable window (issue 8, item 4): target under 1.5 s with the demo store.

    .venv/bin/python bench/ui_startup.py [--runs 5]

Each run is a fresh interpreter (offscreen Qt) that imports the app, opens the demo store,
builds and shows the main window and returns to the event loop once: the time from
launching the process to that first turn of the event loop is what a user waits for. The
same is measured for a bare PySide6 window (import Qt, show an empty QMainWindow) as the
floor, and one run with `python -X importtime` gives the import-time breakdown by top-level
package and by workbench module. Each run reports the process's own CPU time beside the
wall clock (the machine is shared).

The figure is with the bytecode cache in place (an installed app has its .pyc files; the
cache goes to a temporary PYTHONPYCACHEPREFIX, not into the tree); the same start without
one (PYTHONDONTWRITEBYTECODE=1, as this development environment sets) is shown beside it.

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
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TARGET_MS = 1500.0

APP = """
import sys
import time
from pathlib import Path
from PySide6.QtCore import QTimer
from workbench.ui.app import make_application, open_or_start_store
from workbench.ui.main_window import MainWindow
app = make_application()
db, _ = open_or_start_store(Path(sys.argv[1]))
window = MainWindow(db, Path(sys.argv[1]))
window.show()
QTimer.singleShot(0, lambda: (print("READY", time.process_time(), flush=True), app.quit()))
app.exec()
"""

BARE = """
import time
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMainWindow
app = QApplication([])
window = QMainWindow()
window.show()
QTimer.singleShot(0, lambda: (print("READY", time.process_time(), flush=True), app.quit()))
app.exec()
"""


def python() -> str:
    venv = REPO / ".venv" / "bin" / "python"
    return str(venv) if venv.exists() else sys.executable


@dataclass(frozen=True)
class Launch:
    """One start: wall-clock ms to the first turn of the event loop, the process's own CPU
    ms by then (all threads), and its stderr."""

    wall_ms: float
    cpu_ms: float
    stderr: str


def launch(
    code: str, *args: str, extra: tuple[str, ...] = (), pycache: Path | None = None
) -> Launch:
    """Start a fresh interpreter on `code` and time it to its READY line.

    `pycache`: where Python keeps the compiled bytecode of the workbench's own modules
    (as an installed app has it); None runs without (`PYTHONDONTWRITEBYTECODE`, what a
    source tree with that variable set pays: every workbench module compiled each start).
    """
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(REPO)}
    if pycache is None:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        env.pop("PYTHONPYCACHEPREFIX", None)
    else:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(pycache)  # not in the tree: other people work there
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
    words = line.split()
    if not words or words[0] != "READY":
        raise SystemExit(f"the window did not start: {err[-2000:]}")
    return Launch(ready, float(words[1]) * 1000, err)


def import_breakdown(
    store: Path, pycache: Path | None, top: int = 12
) -> tuple[list[tuple[str, float]], list[tuple[str, float]]]:
    """Import time (ms, self time summed: no double counting) per top-level package, and
    for the workbench's own modules one by one, from one `-X importtime` run."""
    err = launch(APP, str(store), extra=("-X", "importtime"), pycache=pycache).stderr
    packages: dict[str, float] = defaultdict(float)
    modules: dict[str, float] = defaultdict(float)
    pattern = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)")
    for line in err.splitlines():
        match = pattern.match(line)
        if not match:
            continue
        self_ms, module = int(match[1]) / 1000, match[4]
        packages[module.split(".")[0]] += self_ms
        if module.startswith("workbench"):
            modules[module] += self_ms
    ranked = sorted(packages.items(), key=lambda item: -item[1])[:top]
    return ranked, sorted(modules.items(), key=lambda item: -item[1])[:top]


def series(name: str, runs: list[Launch]) -> str:
    wall = [run.wall_ms for run in runs]
    cpu = [run.cpu_ms for run in runs]
    return (
        f"{name}: median {statistics.median(wall):.0f} ms (min {min(wall):.0f}, max "
        f"{max(wall):.0f}), CPU median {statistics.median(cpu):.0f} ms"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as folder:
        store = Path(folder) / "demo.sqlite"
        pycache = Path(folder) / "pycache"
        # The first start builds the demo cases and writes the bytecode cache.
        first = launch(APP, str(store), pycache=pycache)
        print(f"first start (builds the demo store): {first.wall_ms:.0f} ms", flush=True)
        app, cold, bare = [], [], []
        for _ in range(args.runs):  # interleaved: a change in load touches all three alike
            app.append(launch(APP, str(store), pycache=pycache))
            cold.append(launch(APP, str(store)))
            bare.append(launch(BARE, pycache=pycache))
        print(series("startup with the demo store (bytecode cached, as installed)", app))
        print(series("the same without a bytecode cache (PYTHONDONTWRITEBYTECODE=1)", cold))
        print(series("bare PySide6 window", bare))
        print(f"target {TARGET_MS:.0f} ms; load average {load:.1f} at the start", flush=True)
        packages, modules = import_breakdown(store, pycache)
        print("import time by package (self time summed, one run, bytecode cached):")
        for package, ms in packages:
            print(f"  {package:32} {ms:8.1f} ms")
        print("the workbench's own modules:")
        for module, ms in modules:
            print(f"  {module:32} {ms:8.1f} ms")
    median = statistics.median(run.wall_ms for run in app)
    floor = statistics.median(run.wall_ms for run in bare)
    print(f"RESULT ui_startup {median:.0f} ms ratio={median / floor:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
