"""Two processes writing one store at once (the desktop app and a script): writers queue
on the busy timeout instead of failing with "database is locked", no write is lost, and
the audit chain stays one chain."""

import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from tests.conftest import FIXTURES, REPO, cli_env
from workbench.services import casework
from workbench.store.database import open_store
from workbench.store.migrations import MIGRATIONS
from workbench.store.verify import verify_store

WRITES_PER_PROCESS = 120

# Each writer opens the store itself, as a separate program would, and writes one entity,
# one evidence item and one event per round, each in its own transaction.
WRITER = textwrap.dedent(
    """
    import sys
    from workbench.services import casework
    from workbench.store.database import open_store

    path, name, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
    db = open_store(path)
    for n in range(rounds):
        entity = casework.add_entity(db, 1, "person", f"{name} {n}")
        casework.add_evidence_bytes(db, 1, "note", f"{name} {n}".encode())
        casework.add_event(db, 1, "note", f"{name} wrote {n}", entity_ids=[entity.id])
    db.close()
    print("done", name)
    """
)


def _writer(store_path: Path, tmp_path: Path, name: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, str(store_path), name, str(WRITES_PER_PROCESS)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=cli_env(tmp_path),
        cwd=REPO,
    )


def test_two_processes_writing_at_once_lose_nothing_and_the_chain_verifies(store_path, tmp_path):
    db = open_store(store_path)
    case = casework.new_case(db, "Soundsbox")
    db.close()
    writers = [_writer(store_path, tmp_path, name) for name in ("alpha", "beta")]
    outputs = [w.communicate(timeout=120) for w in writers]
    for writer, (out, err) in zip(writers, outputs, strict=True):
        assert writer.returncode == 0, err.decode()
        assert b"locked" not in err and out.startswith(b"done"), err.decode()
    db = open_store(store_path)
    try:
        people = {v for (v,) in db.execute("SELECT value FROM entities WHERE kind = 'person'")}
        assert people == {f"{name} {n}" for name in ("alpha", "beta") for n in range(120)}
        assert db.execute("SELECT count(*) FROM evidence").fetchone()[0] == 240
        events = db.execute("SELECT count(*) FROM events WHERE case_id = ?", [case.id])
        assert events.fetchone()[0] == 240
        report = verify_store(db)
        assert report.ok, report.problems[:5]
        assert report.checked_evidence == 240
    finally:
        db.close()


OPENER = textwrap.dedent(
    """
    import sys, time
    from workbench.store.database import open_store

    path, start = sys.argv[1], float(sys.argv[2])
    while time.time() < start:  # all openers go at the same moment
        pass
    open_store(path).close()
    print("opened")
    """
)


def _open_at_once(path: Path, tmp_path: Path, count: int) -> list[tuple[int, str]]:
    start = time.time() + 1.0 + 0.3 * count  # after every interpreter has started
    openers = [
        subprocess.Popen(
            [sys.executable, "-c", OPENER, str(path), str(start)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=cli_env(tmp_path),
            cwd=REPO,
        )
        for _ in range(count)
    ]
    outputs = [opener.communicate(timeout=60) for opener in openers]
    return [
        (opener.returncode, (out + err).decode())
        for opener, (out, err) in zip(openers, outputs, strict=True)
    ]


def test_programs_opening_a_new_store_at_the_same_moment_all_succeed(tmp_path, store_path):
    # Each would otherwise create the schema itself: "table cases already exists".
    results = _open_at_once(store_path, tmp_path, 4)
    assert all(code == 0 and text == "opened\n" for code, text in results), results
    db = open_store(store_path)
    try:
        names = [row[0] for row in db.execute("SELECT name FROM _sqlite_migrations")]
        assert len(names) == len(set(names)) == len(MIGRATIONS._migrations)
        assert verify_store(db).ok
    finally:
        db.close()


def test_programs_upgrading_an_old_store_at_the_same_moment_all_succeed(tmp_path):
    old = tmp_path / "store-v1.sqlite"
    shutil.copyfile(FIXTURES / "stores" / "store-v1.sqlite", old)
    results = _open_at_once(old, tmp_path, 3)
    assert all(code == 0 for code, _ in results), results
    db = open_store(old)
    try:
        assert verify_store(db).ok
    finally:
        db.close()


def test_commands_started_side_by_side_on_one_store_all_land(run_cli, store_path):
    run_cli("case", "new", "Soundsbox")
    results = run_cli.many(*(("entity", "add", "--case", "1", "person", f"P{n}") for n in range(3)))
    assert all(r.code == 0 and not r.stderr for r in results), "\n".join(map(str, results))
    db = open_store(store_path)
    try:
        people = [v for (v,) in db.execute("SELECT value FROM entities ORDER BY value")]
        assert people == ["P0", "P1", "P2"]
        assert verify_store(db).ok
    finally:
        db.close()
