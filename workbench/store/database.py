"""Opening a store file safely, and the one way to write to it.

A store is a single SQLite file in WAL mode so that the desktop app and a command line can
share it: readers never block the writer, and a busy timeout makes a second writer wait
instead of failing. Foreign keys are enforced on every connection (SQLite leaves them off).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from collections.abc import Callable, Hashable, Iterator
from pathlib import Path
from typing import Any

import platformdirs
from sqlite_utils import Database

from workbench.domain.errors import StoreError
from workbench.store.migrations import MIGRATIONS

SQLITE_HEADER = b"SQLite format 3\x00"
BUSY_TIMEOUT_MS = 30_000
CACHE_KB = 64 * 1024  # each connection's page cache, at most
STORE_ENV = "WORKBENCH_STORE"


def default_store_path() -> Path:
    """The embedded default store, in the user's data directory."""
    return Path(platformdirs.user_data_dir("workbench", appauthor=False)) / "store.sqlite"


def resolve_store_path(explicit: str | os.PathLike | None = None) -> Path:
    """`--store PATH` wins, then $WORKBENCH_STORE, then the default."""
    if explicit:
        return Path(explicit).expanduser()
    if os.environ.get(STORE_ENV):
        return Path(os.environ[STORE_ENV]).expanduser()
    return default_store_path()


def _check_is_sqlite(path: Path) -> None:
    try:
        with path.open("rb") as handle:
            header = handle.read(len(SQLITE_HEADER))
    except IsADirectoryError:
        raise StoreError(f"{path} is a directory, not a store file") from None
    except OSError as exc:
        raise StoreError(f"cannot read store file {path}: {exc.strerror}") from None
    if header and header != SQLITE_HEADER:
        raise StoreError(
            f"{path} is not a workbench store (not an SQLite database); it was left untouched"
        )


