"""The network half of a lookup run: ask the servers about each domain and hand each
domain's answers, parsed, to the run's writer as soon as they are complete.

Two ways to run it, the same code inside:

- `start_network_thread`: an asyncio loop in a worker thread of this process. Cheap to
  start; right for a few domains.
- `start_network_process`: the same loop in a child process. A bulk run is bound by CPU,
  not by latency (transport, parsing and storing all cost Python time), and in one
  process the network thread and the writer take turns on one GIL. In a child the
  network work uses the second core while the writer stores, so storing overlaps with
  asking instead of alternating with it.

Either way the writer reads one `queue.Queue` of `DomainLookup`s, ended by `None`; an
exception in the network half arrives in that queue too, and the writer raises it. The
child process stops when the run is cancelled, when its parent dies (even by SIGKILL:
nothing it fetched could be stored any more), or when it has done every domain.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import pickle
import queue
import signal
import sys
import threading
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from workbench.domain.kinds import EntityKind
from workbench.domain.normalise import Hostname, normalise_ip
from workbench.lookups.results import LookupOutcome
from workbench.lookups.settings import LookupSettings

if TYPE_CHECKING:
    from workbench.lookups.session import LookupSession

CANCEL_POLL_S = 0.05
NETWORK_THREAD = "lookup-network"  # the names a run's helpers go by
NETWORK_PROCESS = "workbench-lookup-network"


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
    # The readable text of each DNS answer (raw bytes -> text) for the evidence's search
    # index, made where the answer was just parsed rather than parsed again by the writer.
    renderings: dict[bytes, str] = field(default_factory=dict)

    def render(self, raw: bytes) -> str:
        """The rendering of one DNS answer: made already, or made now (an import)."""
        from workbench.lookups.dns_parse import render_dns_capture

        text = self.renderings.get(raw)
        return text if text is not None else render_dns_capture(raw)


class Cancelled(Protocol):
    """Anything with a `cancelled` flag: the run's CancelToken, or the child's view of it."""

    @property
    def cancelled(self) -> bool: ...


Item = DomainLookup | BaseException | None


@dataclass
class NetworkFeed:
    """A running network half: `results` yields its items; `join` waits for it to end."""

    results: queue.Queue[Item]
    join: Callable[[float | None], None]


def start_network_thread(
    items: list[tuple[int, Hostname]],
    settings: LookupSettings,
    plan: LookupPlan,
    cancel: Cancelled,
) -> NetworkFeed:
    """Run the network half on an asyncio loop in a daemon thread of this process."""
    results: queue.Queue[Item] = queue.Queue()
    worker = threading.Thread(
        target=_run_loop,
        args=(items, settings, plan, results.put, cancel),
        name=NETWORK_THREAD,
        daemon=True,
    )
    worker.start()
    return NetworkFeed(results, worker.join)


def start_network_process(
    items: list[tuple[int, Hostname]],
    settings: LookupSettings,
    plan: LookupPlan,
    cancel: Cancelled,
) -> NetworkFeed:
    """Run the network half in a child process; a thread of this one relays its results
    into the queue and passes a cancel on to it.

    The child is spawned, not forked: a fork would copy a process whose other threads
    (the app's, a store's) may hold locks. It imports only what the network half needs,
    not the program's main module (see `_main_module_left_out`).
    """
    context = multiprocessing.get_context("spawn")
    receiving, sending = context.Pipe(duplex=False)
    cancel_flag = context.Value("b", 0, lock=False)
    child = context.Process(
        target=_child_main,
        args=(items, settings, plan, sending, cancel_flag),
        name=NETWORK_PROCESS,
        daemon=True,
    )
    with _main_module_left_out():
        child.start()
    sending.close()  # the child holds the only sending end: its exit ends our reads
    results: queue.Queue[Item] = queue.Queue()

    def relay() -> None:
        ended = False
        try:
            while not ended:
                if cancel.cancelled:
                    cancel_flag.value = 1
                if not receiving.poll(CANCEL_POLL_S):
                    continue
                for item in receiving.recv():  # the child sends what it has, in lists
                    ended = ended or item is None
                    results.put(item)
        except EOFError:  # the child died without its end mark
            results.put(
                RuntimeError(f"the lookup network process ended early (exit {child.exitcode})")
            )
            results.put(None)
        finally:
            receiving.close()
            child.join()

    relaying = threading.Thread(target=relay, name=f"{NETWORK_THREAD}-relay", daemon=True)
    relaying.start()
    return NetworkFeed(results, relaying.join)


@contextlib.contextmanager
def _main_module_left_out() -> Iterator[None]:
    """Start a spawned child without importing this program's main module into it.

    multiprocessing imports the parent's `__main__` in every spawned child, in case the
    target was defined there. Ours never is (it is `_child_main`, found by module name),
    and the import is dear: the `workbench` command's main module loads the whole CLI
    and the store (0.75 s of CPU), a tenth of a 1,000-domain run. `Process.start` reads
    `sys.modules["__main__"]` to prepare the child, so for that call it sees a stand-in
    with no file to import.
    """
    main = sys.modules.get("__main__")
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        if main is not None:
            sys.modules["__main__"] = main


class _SharedFlag:
    """The child's view of the parent's cancel, which also trips when the parent dies."""

    def __init__(self, flag: Any, parent_pid: int):
        self._flag = flag
        self._parent_pid = parent_pid

    @property
    def cancelled(self) -> bool:
        return bool(self._flag.value) or os.getppid() != self._parent_pid


def _child_main(
    items: list[tuple[int, Hostname]],
    settings: LookupSettings,
    plan: LookupPlan,
    sending: Any,
    cancel_flag: Any,
) -> None:
    # Ctrl-C in a terminal reaches the whole process group: the parent decides what it
    # means (it cancels the run, which reaches this process through the flag).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    cancel = _SharedFlag(cancel_flag, os.getppid())
    # The event loop hands results to a sender thread and goes on: a write to the pipe
    # may wait for the parent to read, and the loop must not wait with it. The sender
    # sends whatever has piled up as one list, so that the parent's relay, which takes
    # turns on its GIL with the busy writer, wakes once per pile and not once per domain.
    outbox: queue.Queue[Item] = queue.Queue()
    sender = threading.Thread(
        target=_send_piles, args=(outbox, sending, cancel_flag), name=f"{NETWORK_THREAD}-sender"
    )
    sender.start()
    try:
        _run_loop(items, settings, plan, lambda item: outbox.put(_picklable(item)), cancel)
    finally:
        sender.join()
        sending.close()


def _send_piles(outbox: queue.Queue[Item], sending: Any, cancel_flag: Any) -> None:
    ended = False
    while not ended:
        pile = [outbox.get()]
        with contextlib.suppress(queue.Empty):
            while True:
                pile.append(outbox.get_nowait())
        ended = pile[-1] is None
        try:
            sending.send(pile)
        except (BrokenPipeError, OSError):  # the parent is gone: nobody would store this
            cancel_flag.value = 1
            while not ended:  # let the loop finish its cancelled tasks and end
                ended = outbox.get() is None


def _picklable(item: Item) -> Item:
    """An exception that does not pickle travels as a RuntimeError that says what it was."""
    if isinstance(item, BaseException):
        try:
            pickle.dumps(item)
        except Exception:
            return RuntimeError(f"{type(item).__name__}: {item}")
    return item


def event_loop_factory() -> Callable[[], asyncio.AbstractEventLoop]:
    """uvloop's event loop where it is installed, else asyncio's: a bulk run spends a
    good part of its CPU in the loop (a socket, a transport and a few callbacks per DNS
    query), and uvloop does that part in C. Both loops behave alike for what the
    lookups use (connected UDP with ICMP errors, TCP streams, aiohttp)."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop
    return uvloop.new_event_loop


