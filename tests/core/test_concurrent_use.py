"""Concurrent use (issue 7, part 4): the desktop app's way of writing (the services on a
thread that owns its own connection, as workbench.ui.tasks' writer thread does) and four
command-line processes writing one store at the same time, each running a mix of
recorded-lookup imports, entity adds and event adds through `workbench.cli.main` (each
command opens and closes the store, as a separate `workbench` run does; one interpreter
per process keeps the test fast). No "database is locked" reaches anyone, no write is
lost, and the audit chain stays one chain. test_concurrency.py has two writers and
commands started side by side through the real `workbench` command."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from tests.conftest import FIXTURES
from tests.core.test_hostile_input import run_in_one_process
from workbench.services import casework
from workbench.store.database import open_store
from workbench.store.verify import verify_store

SLOTS = 4  # command lines running at once
ROUNDS = 3  # commands of each kind per slot


def _commands(slot: int) -> list[tuple[str, ...]]:
    whois = FIXTURES / "whois"
    commands = []
    for n in range(ROUNDS):
        commands += [
            (
                "evidence",
                "import",
                "--case",
                "1",
                "--kind",
                "whois",
                "--domain",
                "soundsbox.test",
                "--captured-at",
                f"2009-11-{slot + 1:02d}T{n:02d}:00:00Z",
                str(whois / "soundsbox_test_registry.txt"),
                str(whois / "soundsbox_test_registrar.txt"),
            ),
            ("entity", "add", "--case", "1", "person", f"Command {slot}-{n}"),
            ("event", "add", "--case", "1", "note", f"command {slot} wrote {n}"),
        ]
    return commands


def test_the_apps_writer_thread_and_four_command_lines_lose_nothing(store_path, tmp_path):
    db = open_store(store_path)
    casework.new_case(db, "Soundsbox")
    db.close()

    stop = threading.Event()
    app_writes: list[int] = []
    app_errors: list[BaseException] = []

    def app_writer() -> None:
        # What the app's writer thread does: its own connection, services, one by one.
        conn = open_store(store_path)
        try:
            n = 0
            while not stop.is_set() or n < 10:
                entity = casework.add_entity(conn, 1, "organisation", f"App {n}")
                casework.add_event(conn, 1, "observation", f"app wrote {n}", entity_ids=[entity.id])
                app_writes.append(n)
                n += 1
        except BaseException as exc:
            app_errors.append(exc)
        finally:
            conn.close()

    app = threading.Thread(target=app_writer, name="store-writer")
    app.start()
    try:
        with ThreadPoolExecutor(max_workers=SLOTS) as pool:
            slots = list(
                pool.map(
                    lambda slot: run_in_one_process(tmp_path, store_path, _commands(slot)),
                    range(SLOTS),
                )
            )
    finally:
        stop.set()
        app.join(120)
    assert not app_errors, app_errors
    failures = [
        str(result)
        for results in slots
        for result in results
        if result["code"] != 0 or result["stderr"]
    ]
    assert not failures, "\n".join(failures)

    db = open_store(store_path)
    try:
        values = {v for (v,) in db.execute("SELECT value FROM entities")}
        commands = {f"Command {slot}-{n}" for slot in range(SLOTS) for n in range(ROUNDS)}
        apps = {f"App {n}" for n in app_writes}
        assert commands <= values and apps <= values
        texts = {t for (t,) in db.execute("SELECT text FROM events WHERE case_id = 1")}
        assert {f"command {s} wrote {n}" for s in range(SLOTS) for n in range(ROUNDS)} <= texts
        assert {f"app wrote {n}" for n in app_writes} <= texts
        # Each import is its own capture time, so its own two evidence items.
        assert db.execute("SELECT count(*) FROM evidence").fetchone()[0] == 2 * SLOTS * ROUNDS
        snapshots = db.execute("SELECT count(*) FROM snapshots WHERE protocol = 'whois'")
        assert snapshots.fetchone()[0] == SLOTS * ROUNDS
        report = verify_store(db)
        assert report.ok, report.problems[:5]
    finally:
        db.close()
    assert len(app_writes) >= 10
