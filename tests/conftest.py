"""Shared fixtures: a fresh store, the real `workbench` command in a subprocess, and a way
to prove that a store file was not touched."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from workbench.store.database import open_store

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "fixtures"


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    """Where a test's store lives (not created until something opens it)."""
    return tmp_path / "store.sqlite"


@pytest.fixture
def store(store_path: Path):
    """A fresh, migrated store in the test's temporary folder."""
    db = open_store(store_path)
    yield db
    db.close()


@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str
    data: Any = None  # stdout parsed as JSON when the command was run with json=True

    def __str__(self) -> str:  # what pytest shows when an assertion about it fails
        return f"exit {self.code}\n--- stdout\n{self.stdout}\n--- stderr\n{self.stderr}"


def cli_env(tmp_path: Path) -> dict[str, str]:
    """The environment the command runs in: no store from the caller's environment, and
    the user folders (data, logs) inside the test's temporary folder."""
    env = {k: v for k, v in os.environ.items() if k != "WORKBENCH_STORE"}
    home = tmp_path / "home"
    env.update(
        HOME=str(home),
        XDG_DATA_HOME=str(home / "data"),
        XDG_STATE_HOME=str(home / "state"),
        XDG_CACHE_HOME=str(home / "cache"),
        XDG_CONFIG_HOME=str(home / "config"),
        PYTHONIOENCODING="utf-8",
        QT_QPA_PLATFORM="offscreen",
    )
    return env


def workbench_command(store: Path | None, args: tuple[str, ...]) -> list[str]:
    command = [sys.executable, "-m", "workbench"]
    if store is not None:
        command += ["--store", str(store)]
    return command + [str(arg) for arg in args]


class CliRunner:
    """Runs the real `workbench` command: `run_cli("case", "new", "X", json=True)`.

    `--store` points at the test's store unless `store=` says otherwise (None: no --store
    at all); `json=True` adds `--json` and parses stdout, failing the test unless it is
    exactly one JSON document. `run_cli.many(...)` runs independent commands at once: each
    start costs a fresh interpreter, and readers of one store may run side by side.
    """

    def __init__(self, tmp_path: Path, store_path: Path):
        self.tmp_path = tmp_path
        self.store_path = store_path

    def __call__(
        self,
        *args: str,
        json: bool = False,
        store: Path | str | None = "default",
        stdin: bytes | None = None,
        env: dict[str, str] | None = None,
        timeout: float = 60,
    ) -> CliResult:
        target = self.store_path if store == "default" else store
        if json:
            args = (*args, "--json")
        completed = subprocess.run(
            workbench_command(target, args),
            input=stdin,
            capture_output=True,
            env={**cli_env(self.tmp_path), **(env or {})},
            cwd=self.tmp_path,
            timeout=timeout,
            check=False,
        )
        result = CliResult(
            completed.returncode,
            completed.stdout.decode("utf-8"),
            completed.stderr.decode("utf-8"),
        )
        if json and completed.returncode in (0, 1):
            result.data = _one_json_document(result)
        return result

    def many(self, *commands: tuple[str, ...], **options: Any) -> list[CliResult]:
        """Run each argument tuple in `commands` concurrently; results in the same order."""
        with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
            return list(pool.map(lambda args: self(*args, **options), commands))


@pytest.fixture
def run_cli(tmp_path: Path, store_path: Path) -> CliRunner:
    return CliRunner(tmp_path, store_path)


def _one_json_document(result: CliResult) -> Any:
    try:
        return json.loads(result.stdout)
    except json.JSONDecodeError as exc:
        pytest.fail(f"--json output is not one JSON document ({exc}):\n{result}")


def file_state(path: Path) -> dict[str, str | None]:
    """SHA-256 of a store file and its WAL (None where a file does not exist)."""
    state: dict[str, str | None] = {}
    for suffix in ("", "-wal"):
        part = Path(str(path) + suffix)
        state[part.name] = hashlib.sha256(part.read_bytes()).hexdigest() if part.exists() else None
    return state


def dump_tables(path: Path) -> dict[str, list[tuple]]:
    """Every row of every table, read without writing (for "nothing was written" checks
    that do not depend on how SQLite lays out pages)."""
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
            )
        ]
        # Table names come from sqlite_master of a store the test made, not from input.
        return {
            table: sorted(conn.execute(f'SELECT * FROM "{table}"').fetchall(), key=repr)  # noqa: S608
            for table in tables
        }
    finally:
        conn.close()