def _connect(path: Path, read_only: bool) -> sqlite3.Connection:
    if read_only:
        uri = f"{path.resolve().as_uri()}?mode=ro"
        conn = sqlite3.connect(
            uri,
            uri=True,
            timeout=BUSY_TIMEOUT_MS / 1000,
            isolation_level=None,
            check_same_thread=False,
        )
    else:
        # isolation_level=None: no implicit transactions; every write is an explicit
        # BEGIN IMMEDIATE in `writing`, so a reader is never silently left holding one.
        conn = sqlite3.connect(
            str(path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
        )
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA foreign_keys = ON")
    # SQLite's default page cache is 2 MB; a store of a million entities is ~7 GB, and a
    # cross-case query reads a thousand rows scattered over a 60 MB table. Pages are
    # taken only as they are read, so a small store costs no more.
    conn.execute(f"PRAGMA cache_size = -{CACHE_KB}")
    return conn


def open_store(
    path: str | os.PathLike, *, create: bool = True, read_only: bool = False
) -> Database:
    """Open (and if needed create and migrate) the store at `path`.

    Refuses, without modifying it, a file that is not SQLite or that was written by a newer
    version of the workbench (it holds migrations this version does not know).
    """
    path = Path(path)
    if path.exists():
        _check_is_sqlite(path)
    elif not create or read_only:
        raise StoreError(f"no store at {path}")
    else:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the folder for {path}: {exc.strerror}") from None
    conn = None
    try:
        conn = _connect(path, read_only)
        db = Database(conn, execute_plugins=False)
        _refuse_newer(db, path)
        if not read_only:
            _use_wal(conn)
            # FULL: a commit survives power loss as well as a killed process.
            conn.execute("PRAGMA synchronous = FULL")
            if MIGRATIONS.pending(db):
                # Two programs opening a new (or old) store at once must not both run the
                # same step ("table cases already exists"): BEGIN IMMEDIATE lets one
                # migrate while the others wait, then find nothing pending. The steps run
                # in savepoints inside it (none may be `transactional=False`).
                with writing(db):
                    MIGRATIONS.apply(db)
        elif MIGRATIONS.pending(db):
            raise StoreError(
                f"{path} was made by an older version and must be opened "
                "for writing once to be upgraded"
            )
    except BaseException as exc:
        # A refused store must be left as it was: close now, so that no -wal or -shm file
        # is left beside it and no lock is held while the caller reports the error.
        if conn is not None:
            conn.close()
        if isinstance(exc, sqlite3.DatabaseError):
            raise StoreError(f"{path} cannot be used as a store: {exc}") from None
        raise
    return db


def _use_wal(conn: sqlite3.Connection) -> None:
    """Switch the store to WAL mode if it is not in it yet.

    The switch needs the file to itself, and SQLite answers "database is locked" at once,
    without waiting on the busy timeout, when another program is opening the same new
    store at that moment (it would otherwise risk a deadlock). So wait here instead, up to
    the busy timeout: the other program finishes its switch, and then there is nothing to
    do."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    pause = 0.005
    while True:
        try:
            if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            busy = (getattr(exc, "sqlite_errorcode", 0) or 0) & 0xFF == _SQLITE_BUSY
            if not (busy or "locked" in str(exc)) or time.monotonic() > deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.1)


def _refuse_newer(db: Database, path: Path) -> None:
    known = {migration.name for migration in MIGRATIONS._migrations}
    unknown = [m.name for m in MIGRATIONS.applied(db) if m.name not in known]
    if unknown:
        raise StoreError(
            f"{path} was written by a newer version of the workbench (schema steps "
            f"{', '.join(unknown)} are unknown here); it was left untouched. "
            "Upgrade the workbench to open it."
        )


def schema_version(db: Database) -> list[str]:
    """The names of the schema steps applied to this store, oldest first."""
    return [migration.name for migration in MIGRATIONS.applied(db)]


@contextlib.contextmanager
def writing(db: Database) -> Iterator[Database]:
    """One write transaction: BEGIN IMMEDIATE ... COMMIT, rolled back on any error.

    IMMEDIATE takes the write lock up front, so two writers queue on the busy timeout
    instead of one failing with "database is locked" when it upgrades a read lock.
    Nested use joins the outer transaction.
    """
    conn = db.conn
    if conn.in_transaction:
        yield db
        return
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        raise _storage_error(conn, exc) from exc
    memo: dict[str, Any] = {_BEFORE_COMMIT: {}}
    _TRANSACTIONS[id(conn)] = memo
    try:
        yield db
        for action in memo[_BEFORE_COMMIT].values():
            action()
        # Inside the try: a COMMIT that fails (disk full while writing the WAL) must be
        # rolled back like any other failure, not leave the transaction open.
        conn.execute("COMMIT")
    except BaseException as exc:
        if conn.in_transaction:
            with contextlib.suppress(sqlite3.Error):  # a failing disk may refuse this too
                conn.execute("ROLLBACK")
        if isinstance(exc, sqlite3.OperationalError):
            raise _storage_error(conn, exc) from exc
        raise
    finally:
        del _TRANSACTIONS[id(conn)]


# SQLite result codes (the low byte of an extended code) that mean the store file could
# not be written or locked: the user's problem to fix, told in words, never a traceback.
_SQLITE_BUSY, _SQLITE_IOERR, _SQLITE_FULL = 5, 10, 13


def _storage_error(conn: sqlite3.Connection, exc: sqlite3.OperationalError) -> Exception:
    """A StoreError saying why a write failed, when it is the disk or a lock; else `exc`."""
    code = (getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF
    try:
        path = conn.execute("PRAGMA database_list").fetchone()[2] or "the store"
    except sqlite3.Error:
        path = "the store"
    if code == _SQLITE_FULL or "disk is full" in str(exc):
        return StoreError(
            f"could not write to {path}: the disk is full (or the file reached its size "
            "limit); nothing of this change was stored, everything before it is intact"
        )
    if code == _SQLITE_IOERR:
        return StoreError(
            f"could not write to {path}: the disk reported an error ({exc}); nothing of "
            "this change was stored, everything before it is intact"
        )
    if code == _SQLITE_BUSY:
        return StoreError(
            f"{path} stayed locked by another program for {BUSY_TIMEOUT_MS // 1000} s; "
            "nothing was stored, try again when it is done"
        )
    return exc


# The memo of each connection's open `writing` transaction, by id(connection): the
# connection lives at least as long as its transaction, so its id cannot be reused.
_TRANSACTIONS: dict[int, dict[str, Any]] = {}
_BEFORE_COMMIT = "before_commit"


def transaction_memo(db: Database) -> dict[str, Any] | None:
    """A scratch dict that lives exactly as long as the current `writing` transaction of
    `db`, or None outside one.

    Store functions keep there what they already read or wrote in this transaction (the
    audit chain's last hash, the cases known to exist, the entities already in a case), so
    a bulk run does not ask SQLite the same question hundreds of times. This is sound
    because `writing` holds the write lock from BEGIN IMMEDIATE: no other connection can
    change those rows before the transaction ends, and the memo ends with it, on commit
    and on rollback alike. Keep only facts about rows this transaction wrote or rows
    that are never deleted.
    """
    if not db.conn.in_transaction:  # SQLite rolled it back itself (disk full): forget all
        return None
    return _TRANSACTIONS.get(id(db.conn))


def known_in_transaction(db: Database, name: str) -> set:
    """The set called `name` in the transaction memo, for facts already checked or written
    in this transaction; outside a transaction, an empty set nobody keeps."""
    memo = transaction_memo(db)
    return memo.setdefault(name, set()) if memo is not None else set()


def before_commit(db: Database, key: Hashable, action: Callable[[], None]) -> bool:
    """Run `action` once, just before the current `writing` transaction commits (one
    action per `key`, the first registered wins). False outside a transaction: then the
    caller must act at once."""
    memo = transaction_memo(db)
    if memo is None:
        return False
    memo[_BEFORE_COMMIT].setdefault(key, action)
    return True


def integrity_check(db: Database) -> list[str]:
    """SQLite's own `PRAGMA integrity_check` plus foreign key check: [] when sound."""
    problems = [row[0] for row in db.execute("PRAGMA integrity_check").fetchall() if row[0] != "ok"]
    for table, rowid, parent, _ in db.execute("PRAGMA foreign_key_check").fetchall():
        problems.append(f"{table} row {rowid} points to a missing {parent}")
    return problems
