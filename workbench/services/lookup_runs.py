"""Looking up domains, one or thousands: the network half asks the servers (in a worker
thread, or for a bulk run in a child process: see lookup_network), the calling thread
stores (the store's single writer), progress is reported through a callback the CLI and
the UI share, and a run can be cancelled and resumed after a kill.

Each domain's results are committed together with the mark that it is done, so after an
interruption (even SIGKILL) a resumed run does exactly the domains not yet stored.
"""

from __future__ import annotations

import json
import multiprocessing
import queue
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlite_utils import Database

from workbench.domain.errors import InvalidInput, NotFound
from workbench.domain.normalise import Hostname, normalise_domain
from workbench.domain.times import to_iso, utc_now
from workbench.lookups.results import LookupStatus
from workbench.lookups.settings import LookupSettings
from workbench.services.lookup_network import (
    DomainLookup,
    LookupPlan,
    start_network_process,
    start_network_thread,
)
from workbench.services.recording import RecordedLookup, record_lookup, subject_entity
from workbench.store.cases import get_case
from workbench.store.database import writing

# Re-exported: callers name plans and build DomainLookups through this module.
__all__ = ["DomainLookup", "LookupPlan"]

BATCH_SECONDS = 0.2  # the writer commits what arrived within this window together
BATCH_MAX = 50
# A run with more pending domains than this does its network half in a child process
# (about half a second to start, repaid within a few dozen domains).
PROCESS_THRESHOLD = 40


@dataclass
class Progress:
    """How far a run is. `done` counts stored domains; `failed` those where any lookup did
    not succeed; `statuses` the last domain's status per lookup kind."""

    total: int
    done: int = 0
    failed: int = 0
    started: float = field(default_factory=time.monotonic)
    last_query: str | None = None
    statuses: dict[str, str] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        elapsed = time.monotonic() - self.started
        return self.done / elapsed if elapsed > 0 else 0.0

    @property
    def eta_s(self) -> float | None:
        return (self.total - self.done) / self.rate if self.rate > 0 else None


