"""Imports survive kill -9 (issue 7, part 3): `workbench evidence import`, `workbench demo`
and `workbench import BUNDLE` are SIGKILLed at random points while they write, 20 times
in all. After each kill the store opens, `verify` and `integrity` pass, and the store
holds either everything the command stores or nothing of it: every table has exactly the
rows it had before, or exactly the rows a finished run leaves (each command writes in
one transaction).

The kill points are spread over the window where the command writes: from the moment it
opens the store (its WAL file appears) to a little past the time a whole run takes from
there, measured once per command on this machine.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import sqlite3
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, cli_env, workbench_command
from workbench.services import casework
from workbench.services.demo import build_demo
from workbench.store.database import integrity_check, open_store
from workbench.store.verify import verify_store

KILLS = {"evidence import": 7, "demo": 7, "bundle import": 6}
TABLES = (
    "cases",
    "entities",
    "links",
    "events",
    "evidence",
    "snapshots",
    "audit",
    "case_entities",
    "case_evidence",
    "link_cases",
    "link_evidence",
    "event_entities",
    "snapshot_evidence",
    "entity_values",
)


@dataclass
class Command:
    name: str
    base: Path  # the store before the command runs (closed, no WAL)
    args: tuple[str, ...]


def counts(path: Path) -> dict[str, int]:
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return {
            table: conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]  # noqa: S608
            for table in TABLES
        }
    finally:
        conn.close()


def copy_store(source: Path, target: Path) -> Path:
    for suffix in ("-wal", "-shm"):
        Path(str(target) + suffix).unlink(missing_ok=True)
    shutil.copyfile(source, target)
    return target


def start(command: Command, store: Path, tmp_path: Path) -> subprocess.Popen:
    return subprocess.Popen(
        workbench_command(store, command.args),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=cli_env(tmp_path),
        cwd=tmp_path,
    )


def wait_for_wal(process: subprocess.Popen, store: Path, timeout_s: float = 60) -> float:
    """Wait until the command has opened the store (its WAL file exists); the time then."""
    wal = Path(str(store) + "-wal")
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and process.poll() is None:
        if wal.exists():
            break
        time.sleep(0.001)
    return time.monotonic()


def reference_run(command: Command, tmp_path: Path) -> tuple[dict[str, int], float]:
    """One whole run: what it leaves, and how long it writes after opening the store."""
    store = copy_store(command.base, tmp_path / f"reference-{command.name.replace(' ', '-')}")
    process = start(command, store, tmp_path)
    opened = wait_for_wal(process, store)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 0, err.decode()
    return counts(store), time.monotonic() - opened


def kill_and_check(
    command: Command, n: int, delay_s: float, tmp_path: Path, before: dict, after: dict
) -> str:
    """Kill the command `delay_s` after it opened the store; check what it left.
    Returns "nothing", "everything" or a description of what is wrong."""
    store = copy_store(command.base, tmp_path / f"kill-{command.name.replace(' ', '-')}-{n}")
    process = start(command, store, tmp_path)
    opened = wait_for_wal(process, store)
    time.sleep(max(0.0, delay_s - (time.monotonic() - opened)))
    process.send_signal(signal.SIGKILL)
    process.wait(30)
    db = open_store(store)  # as the user's next command does: the WAL is recovered
    try:
        report = verify_store(db)
        problems = integrity_check(db)
    finally:
        db.close()
    if not report.ok or problems:
        return f"verify: {report.problems[:3]} integrity: {problems[:3]}"
    left = counts(store)
    if left == before:
        return "nothing"
    if left == after:
        return "everything"
    changed = {t: (before[t], left[t], after[t]) for t in TABLES if left[t] != before[t]}
    return f"half-written (table: before, left, whole run): {changed}"


@pytest.fixture(scope="module")
def commands(tmp_path_factory) -> list[Command]:
    folder = tmp_path_factory.mktemp("import-crash")
    empty = folder / "empty.sqlite"
    open_store(empty).close()
    with_case = folder / "with-case.sqlite"
    db = open_store(with_case)
    casework.new_case(db, "Soundsbox")
    db.close()
    demo_store = folder / "demo.sqlite"
    db = open_store(demo_store)
    cases = build_demo(db)["cases"]
    db.close()
    bundle = folder / "soundsbox.zip"
    exported = subprocess.run(
        workbench_command(
            demo_store, ("export", "--case", str(cases["Soundsbox"]), "--bundle", str(bundle))
        ),
        capture_output=True,
        env=cli_env(folder),
        cwd=folder,
        timeout=120,
        check=False,
    )
    assert exported.returncode == 0, exported.stderr.decode()
    whois = FIXTURES / "whois"
    return [
        Command(
            "evidence import",
            with_case,
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
                "2009-11-02",
                str(whois / "soundsbox_test_registry.txt"),
                str(whois / "soundsbox_test_registrar.txt"),
            ),
        ),
        Command("demo", empty, ("demo",)),
        Command("bundle import", with_case, ("import", str(bundle))),
    ]


def test_imports_killed_at_random_points_leave_all_or_nothing_and_a_sound_store(commands, tmp_path):
    rng = random.Random(int(os.environ.get("WORKBENCH_CRASH_SEED", "3")))
    plan = []
    outcomes: dict[str, list[str]] = {}
    for command in commands:
        before = counts(command.base)
        after, write_s = reference_run(command, tmp_path)
        assert after != before, f"{command.name} stored nothing in a whole run"
        for n in range(KILLS[command.name]):
            # Spread over the writing window and a little past it: some kills land before
            # the commit, some after.
            plan.append((command, n, rng.uniform(0, write_s * 1.2), before, after))
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(
            pool.map(
                lambda job: (job[0].name, job[2], kill_and_check(*job[:3], tmp_path, *job[3:])),
                plan,
            )
        )
    for name, delay, outcome in results:
        outcomes.setdefault(name, []).append(f"{delay:.3f}s:{outcome}")
    bad = [
        f"{name} killed {delay:.3f} s after opening the store: {outcome}"
        for name, delay, outcome in results
        if outcome not in ("nothing", "everything")
    ]
    assert not bad, "\n".join(bad)
    # For docs/reliability.md (pytest -s): how many kills landed before each commit.
    for name, done in outcomes.items():
        nothing = sum(entry.endswith(":nothing") for entry in done)
        print(f"{name}: {len(done)} kills, {nothing} left nothing, {len(done) - nothing} all")
    assert len(results) == sum(KILLS.values()) == 20
    # The kills were not all after the end: some landed while the command was writing.
    assert any(outcome == "nothing" for _, _, outcome in results), outcomes


def test_a_command_run_again_after_a_kill_finishes_the_work(commands, tmp_path):
    """What a user does after a crash: run the same command again."""
    command = commands[0]
    after, _ = reference_run(command, tmp_path)
    store = copy_store(command.base, tmp_path / "again.sqlite")
    process = start(command, store, tmp_path)
    wait_for_wal(process, store)
    process.send_signal(signal.SIGKILL)
    process.wait(30)
    rerun = subprocess.run(
        workbench_command(store, command.args),
        capture_output=True,
        env=cli_env(tmp_path),
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert rerun.returncode == 0, rerun.stderr.decode()
    assert counts(store) == after
