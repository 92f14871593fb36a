"""Store safety (issue 7, part 6): `workbench backup` while another program writes gives a
consistent, verified copy that restores to the identical case; a store from a newer
version is refused by backup and verify and left untouched; a disk that fills up during a
write loses that write only, with a message, and the store still verifies."""

from __future__ import annotations

import contextlib
import json
import os
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.conftest import REPO, cli_env, dump_tables, file_state, workbench_command
from tests.core.test_hostile_input import run_in_one_process
from tests.core.test_migrations import STORE_V1, _from_a_newer_version
from workbench.services import casework
from workbench.store.database import open_store
from workbench.store.details import case_detail
from workbench.store.verify import verify_store

# A program writing case 2 as fast as it can, in many small transactions, until stopped.
WRITER = textwrap.dedent(
    """
    import sys, time
    from workbench.services import casework
    from workbench.store.database import open_store

    db = open_store(sys.argv[1])
    print("writing", flush=True)
    n = 0
    while True:
        entity = casework.add_entity(db, 2, "person", f"Writer {n}")
        casework.add_evidence_bytes(db, 2, "note", f"note {n}".encode())
        casework.add_event(db, 2, "note", f"wrote {n}", entity_ids=[entity.id])
        n += 1
    """
)


def _audit(path: Path) -> list[tuple]:
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return conn.execute("SELECT id, hash FROM audit ORDER BY id").fetchall()
    finally:
        conn.close()


def _details(path: Path) -> dict[int, dict]:
    db = open_store(path, read_only=True)
    try:
        ids = [row[0] for row in db.execute("SELECT id FROM cases ORDER BY id")]
        return {case_id: case_detail(db, case_id) for case_id in ids}
    finally:
        db.close()


@pytest.fixture
def busy_store(store_path: Path) -> Path:
    """Case 1, finished work, and case 2, which the writer keeps adding to."""
    db = open_store(store_path)
    case = casework.new_case(db, "Soundsbox", investigator="IFPI")
    person = casework.add_entity(db, case.id, "person", "Pedro Kresker")
    phone = casework.add_entity(db, case.id, "phone", "+352.26480123", {"line_type": "fax"})
    whois = casework.add_evidence_bytes(db, case.id, "whois", b"Registrant Name: Pedro\n")
    casework.add_link(db, case.id, person.id, "contact_phone", phone.id, evidence_ids=[whois.id])
    casework.add_event(db, case.id, "contact_attempt", "Emailed the registrant.")
    casework.new_case(db, "Writer's case")
    db.close()
    return store_path


def test_backups_taken_while_another_program_writes_are_consistent_verified_copies(
    busy_store, run_cli, tmp_path
):
    before_case_1 = _details(busy_store)[1]
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(busy_store)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=cli_env(tmp_path),
        cwd=REPO,
    )
    backups = []
    try:
        assert writer.stdout.readline() == b"writing\n"
        for n in range(3):
            time.sleep(0.3)
            dest = tmp_path / f"backup-{n}.sqlite"
            result = run_cli("backup", str(dest), json=True)
            assert result.code == 0, result
            assert result.data["verify"]["ok"] is True
            backups.append(dest)
    finally:
        writer.send_signal(signal.SIGTERM)
        _, err = writer.communicate(timeout=30)
    assert b"locked" not in err, err.decode()
    final_chain = _audit(busy_store)
    sizes = []
    for dest in backups:
        assert not Path(f"{dest}-wal").exists()  # one self-contained file
        chain = _audit(dest)
        # The copy is the store as of one commit: its audit chain is a prefix of the
        # store's, row for row and hash for hash.
        assert chain == final_chain[: len(chain)]
        sizes.append(len(chain))
        copy = _details(dest)
        assert copy[1] == before_case_1  # the finished case, identical
        db = open_store(dest, read_only=True)
        try:
            assert verify_store(db).ok
        finally:
            db.close()
    assert sizes == sorted(sizes) and sizes[-1] > sizes[0], sizes  # taken while it grew
    assert not list(tmp_path.glob(".backup-*.partial-*"))


def test_a_restored_backup_holds_the_identical_cases_and_verifies(busy_store, run_cli, tmp_path):
    dest = tmp_path / "restore" / "copy.sqlite"
    dest.parent.mkdir()
    result = run_cli("backup", str(dest))
    assert result.code == 0, result
    assert "copy verified" in result.stdout
    # Restoring is opening the copy (or copying it back while nothing has the store open).
    shown = run_cli("case", "show", "1", json=True, store=dest)
    original = run_cli("case", "show", "1", json=True)
    assert shown.data == original.data
    assert _details(dest) == _details(busy_store)
    assert dump_tables(dest) == dump_tables(busy_store)
    assert run_cli("verify", store=dest).code == 0
    assert run_cli("integrity", store=dest).code == 0


def test_an_old_store_backs_up_as_it_is_without_being_upgraded(run_cli, tmp_path):
    old = tmp_path / "old.sqlite"
    shutil.copyfile(STORE_V1, old)
    before = file_state(old)
    result = run_cli("backup", str(tmp_path / "old-copy.sqlite"), store=old, json=True)
    assert result.code == 0, result
    assert result.data["verify"] is None
    assert result.data["schema"] == [row[2] for row in dump_tables(old)["_sqlite_migrations"]]
    assert file_state(old) == before
    assert dump_tables(tmp_path / "old-copy.sqlite") == dump_tables(old)


