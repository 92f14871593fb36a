"""Scrolling an entity table of a very large case without holding its rows (issue 8, item 4).

    .venv/bin/python bench/ui_table_scroll.py [--rows 200000] [--store S --case ID]

Opens the real main window offscreen on a case of N entities and, in its entity table,
measures what a user waits for: the table's first paint, a jump to the end (the scroll bar
dragged to the bottom), a jump to the middle, paging down from there (Page Down: the
keyset path), and the same after sorting by name (the store sorts the whole table). Each
step is timed twice: the event loop's turn that takes the step and paints it (wall and
main-thread CPU: how long the window does not answer), and until its rows are on screen
(a jump deep into the table is read on the reader thread, its rows showing "…" until
then). The model's pages read and rows held are reported (it must never hold the whole
table: at most KEEP pages).

By default it builds its own store: one case of N entities (domains, persons, emails,
addresses with small attribute sets, in the proportions bench/generate.py uses) written
with `executemany` straight into the store's tables (the table reads only `entities`
and `case_entities`; the audit chain is left out, so do not `verify` it). Two sizes are
measured, N and N/2, to show what grows with the table (count and offset queries are
linear, keyset pages are not) and to extrapolate to a million rows. `--store`/`--case`
measure an existing store's case instead.

Baseline, in the same run: the bare SQLite query each step rests on (the same SQL through
`sqlite3`, no Qt, no Python objects). Prints `RESULT ui_table_jump <ms> ms ratio=<x>`
(the jump to the middle in name order until its rows show, against its bare query),
`RESULT ui_table_jump_stall` (how long that jump keeps the window busy) and
`RESULT ui_table_page <ms> ms ratio=<x>` (Page Down, against its bare keyset query).
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import resource
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PySide6.QtCore import QSettings, Qt

KINDS = (("domain", 46), ("person", 20), ("email", 14), ("ip_address", 10), ("phone", 10))
NOW = "2026-11-22T12:00:00.000000Z"


def build_store(path: Path, rows: int) -> int:
    """A store with one case of `rows` entities; returns the case id."""
    from workbench.services import casework
    from workbench.store.database import open_store

    db = open_store(path)
    case_id = casework.new_case(db, f"{rows:,} entities").id
    db.close()
    wheel = [kind for kind, share in KINDS for _ in range(share)]
    connection = sqlite3.connect(path)
    with connection:
        first = connection.execute("SELECT ifnull(max(id), 0) + 1 FROM entities").fetchone()[0]
        entities = []
        for number in range(rows):
            kind = wheel[number % len(wheel)]
            value = {
                "domain": f"shop-{number * 7919 % rows:07d}.test",
                "person": f"Person {number * 104729 % rows:07d}",
                "email": f"owner{number:07d}@mail.test",
                "ip_address": f"10.{number // 65536 % 256}.{number // 256 % 256}.{number % 256}",
                "phone": f"+43 1 {number:07d}",
            }[kind]
            attrs = json.dumps({"source": "bench", "seen": number % 97}, sort_keys=True)
            entities.append((first + number, kind, value.lower(), value, attrs, NOW, NOW))
        connection.executemany(
            "INSERT INTO entities (id, kind, key, value, attrs, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            entities,
        )
        connection.executemany(
            "INSERT INTO case_entities (case_id, entity_id, added_at) VALUES (?, ?, ?)",
            ((case_id, first + number, NOW) for number in range(rows)),
        )
    connection.close()
    return case_id


def bare_ms(path: Path, sql: str, params: list, runs: int = 5) -> float:
    """Median ms of the bare query through sqlite3 (fetching every row)."""
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        connection.execute(sql, params).fetchall()
        times.append((time.perf_counter() - began) * 1000)
    connection.close()
    return statistics.median(times)


def measure(store: Path, case_id: int, label: str) -> dict[str, float]:
    from workbench.services import ui_queries
    from workbench.store.database import open_store
    from workbench.ui.app import make_application, settle_memory
    from workbench.ui.main_window import MainWindow
    from workbench.ui.workspace import VIEW_ENTITIES

    app = make_application()
    db = open_store(store)
    window = MainWindow(db, store)
    window.resize(1400, 900)
    window.show()
    app.processEvents()
    settle_memory()

    model = None

    def step(action) -> tuple[float, float, float, float]:
        """The step and the event loop's turn that paints it: (wall ms, main-thread CPU
        ms) of that turn, which is how long the window does not answer; then (wall ms,
        process CPU ms) until the rows are on screen (a deep jump's page is read on the
        reader thread, and shown when it comes)."""
        began, began_cpu, began_all = time.perf_counter(), time.thread_time(), time.process_time()
        action()
        app.processEvents()
        turn = (time.perf_counter() - began) * 1000, (time.thread_time() - began_cpu) * 1000
        deadline = time.perf_counter() + 60
        while model is not None and model.waiting and time.perf_counter() < deadline:
            app.processEvents()
            time.sleep(0.0005)
        app.processEvents()
        shown = (time.perf_counter() - began) * 1000, (time.process_time() - began_all) * 1000
        return (*turn, *shown)

    workspace = None

    def open_it() -> None:
        nonlocal workspace
        workspace = window.open_case(case_id)
        workspace.show_view(VIEW_ENTITIES)

    results: dict[str, float] = {}
    opened = step(open_it)
    assert workspace is not None
    panel = workspace.entities
    table, model = panel.table, panel.model
    assert model is not None
    bar = table.verticalScrollBar()
    total = model.total
    print(f"{label}: {total:,} rows; {table.viewport().height() // table.rowHeight(0)} shown")
    report = [("open the case, first paint of the table", opened)]

    def walk(name: str) -> None:
        report.append((f"{name}: jump to the end", step(lambda: bar.setValue(bar.maximum()))))
        bottom = table.indexAt(table.viewport().rect().bottomLeft()).row()
        report.append(
            (f"{name}: jump to the middle", step(lambda: bar.setValue(bar.maximum() // 2)))
        )
        pages = [
            step(lambda: bar.triggerAction(bar.SliderAction.SliderPageStepAdd)) for _ in range(30)
        ]
        median = tuple(statistics.median(page[i] for page in pages) for i in range(4))
        worst = tuple(max(page[i] for page in pages) for i in range(4))
        report.append((f"{name}: Page Down x30 (median)", median))
        report.append((f"{name}: Page Down x30 (the slowest)", worst))
        results[f"{name}_page"] = median[2]
        results[f"{name}_page_stall"] = median[0]
        results[f"{name}_middle"] = report[-3][1][2]
        results[f"{name}_middle_stall"] = report[-3][1][0]
        results[f"{name}_end"] = report[-4][1][2]
        print(f"  {name}: the last row shown at the end: {bottom + 1:,} of {total:,}")

    walk("added order")
    header = table.horizontalHeader()
    sorted_step = step(lambda: header.setSortIndicator(0, Qt.SortOrder.AscendingOrder))
    report.append(("sort by name (whole table, in SQL), first paint", sorted_step))
    results["sort"] = sorted_step[2]
    results["sort_stall"] = sorted_step[0]
    walk("name order")
    print(f"  {'':48} {'window busy':>12} {'(CPU)':>8}  {'rows shown':>11} {'(CPU)':>8}")
    for name, (wall, cpu, shown, shown_cpu) in report:
        print(f"  {name:48} {wall:9.1f} ms {cpu:8.1f}  {shown:8.1f} ms {shown_cpu:8.1f}")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"  pages read {model.pages_read}, rows held now {model.held:,} (at most "
        f"{model.KEEP * model.PAGE:,}); peak RSS {rss:.0f} MB"
    )
    results["held"] = model.held

    # The bare queries under the same steps, through sqlite3: the very SQL the table's
    # pages are read with (ui_queries.entity_rows_sql: along the name index for a large
    # case), run without the window, the model or Python objects.
    query = ui_queries.EntityQuery(case_id, order="name")
    middle = total // 2
    page_sql, page_params = ui_queries.entity_rows_sql(db, query, offset=middle, limit=200)
    results["bare_middle"] = bare_ms(store, page_sql, page_params)
    cursor = ui_queries.entity_rows(db, query, offset=middle, limit=200)[-1][0]
    keyset_sql, keyset_params = ui_queries.entity_rows_sql(db, query, after=cursor, limit=200)
    results["bare_page"] = bare_ms(store, keyset_sql, keyset_params)
    results["bare_count"] = bare_ms(
        store, "SELECT count(*) FROM case_entities WHERE case_id = ?", [case_id]
    )
    print(
        f"  bare SQLite: a page at the middle in name order (OFFSET) "
        f"{results['bare_middle']:.1f} ms, the next page (keyset) {results['bare_page']:.2f} "
        f"ms, the count {results['bare_count']:.1f} ms"
    )
    window.shutdown()
    db.close()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--store", type=Path, help="measure this store's case instead")
    parser.add_argument("--case", type=int, help="with --store: the case to open")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="workbench-table-bench-"))
    atexit.register(shutil.rmtree, scratch, True)  # its stores are large: never left behind
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(scratch))
    load = os.getloadavg()[0]
    if args.store:
        if args.case is None:
            parser.error("--store needs --case")
        sizes = [(args.store, args.case)]
    else:
        sizes = []
        for rows in (args.rows, args.rows // 2):
            began = time.perf_counter()
            path = scratch / f"table-{rows}.sqlite"
            case_id = build_store(path, rows)
            print(f"built a case of {rows:,} entities in {time.perf_counter() - began:.1f} s")
            sizes.append((path, case_id))
    measured = [measure(path, case_id, path.name) for path, case_id in sizes]
    full = measured[0]
    if len(measured) == 2:
        half = measured[1]
        for name in ("name order_middle", "name order_page", "sort", "bare_middle", "bare_page"):
            print(f"  {name}: {full[name] / max(half[name], 0.01):.2f}x for twice the rows")
    print(f"load average {load:.1f} at the start, {os.cpu_count()} CPUs")
    jump, stall = full["name order_middle"], full["name order_middle_stall"]
    page = full["name order_page"]
    print(f"RESULT ui_table_jump {jump:.1f} ms ratio={jump / full['bare_middle']:.2f}")
    print(f"RESULT ui_table_jump_stall {stall:.1f} ms ratio={stall / full['bare_middle']:.2f}")
    print(f"RESULT ui_table_page {page:.1f} ms ratio={page / full['bare_page']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
