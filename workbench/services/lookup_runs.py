"""Looking up domains, one or thousands: network work on an asyncio loop in a worker
thread, storing on the calling thread (the store's single writer), progress reported
through a callback the CLI and the UI share, cancellable, and resumable after a kill.

Each domain's results are committed together with the mark that it is done, so after an
interruption (even SIGKILL) a resumed run does exactly the domains not yet stored.
"""

from __future__ import annotations

import asyncio
import json
import queue
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlite_utils import Database

from workbench.domain.errors import InvalidInput, NotFound
from workbench.domain.kinds import EntityKind
from workbench.domain.normalise import Hostname, normalise_domain, normalise_ip
from workbench.domain.times import to_iso, utc_now
from workbench.lookups.results import LookupOutcome, LookupStatus
from workbench.lookups.settings import LookupSettings

if TYPE_CHECKING:
    from workbench.lookups.session import LookupSession
from workbench.services.recording import RecordedLookup, record_lookup, subject_entity
from workbench.store.cases import get_case
from workbench.store.database import writing

BATCH_SECONDS = 0.2  # the writer commits what arrived within this window together
BATCH_MAX = 50


@dataclass(frozen=True)
class LookupPlan:
    """Which lookups to run for each domain."""

    whois: bool = True
    rdap: bool = True
    dns: bool = True
    ip_rdap: bool = True  # an RDAP lookup of every address DNS finds

    def as_dict(self) -> dict[str, bool]:
        return {"whois": self.whois, "rdap": self.rdap, "dns": self.dns, "ip_rdap": self.ip_rdap}


@dataclass
class DomainLookup:
    """Everything the network said about one domain, before it is stored."""

    position: int
    domain: Hostname
    # (protocol, subject kind, subject value, outcome, facts)
    parts: list[tuple[str, EntityKind, str, LookupOutcome, Any]] = field(default_factory=list)


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
) -> RunReport:
    """Do the pending domains of run `run_id`; returns when all are stored or cancelled.

    Blocks the calling thread, which must own `db`: it is the writer. Network work runs
    on an asyncio loop in a worker thread.
    """
    case_id, plan, items = pending_items(db, run_id)
    total = db.execute(
        "SELECT count(*) FROM lookup_run_items WHERE run_id = ?", [run_id]
    ).fetchone()[0]
    cancel = cancel or CancelToken()
    progress = Progress(total=total, done=total - len(items))
    results: queue.Queue[DomainLookup | BaseException | None] = queue.Queue()
    worker = threading.Thread(
        target=_network_thread,
        args=(items, settings, plan, results, cancel),
        name=f"lookup-run-{run_id}",
        daemon=True,
    )
    worker.start()
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
                    worker.join()
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
        worker.join(5)
        raise
    worker.join()
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
    from workbench.lookups.dns_parse import render_dns_capture

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
                render=render_dns_capture,
            )
        )
    return recorded


def _network_thread(
    items: list[tuple[int, Hostname]],
    settings: LookupSettings,
    plan: LookupPlan,
    results: queue.Queue,
    cancel: CancelToken,
) -> None:
    try:
        asyncio.run(_look_up_all(items, settings, plan, results, cancel))
    except BaseException as exc:  # handed to the writer thread, which re-raises it
        results.put(exc)
    finally:
        results.put(None)


async def _look_up_all(
    items: list[tuple[int, Hostname]],
    settings: LookupSettings,
    plan: LookupPlan,
    results: queue.Queue,
    cancel: CancelToken,
) -> None:
    slots = asyncio.Semaphore(max(1, settings.concurrency))
    # The network stack (aiohttp, dnspython's transports) loads only when a run starts, so
    # the desktop app and other commands that merely name a LookupPlan start quicker.
    from workbench.lookups.session import LookupSession

    async with LookupSession(settings) as session:

        async def one(position: int, domain: Hostname) -> None:
            async with slots:
                if cancel.cancelled:
                    return
                results.put(await look_up_domain(session, position, domain, plan))

        tasks = [asyncio.create_task(one(position, domain)) for position, domain in items]
        watcher = asyncio.create_task(_watch_cancel(cancel, tasks))
        await asyncio.gather(*tasks, return_exceptions=True)
        watcher.cancel()
        for task in tasks:
            if not task.cancelled() and task.exception() is not None:
                raise task.exception()


async def _watch_cancel(cancel: CancelToken, tasks: list[asyncio.Task]) -> None:
    while not cancel.cancelled:
        await asyncio.sleep(0.05)
    for task in tasks:
        task.cancel()


async def look_up_domain(
    session: LookupSession, position: int, domain: Hostname, plan: LookupPlan
) -> DomainLookup:
    """WHOIS, RDAP and DNS of one domain at once, then RDAP of each address found."""
    lookup = DomainLookup(position, domain)
    jobs: dict[str, Any] = {}
    if plan.whois:
        jobs["whois"] = session.whois(domain)
    if plan.rdap:
        jobs["rdap"] = session.rdap_domain(domain)
    if plan.dns:
        jobs["dns"] = session.dns(domain)
    answers = await asyncio.gather(*jobs.values())
    for protocol, (outcome, facts) in zip(jobs, answers, strict=True):
        lookup.parts.append((protocol, EntityKind.DOMAIN, domain.ascii, outcome, facts))
    if plan.dns and plan.ip_rdap:
        dns_facts = dict(zip(jobs, answers, strict=True))["dns"][1]
        found = [normalise_ip(a) for a in (dns_facts.addresses if dns_facts else [])]
        addresses = [a for a in dict.fromkeys(found) if session.claim_address(a)]
        ip_answers = await asyncio.gather(*(session.rdap_ip(a) for a in addresses))
        for address, (outcome, facts) in zip(addresses, ip_answers, strict=True):
            lookup.parts.append(("rdap_ip", EntityKind.IP_ADDRESS, address, outcome, facts))
    return lookup