def test_a_store_from_a_newer_version_is_refused_by_backup_and_verify_and_left_untouched(
    store_path, run_cli, tmp_path
):
    _from_a_newer_version(store_path)
    before = file_state(store_path)
    dest = tmp_path / "copy.sqlite"
    results = run_in_one_process(
        tmp_path, store_path, [("backup", str(dest)), ("verify",), ("integrity",)]
    )
    for result in results:
        assert result["code"] == 2, result
        assert result["stderr"].count("\n") == 1 and "newer version" in result["stderr"]
    assert file_state(store_path) == before
    assert not dest.exists()
    assert run_cli("backup", str(dest)).code == 2  # and the real command says the same
    assert file_state(store_path) == before


def test_a_backup_that_cannot_be_made_is_refused_in_one_line(busy_store, tmp_path):
    (tmp_path / "exists.sqlite").write_bytes(b"an older backup")
    before = file_state(busy_store)
    cases = [
        (busy_store, "is the store itself"),
        (tmp_path, "is a folder"),
        (tmp_path / "no" / "such" / "folder" / "copy.sqlite", "does not exist"),
        (tmp_path / "exists.sqlite", "already exists"),
    ]
    results = run_in_one_process(tmp_path, busy_store, [("backup", str(d)) for d, _ in cases])
    for (dest, words), result in zip(cases, results, strict=True):
        assert result["code"] == 2 and words in result["stderr"], (dest, result)
        assert result["stderr"].count("\n") == 1
    assert file_state(busy_store) == before
    assert (tmp_path / "exists.sqlite").read_bytes() == b"an older backup"


def test_backing_up_a_missing_store_creates_nothing(run_cli, tmp_path):
    missing = tmp_path / "nowhere.sqlite"
    result = run_cli("backup", str(tmp_path / "copy.sqlite"), store=missing)
    assert result.code == 2 and "no store at" in result.stderr, result
    assert not missing.exists() and not (tmp_path / "copy.sqlite").exists()


# -- disk full --------------------------------------------------------------------------


def _limited(max_bytes: int):
    """For a child process: files may not grow past `max_bytes` (write() fails with EFBIG
    instead of the process being killed by SIGXFSZ)."""

    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (max_bytes, max_bytes))

    return apply


def _run_limited(store: Path, tmp_path: Path, args: tuple[str, ...], max_bytes: int):
    return subprocess.run(
        workbench_command(store, args),
        capture_output=True,
        env=cli_env(tmp_path),
        cwd=tmp_path,
        preexec_fn=_limited(max_bytes),
        timeout=120,
        check=False,
    )


def test_a_write_the_file_size_limit_stops_is_refused_in_words_and_loses_nothing_else(
    busy_store, run_cli, tmp_path
):
    big = tmp_path / "capture.bin"
    big.write_bytes(os.urandom(3 * 1024 * 1024))
    before = dump_tables(busy_store)
    cases_before = _details(busy_store)
    limit = busy_store.stat().st_size + 128 * 1024  # the demo needs ~400 KB more
    for args in (
        ("evidence", "add", "--case", "1", "--kind", "page_capture", str(big)),
        ("demo", "--force"),
    ):
        done = _run_limited(busy_store, tmp_path, args, limit)
        err = done.stderr.decode()
        assert done.returncode in (1, 2), err
        assert err.count("\n") == 1 and "could not write to" in err, err
        assert "Traceback" not in err and "internal error" not in err, err
    after = dump_tables(busy_store)
    assert after["evidence"][: len(before["evidence"])] == before["evidence"]
    assert not any(row[3] == 3 * 1024 * 1024 for row in after["evidence"])  # not stored
    assert run_cli("verify").code == 0 and run_cli("integrity").code == 0
    cases_after = _details(busy_store)
    assert all(cases_after[case_id] == cases_before[case_id] for case_id in cases_before)


def _mount_small_tmpfs(where: Path) -> bool:
    if os.geteuid() != 0 or not shutil.which("mount"):
        return False
    where.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(where)],
        capture_output=True,
        check=False,
    )
    return done.returncode == 0


def test_a_full_disk_refuses_the_write_in_words_and_keeps_everything_before(run_cli, tmp_path):
    disk = tmp_path / "small-disk"
    if not _mount_small_tmpfs(disk):
        pytest.skip("mounting a 2 MB tmpfs needs root")
    try:
        store = disk / "store.sqlite"
        capture = tmp_path / "capture.bin"
        capture.write_bytes(os.urandom(1_200_000))
        assert run_cli("case", "new", "Soundsbox", store=store).code == 0
        first = run_cli(
            "evidence", "add", "--case", "1", "--kind", "note", str(capture), store=store
        )
        assert first.code == 0, first
        second = run_cli(
            "evidence",
            "add",
            "--case",
            "1",
            "--kind",
            "note",
            str(capture),
            "--note",
            "again",
            store=store,
        )
        assert second.code == 2, second
        assert "the disk is full" in second.stderr and second.stderr.count("\n") == 1
        verified = run_cli("verify", store=store, json=True)
        assert verified.code == 0 and verified.data["checked_evidence"] == 1, verified
        assert run_cli("integrity", store=store).code == 0
        listed = json.loads(run_cli("case", "list", store=store, json=True).stdout)
        assert listed[0]["counts"]["evidence"] == 1
    finally:
        with contextlib.suppress(OSError):
            subprocess.run(["umount", str(disk)], capture_output=True, check=False)
