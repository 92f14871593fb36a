"""A lookup run in a child process, for the desktop app (no Qt here).

Why a process: a run keeps two Python threads busy (the store writer and the asyncio
network loop). In the same process they hold the GIL most of the time, and the Qt main
thread, which gives the GIL up on every call into Qt, waits for it again each time: the
window stalls for hundreds of milliseconds during a bulk run. In a child process the run
has its own GIL and the window's main thread keeps its own.

The child owns its own store connection (the run's single writer, as in the CLI), reports
each stored batch over a pipe, and stops starting new lookups when asked to cancel.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any

from workbench.domain.errors import WorkbenchError
from workbench.lookups.settings import LookupSettings
from workbench.services.lookup_runs import (
    CancelToken,
    LookupPlan,
    Progress,
    parse_queries,
    run_lookups,
    start_run,
)
from workbench.services.ui_queries import run_snapshot_rows
from workbench.store.database import open_store


def progress_fields(progress: Progress) -> dict[str, Any]:
    """What the window shows of a run's progress, as plain data for the pipe."""
    return {
        "total": progress.total,
        "done": progress.done,
        "failed": progress.failed,
        "rate": progress.rate,
        "eta_s": progress.eta_s,
        "last_query": progress.last_query,
    }


def run_in_child(
    store_path: str,
    queries: list[str],
    case_id: int | None,
    plan: LookupPlan,
    settings: LookupSettings,
    connection,
    cancel_flag,
    in_process: bool = True,
) -> None:
    """The child's whole life: read the queries, run, report, exit. Messages sent:
    ("started", run_id, total), ("progressed", progress_fields, rows) per stored batch,
    then ("finished", report) or ("failed", message). Cancelled when `cancel_flag.value`
    becomes true (a shared multiprocessing.Value, polled: an Event's set() would block in
    the parent if this process ended while waiting on it)."""
    token = CancelToken()
    if in_process and hasattr(os, "nice"):
        # Bulk work yields the CPU to the window: on a busy machine the window answers first.
        os.nice(5)

    def watch_cancel() -> None:
        while not cancel_flag.value:
            time.sleep(0.05)
        token.cancel()

    threading.Thread(target=watch_cancel, name="cancel-watch", daemon=True).start()
    db = None
    try:
        domains = parse_queries(queries)
        db = open_store(store_path)
        run_id = start_run(db, domains, case_id=case_id, plan=plan)
        connection.send(("started", run_id, len(domains)))
        last = 0

        def on_progress(progress: Progress) -> None:
            nonlocal last
            rows = run_snapshot_rows(db, run_id, after_id=last)
            if rows:
                last = rows[-1]["id"]
            connection.send(("progressed", progress_fields(progress), rows))

        report = run_lookups(db, run_id, settings, on_progress=on_progress, cancel=token)
        report.results = []  # the window reads what it shows from the store
        connection.send(("finished", report))
    except WorkbenchError as exc:
        connection.send(("failed", str(exc)))
    except BaseException as exc:  # reported to the window, which shows it
        connection.send(("failed", f"{type(exc).__name__}: {exc}"))
    finally:
        if db is not None:
            db.close()
        connection.close()
