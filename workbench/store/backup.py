"""Backing up a store while the app runs: SQLite's online backup API, then a check.

Copying the file with `cp` while the desktop app writes can catch half a transaction, and
misses what is still in the WAL file. The backup API (`sqlite3.Connection.backup`) reads
the store through a read transaction instead: the copy is the store as of one commit,
whatever other programs write meanwhile (in WAL mode a reader does not stop writers, and
writers do not disturb the reader's snapshot). The copy goes to a temporary file beside the
destination, is synced, checked (SQLite's integrity check and the workbench's own verify:
every evidence hash and the audit chain), and only then renamed into place, so a failed or
interrupted backup never leaves a half-written file under the destination's name.

The source is only read, never changed, not even upgraded: an old store backs
up as it is (the backup is what you want before an upgrade), and a store written by a
newer version is refused, as everywhere.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from workbench.domain.errors import StoreError
from workbench.store.database import (
    BUSY_TIMEOUT_MS,
    _check_is_sqlite,
    _refuse_newer,
    integrity_check,
    open_store,
    schema_version,
)
from workbench.store.migrations import MIGRATIONS
from workbench.store.verify import verify_store


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def _open_source(path: Path) -> sqlite3.Connection:
    """The store, for reading, after the checks `open_store` makes (SQLite, not newer)."""
    if not path.exists():
        raise StoreError(f"no store at {path}")
    _check_is_sqlite(path)
    # Not `mode=ro`: a read-only connection to a WAL store leaves an empty -wal file
    # behind, and a refused store must be left exactly as it was. Nothing is written
    # through this connection (no migration, no pragma that writes).
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        _refuse_newer(Database(conn, execute_plugins=False), path)
    except BaseException as exc:
        conn.close()
        if isinstance(exc, sqlite3.DatabaseError):
            raise StoreError(f"{path} cannot be used as a store: {exc}") from None
        raise
    return conn


def _fsync(path: Path) -> None:
    flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) if path.is_dir() else os.O_RDONLY
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def backup_store(
    source: str | os.PathLike, dest: str | os.PathLike, *, overwrite: bool = False
) -> dict[str, Any]:
    """Copy the store at `source` to `dest` through the online backup API and check the
    copy; returns what was copied and checked.

    Refuses (changing nothing) a missing, non-SQLite or newer-version source, a `dest`
    that is the source itself, a folder, or an existing file unless `overwrite`. If the
    copy fails or does not check out (disk full, I/O error), nothing is left at `dest`.
    """
    source, dest = Path(source), Path(dest).expanduser()
    if dest.is_dir():
        raise StoreError(f"{dest} is a folder; give the backup file's name")
    if _same_file(source, dest) or source.resolve() == dest.resolve():
        raise StoreError(f"{dest} is the store itself; give another file for the backup")
    if dest.exists() and not overwrite:
        raise StoreError(f"{dest} already exists; give a new name or --overwrite")
    if not dest.parent.is_dir():
        raise StoreError(f"the folder {dest.parent} does not exist")
    started = time.perf_counter()
    temporary = dest.with_name(f".{dest.name}.partial-{os.getpid()}")
    source_conn = _open_source(source)
    try:
        try:
            target = sqlite3.connect(temporary, isolation_level=None)
            try:
                # One step (pages=-1): one read transaction, so one consistent commit,
                # however busy the writers are (a stepwise backup restarts on every
                # write another connection makes, and may never finish).
                source_conn.backup(target, pages=-1)
                # A single file that opens anywhere: no -wal beside the copy.
                target.execute("PRAGMA journal_mode = DELETE")
            finally:
                target.close()
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(f"the backup to {dest} failed, nothing was written: {exc}") from None
        finally:
            source_conn.close()
        checked = _check_copy(temporary, dest)
        _fsync(temporary)
        os.replace(temporary, dest)
        with contextlib.suppress(OSError):  # not every platform syncs a folder
            _fsync(dest.parent)
    finally:
        for leftover in (temporary, Path(f"{temporary}-journal")):
            with contextlib.suppress(OSError):
                leftover.unlink()
    return {
        "source": str(source),
        "dest": str(dest),
        "bytes": dest.stat().st_size,
        "seconds": round(time.perf_counter() - started, 3),
        **checked,
    }


def _check_copy(copy: Path, dest: Path) -> dict[str, Any]:
    """SQLite's integrity check on the copy (a copy that fails it is not kept), and the
    workbench's verify, whose result is reported: a backup copies a store faithfully,
    problems and all, and says so."""
    try:
        db = open_store(copy, create=False, read_only=True)
    except StoreError:
        # An old store backs up as it is; read-only opening refuses what needs upgrading,
        # so check it through a plain read-only connection.
        db = Database(sqlite3.connect(f"{copy.resolve().as_uri()}?mode=ro", uri=True))
    try:
        problems = integrity_check(db)
        if problems:
            shown = "; ".join(problems[:3])
            raise StoreError(f"the copy for {dest} is damaged, nothing was kept: {shown}")
        # A store from an older version has an older schema: verify reads the current one.
        report = None if MIGRATIONS.pending(db) else verify_store(db)
        schema = schema_version(db)
        cases = db.execute("SELECT count(*) FROM cases").fetchone()[0]
    except sqlite3.Error as exc:
        raise StoreError(
            f"the copy for {dest} could not be checked, nothing was kept: {exc}"
        ) from None
    finally:
        db.close()
    return {
        "cases": cases,
        "schema": schema,
        "verify": report.as_dict() if report is not None else None,
    }