def _run_loop(
    items: list[tuple[int, Hostname]],
    settings: LookupSettings,
    plan: LookupPlan,
    put: Callable[[Item], None],
    cancel: Cancelled,
) -> None:
    try:
        with asyncio.Runner(loop_factory=event_loop_factory()) as runner:
            runner.run(_look_up_all(items, settings, plan, put, cancel))
    except BaseException as exc:  # handed to the writer, which re-raises it
        put(exc)
    finally:
        put(None)


async def _look_up_all(
    items: list[tuple[int, Hostname]],
    settings: LookupSettings,
    plan: LookupPlan,
    put: Callable[[Item], None],
    cancel: Cancelled,
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
                put(await look_up_domain(session, position, domain, plan))

        tasks = [asyncio.create_task(one(position, domain)) for position, domain in items]
        watcher = asyncio.create_task(_watch_cancel(cancel, tasks))
        await asyncio.gather(*tasks, return_exceptions=True)
        watcher.cancel()
        for task in tasks:
            if not task.cancelled() and task.exception() is not None:
                raise task.exception()


async def _watch_cancel(cancel: Cancelled, tasks: list[asyncio.Task]) -> None:
    while not cancel.cancelled:
        await asyncio.sleep(CANCEL_POLL_S)
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
    if plan.dns:
        from workbench.lookups.dns_lookup import DNS_MEDIA_TYPE
        from workbench.lookups.dns_parse import render_dns_capture

        dns_outcome = dict(zip(jobs, answers, strict=True))["dns"][0]
        for capture in dns_outcome.captures:
            if capture.media_type == DNS_MEDIA_TYPE:
                lookup.renderings[capture.raw] = render_dns_capture(capture.raw)
    return lookup