class CancelToken:
    """Set from any thread to stop a run: nothing new starts, what finished is kept."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()


@dataclass
class RunReport:
    run_id: int
    total: int
    done: int
    cancelled: bool
    results: list[dict[str, Any]]

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "total": self.total,
            "done": self.done,
            "cancelled": self.cancelled,
            "results": self.results,
        }


def parse_queries(lines: Iterable[str]) -> list[Hostname]:
    """Domains from user input (one per item; blank lines and # comments skipped).

    Every bad line is named in one error, and nothing runs: a list of thousands is
    fixed and run again, not half-run.
    """
    domains: list[Hostname] = []
    bad: list[str] = []
    for number, line in enumerate(lines, 1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        try:
            domains.append(normalise_domain(text))
        except InvalidInput as exc:
            bad.append(f"line {number}: {exc.value!r} {exc.reason}")
    if bad:
        shown = "; ".join(bad[:5]) + (f"; and {len(bad) - 5} more" if len(bad) > 5 else "")
        raise InvalidInput("domain list", f"{len(bad)} bad entries", shown)
    if not domains:
        raise InvalidInput("domain list", "", "holds no domain")
    return list(dict.fromkeys(domains))


def start_run(
    db: Database, domains: list[Hostname], *, case_id: int | None, plan: LookupPlan
) -> int:
    """Record a new run and its domains, all pending."""
    with writing(db):
        if case_id is not None:
            get_case(db, case_id)
        cursor = db.execute(
            "INSERT INTO lookup_runs (case_id, created_at, options) VALUES (?, ?, ?)",
            [case_id, to_iso(utc_now()), json.dumps(plan.as_dict())],
        )
        run_id = cursor.lastrowid
        db.conn.executemany(
            "INSERT INTO lookup_run_items (run_id, position, query) VALUES (?, ?, ?)",
            [(run_id, position, d.ascii) for position, d in enumerate(domains)],
        )
    return run_id


def pending_items(
    db: Database, run_id: int
) -> tuple[int | None, LookupPlan, list[tuple[int, Hostname]]]:
    row = db.execute("SELECT case_id, options FROM lookup_runs WHERE id = ?", [run_id]).fetchone()
    if row is None:
        raise NotFound("lookup run", run_id)
    plan = LookupPlan(**json.loads(row[1]))
    items = [
        (position, normalise_domain(query))
        for position, query in db.execute(
            "SELECT position, query FROM lookup_run_items WHERE run_id = ? AND state = 'pending' "
            "ORDER BY position",
            [run_id],
        )
    ]
    return row[0], plan, items


def run_lookups(
    db: Database,
    run_id: int,
    settings: LookupSettings,
    *,
    on_progress: Callable[[Progress], None] | None = None,
    cancel: CancelToken | None = None,
    in_process: bool | None = None,
) -> RunReport:
    """Do the pending domains of run `run_id`; returns when all are stored or cancelled.

    Blocks the calling thread, which must own `db`: it is the writer. The network half
    runs in a worker thread (`in_process=True`) or a child process (`False`); by default
    a child process when more than PROCESS_THRESHOLD domains are pending and this process
    may have children.
    """
    case_id, plan, items = pending_items(db, run_id)
    total = db.execute(
        "SELECT count(*) FROM lookup_run_items WHERE run_id = ?", [run_id]
    ).fetchone()[0]
    cancel = cancel or CancelToken()
    progress = Progress(total=total, done=total - len(items))
    if in_process is None:
        # A daemonic process (the desktop app runs bulk lookups in one) may not start
        # children of its own.
        in_process = len(items) <= PROCESS_THRESHOLD or multiprocessing.current_process().daemon
    start = start_network_thread if in_process else start_network_process
    network = start(items, settings, plan, cancel)
    results = network.results
    report = RunReport(run_id, total, progress.done, False, [])
    finished = False
    try:
        # After a cancel nothing more is stored either: results already fetched but not
        # yet stored are dropped, and their domains stay pending for a resume.
        while not finished and not cancel.cancelled:
            batch: list[DomainLookup] = []
            item = results.get()
            deadline = time.monotonic() + BATCH_SECONDS
            while True:
                if item is None:
                    finished = True
                    break
                if isinstance(item, BaseException):
                    network.join(None)
                    raise item
                batch.append(item)
                if len(batch) >= BATCH_MAX:
                    break
                try:
                    item = results.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    break
            if batch:
                _store_batch(db, run_id, case_id, batch, progress, report)
                if on_progress:
                    on_progress(progress)
    except BaseException:
        # Storing failed or was interrupted: stop the network work as well, or it would
        # go on asking servers for results nobody stores.
        cancel.cancel()
        network.join(5)
        raise
    network.join(None)
    report.results.sort(key=lambda result: result["position"])
    report.done = progress.done
    report.cancelled = cancel.cancelled and progress.done < total
    if not report.cancelled:
        with writing(db):
            db.execute(
                "UPDATE lookup_runs SET finished_at = ? WHERE id = ?", [to_iso(utc_now()), run_id]
            )
    return report


def _store_batch(
    db: Database,
    run_id: int,
    case_id: int | None,
    batch: list[DomainLookup],
    progress: Progress,
    report: RunReport,
) -> None:
    with writing(db):
        for lookup in batch:
            recorded = record_domain_lookup(db, lookup, case_id=case_id, run_id=run_id)
            db.execute(
                "UPDATE lookup_run_items SET state = 'done', finished_at = ? "
                "WHERE run_id = ? AND position = ?",
                [to_iso(utc_now()), run_id, lookup.position],
            )
            statuses = {
                r.protocol: r.status
                for r in recorded
                if r.protocol != "rdap_ip" or r.status != "ok"
            }
            report.results.append(
                {
                    "position": lookup.position,
                    "query": lookup.domain.ascii,
                    "display": lookup.domain.unicode,
                    "lookups": [r.as_dict() for r in recorded],
                }
            )
            progress.done += 1
            progress.last_query = lookup.domain.ascii
            progress.statuses = statuses
            if any(r.status != LookupStatus.OK.value for r in recorded):
                progress.failed += 1


def record_domain_lookup(
    db: Database,
    lookup: DomainLookup,
    *,
    case_id: int | None,
    run_id: int | None = None,
    imported: bool = False,
) -> list[RecordedLookup]:
    """Store every part of one domain's lookup (call inside `writing`)."""
    recorded = []
    for protocol, kind, value, outcome, facts in lookup.parts:
        subject = subject_entity(db, kind, value, case_id)
        recorded.append(
            record_lookup(
                db,
                subject=subject,
                protocol=protocol,
                outcome=outcome,
                facts=facts,
                case_id=case_id,
                run_id=run_id,
                imported=imported,
                render=lookup.render,
            )
        )
    return recorded
