"""The one task runner of the app (Anki's taskman and QueryOp are the model).

- `write(fn)`: `fn(db)` runs on the single writer thread, which owns its own connection;
  every change the UI makes goes through it, one at a time, in order.
- `read(fn)`: `fn(db)` runs on a reader thread with a read-only connection, for reads
  that may be large (a case's graph, cross-case links, verifying evidence).
- `start_lookups(...)`: a lookup run on its own thread with its own connection (the run's
  writer), its network work on an asyncio loop in a further thread (lookup_runs does that).

Results come back on the main thread: worker threads never touch a widget, they hand a
closure to `_post`, and the main thread runs it (`_drain`: in order, a time budget per
turn of the event loop, so a pile of results never freezes the window).
"""

from __future__ import annotations

import logging
import multiprocessing
import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, QTimer, Signal

from workbench.domain.errors import WorkbenchError
from workbench.lookups.settings import LookupSettings
from workbench.services.lookup_runs import LookupPlan
from workbench.store.database import open_store
from workbench.ui.lookup_worker import run_in_child

log = logging.getLogger(__name__)

OnDone = Callable[[Any], None]
OnError = Callable[[BaseException], None]


class _DatabaseThread:
    """A thread that owns one connection and runs `fn(db)` tasks from a queue in order."""

    def __init__(self, store_path: Path, name: str, read_only: bool, post: Callable):
        self.store_path = store_path
        self.read_only = read_only
        self._post = post
        self._tasks: queue.Queue = queue.Queue()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()

    def submit(self, fn: Callable, on_done: OnDone | None, on_error: OnError) -> None:
        self._tasks.put((fn, on_done, on_error))

    def stop(self, timeout: float = 5.0) -> None:
        self._tasks.put(None)
        self._thread.join(timeout)

    def _loop(self) -> None:
        db = None
        while True:
            task = self._tasks.get()
            if task is None:
                break
            fn, on_done, on_error = task
            try:
                if db is None:
                    db = open_store(self.store_path, read_only=self.read_only)
                result = fn(db)
            except BaseException as exc:  # handed to the main thread, which shows it
                self._post(lambda exc=exc, on_error=on_error: on_error(exc))
            else:
                if on_done is not None:
                    self._post(lambda result=result, on_done=on_done: on_done(result))
            finally:
                self._post(None)  # one task fewer outstanding
        if db is not None:
            db.close()


class TaskRunner(QObject):
    """Runs store work off the main thread and delivers results back onto it."""

    _wake = Signal()
    failed = Signal(str, str)  # title, message: a task without its own error handler failed
    busy_changed = Signal(bool)

    # The main thread runs delivered results for at most this long before it lets the
    # event loop paint and answer input: results that piled up (a lookup run's batches
    # while the machine was busy) are then spread over several turns, not run as one
    # long stall.
    BUDGET_S = 0.010

    def __init__(self, store_path: Path, parent: QObject | None = None):
        super().__init__(parent)
        self.store_path = Path(store_path)
        self._outstanding = 0
        self._inbox: deque[Callable[[], None] | None] = deque()
        self._woken = threading.Event()
        self._wake.connect(self._drain, Qt.ConnectionType.QueuedConnection)
        self._writer = _DatabaseThread(self.store_path, "store-writer", False, self._post)
        self._reader = _DatabaseThread(self.store_path, "store-reader", True, self._post)
        self.lookup_job: LookupJob | None = None

    # -- delivery ----------------------------------------------------------------------

    def _post(self, closure: Callable[[], None] | None) -> None:
        """Called from worker threads: run `closure` on the main thread, in order."""
        self._inbox.append(closure)
        if not self._woken.is_set():  # one wake-up queued at a time, however many results
            self._woken.set()
            self._wake.emit()

    def _drain(self) -> None:
        """Run delivered results in order until the inbox is empty or the time budget is
        spent; then come back on the next turn of the event loop."""
        self._woken.clear()  # before reading: a result posted from now on wakes us again
        deadline = time.perf_counter() + self.BUDGET_S
        while self._inbox:
            self._run_on_main(self._inbox.popleft())
            if self._inbox and time.perf_counter() > deadline:
                QTimer.singleShot(0, self._drain)
                return

    def _run_on_main(self, closure: Callable[[], None] | None) -> None:
        if closure is None:
            self._outstanding -= 1
            if self._outstanding == 0:
                self.busy_changed.emit(False)
            return
        try:
            closure()
        except Exception:  # a bug in a result handler must not take the app down
            log.exception("a task's result handler failed")
            self.failed.emit("Internal error", "A result could not be shown; see the log.")

    def _count(self) -> None:
        self._outstanding += 1
        if self._outstanding == 1:
            self.busy_changed.emit(True)

    @property
    def busy(self) -> bool:
        return self._outstanding > 0

    def _error_handler(self, on_error: OnError | None, title: str) -> OnError:
        def handle(exc: BaseException) -> None:
            if on_error is not None:
                on_error(exc)
            elif isinstance(exc, WorkbenchError):
                self.failed.emit(title, str(exc))
            else:
                log.error("task failed", exc_info=exc)
                self.failed.emit(title, f"Internal error: {type(exc).__name__}: {exc}")

        return handle

    # -- tasks -------------------------------------------------------------------------

    def write(
        self,
        fn: Callable[[Any], Any],
        on_done: OnDone | None = None,
        on_error: OnError | None = None,
        title: str = "Could not save",
    ) -> None:
        """Run `fn(db)` on the writer thread; `on_done(result)` on the main thread."""
        self._count()
        self._writer.submit(fn, on_done, self._error_handler(on_error, title))

    def read(
        self,
        fn: Callable[[Any], Any],
        on_done: OnDone | None = None,
        on_error: OnError | None = None,
        title: str = "Could not read the store",
    ) -> None:
        """Run `fn(db)` on the reader thread; `on_done(result)` on the main thread."""
        self._count()
        self._reader.submit(fn, on_done, self._error_handler(on_error, title))

    def start_lookups(
        self,
        queries: list[str],
        *,
        case_id: int | None,
        plan: LookupPlan,
        settings: LookupSettings,
    ) -> LookupJob:
        """Start a lookup run of `queries` (domains or URLs, as typed); one at a time (the
        caller disables its actions meanwhile). The queries are read on the job's thread:
        normalising a thousand names takes long enough to be felt on the main thread; a
        bad one fails the job (`failed`) before anything is stored."""
        if self.lookup_job is not None and self.lookup_job.running:
            raise WorkbenchError("a lookup run is already in progress: cancel it or wait")
        job = LookupJob(self, queries, case_id, plan, settings)
        self.lookup_job = job
        job.start()
        return job

    def shutdown(self) -> None:
        """Cancel a lookup run, finish queued writes, and close every connection."""
        if self.lookup_job is not None:
            self.lookup_job.cancel()
            self.lookup_job.join(10.0)
        self._writer.stop()
        self._reader.stop()


# Runs of more domains than this go to a child process (see lookup_worker: the GIL); a
# few domains run in a thread, which starts at once.
PROCESS_THRESHOLD = 20


@dataclass
class LookupProgress:
    """A copy of a run's `Progress`, safe to hand to the main thread."""

    total: int
    done: int
    failed: int
    rate: float
    eta_s: float | None
    last_query: str | None


class _Flag:
    """A cancel flag for a run in a thread (a multiprocessing.Value for a process)."""

    value = 0


class _DirectConnection:
    """The pipe's `send` for a run in a thread: messages go straight to the job."""

    def __init__(self, deliver: Callable[[tuple], None]):
        self.send = deliver

    def close(self) -> None:
        pass


class LookupJob(QObject):
    """One lookup run, in a child process (bulk) or a thread (a few domains), reporting
    through the same messages (`lookup_worker.run_in_child`). Signals arrive on the main
    thread."""

    started = Signal(int, int)  # run id, number of domains
    progressed = Signal(object, list)  # LookupProgress, new snapshot rows
    finished = Signal(object)  # RunReport
    failed = Signal(str)

    def __init__(
        self,
        runner: TaskRunner,
        queries: list[str],
        case_id: int | None,
        plan: LookupPlan,
        settings: LookupSettings,
        *,
        in_process: bool | None = None,
    ):
        super().__init__(runner)
        self.runner = runner
        self.queries = list(queries)
        self.total = len(self.queries)
        self.case_id = case_id
        self.plan = plan
        self.settings = settings
        self.in_process = (
            len(self.queries) > PROCESS_THRESHOLD if in_process is None else in_process
        )
        self.run_id: int | None = None
        self.running = False
        self.started_at = 0.0
        self._cancel: Any = _Flag()
        self._outcome: tuple[str, Any] | None = None
        self._thread = threading.Thread(target=self._run, name="lookup-job", daemon=True)

    def start(self) -> None:
        self.running = True
        self.started_at = time.monotonic()
        self.runner._count()
        self._thread.start()

    def cancel(self) -> None:
        """Nothing new starts; what finished is kept (the run can be resumed later)."""
        self._cancel.value = 1

    def join(self, timeout: float | None = None) -> None:
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _on_message(self, message: tuple) -> None:
        """A message from the run (on the job's thread): hand it to the main thread."""
        kind = message[0]
        if kind == "started":
            self.run_id, self.total = message[1], message[2]
            self.runner._post(lambda: self.started.emit(message[1], message[2]))
        elif kind == "progressed":
            progress = LookupProgress(**message[1])
            self.runner._post(lambda: self.progressed.emit(progress, message[2]))
        else:
            self._outcome = (kind, message[1])

    def _run(self) -> None:
        try:
            if self.in_process:
                self._run_in_process()
            else:
                run_in_child(
                    str(self.runner.store_path),
                    self.queries,
                    self.case_id,
                    self.plan,
                    self.settings,
                    _DirectConnection(self._on_message),
                    self._cancel,
                    False,
                )
        except BaseException as exc:
            log.error("lookup run failed", exc_info=exc)
            self._outcome = ("failed", f"{type(exc).__name__}: {exc}")
        finally:
            self._cancel.value = 1  # ends the cancel watcher of a run in a thread
            outcome = self._outcome or ("failed", "the lookup run stopped unexpectedly")

            def done() -> None:
                self.running = False
                getattr(self, outcome[0]).emit(outcome[1])

            self.runner._post(done)
            self.runner._post(None)

    def _run_in_process(self) -> None:
        # spawn, not fork: the parent has Qt and store threads running.
        context = multiprocessing.get_context("spawn")
        receiver, sender = context.Pipe(duplex=False)
        cancel = context.Value("b", self._cancel.value, lock=False)
        self._cancel = cancel
        process = context.Process(
            target=run_in_child,
            args=(
                str(self.runner.store_path),
                self.queries,
                self.case_id,
                self.plan,
                self.settings,
                sender,
                cancel,
            ),
            name="workbench-lookups",
            daemon=True,
        )
        process.start()
        sender.close()
        try:
            while True:
                try:
                    message = receiver.recv()
                except EOFError:
                    break
                self._on_message(message)
        finally:
            receiver.close()
            process.join(10)
        if self._outcome is None:
            self._outcome = (
                "failed",
                f"the lookup process ended unexpectedly (exit code {process.exitcode})",
            )
