"""A bulk lookup survives kill -9 (issue 3, item 6): the real `workbench lookup` in a
subprocess is SIGKILLed at random points while it stores; after each kill the store
verifies, every domain marked done has all its snapshots, no domain is half-written, and
`--resume` finishes the run without storing any domain twice."""

from __future__ import annotations

import os
import random
import re
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import cli_env, workbench_command
from tests.peers.scenario import ScenarioServers, scenario_servers
from tests.peers.whois_server import Reply
from workbench.store.database import integrity_check, open_store
from workbench.store.verify import verify_store

KINDS = {"whois", "rdap", "dns"}
KILLS = 5


@pytest.fixture(scope="module")
def servers() -> Iterator[ScenarioServers]:
    with scenario_servers() as running:
        yield running


def done_items(store_path: Path) -> int:
    """How many run items are marked done, read without writing (0 before the store or
    the run exists)."""
    if not store_path.exists():
        return 0
    try:
        conn = sqlite3.connect(f"{store_path.resolve().as_uri()}?mode=ro", uri=True, timeout=5)
        try:
            return conn.execute(
                "SELECT count(*) FROM lookup_run_items WHERE state = 'done'"
            ).fetchone()[0]
        finally:
            conn.close()
    except sqlite3.OperationalError:  # not migrated yet, or the WAL index is being made
        return 0


def wait_until(predicate, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def network_children(pid: int) -> list[int]:
    """The live processes a run started from process `pid` to do its network work."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:  # ended while we looked
            continue
        # The fields after the command name: state, then the parent's pid.
        state, parent = stat.rsplit(")", 1)[1].split()[:2]
        if int(parent) == pid and state != "Z" and b"spawn_main" in cmdline:
            found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def check_after_kill(store_path: Path, run_id: int) -> tuple[int, int]:
    """The store is sound and holds whole domains only; returns (done, pending).

    Reads one consistent snapshot of the store (a read transaction), so it may run while
    the next process starts: every committed state must pass these checks.
    """
    db = open_store(store_path, read_only=True)
    db.execute("BEGIN")
    try:
        report = verify_store(db)
        assert report.ok, report.problems
        assert integrity_check(db) == []
        states = dict(
            db.execute("SELECT query, state FROM lookup_run_items WHERE run_id = ?", [run_id])
        )
        stored: dict[str, dict[str, int]] = {}
        for value, protocol, count in db.execute(
            "SELECT e.value, s.protocol, count(*) FROM snapshots s JOIN entities e "
            "ON e.id = s.entity_id WHERE s.run_id = ? AND e.kind = 'domain' "
            "GROUP BY e.value, s.protocol",
            [run_id],
        ):
            stored.setdefault(value, {})[protocol] = count
        done = {query for query, state in states.items() if state == "done"}
        # Marked done <=> stored, and stored means every lookup kind, once.
        assert set(stored) == done, set(stored) ^ done
        for domain, kinds in stored.items():
            assert kinds == dict.fromkeys(KINDS, 1), (domain, kinds)
        # Every snapshot's evidence is there (nothing cites a row that was rolled back).
        dangling = db.execute(
            "SELECT count(*) FROM snapshot_evidence se LEFT JOIN evidence e "
            "ON e.id = se.evidence_id WHERE e.id IS NULL"
        ).fetchone()[0]
        assert dangling == 0
        return len(done), len(states) - len(done)
    finally:
        db.execute("ROLLBACK")
        db.close()


def test_a_bulk_lookup_killed_at_random_points_keeps_whole_domains_and_resumes(
    servers, run_cli, store_path, tmp_path
):
    seed = int(os.environ.get("CRASH_SEED", time.time_ns() % 100_000))
    rng = random.Random(seed)
    unknown = [f"crash-{n:03d}.test" for n in range(98)]
    names = ["soundsbox.test", "allofmp3.test", *unknown]
    (tmp_path / "domains.txt").write_text("\n".join(names) + "\n")
    # The registry takes 0.2 s per unknown name and four domains are in flight: at most
    # 20 domains a second, so five kills cannot outrun the list on a fast machine.
    for name in unknown:
        servers.registry.serve(
            name, Reply(f'No match for "{name}".\r\n'.encode(), "slow", delay_s=0.2)
        )
    flags = [*servers.cli_args(), "--concurrency", "4"]

    def start(*args: str) -> subprocess.Popen:
        return subprocess.Popen(
            workbench_command(store_path, ("lookup", *flags, *args)),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=cli_env(tmp_path),
            cwd=tmp_path,
        )

    run_id = None
    done = 0
    process = start("--from-file", "domains.txt")
    for kill in range(KILLS):
        try:
            # Kill it while it works: after it has stored something, at a random moment.
            started = wait_until(
                lambda before=done, process=process: (
                    done_items(store_path) > before or process.poll() is not None
                ),
                60,
            )
            if not started or process.poll() is not None:
                process.kill()
                process.wait(10)
                pytest.fail(
                    f"seed {seed}: before kill {kill} the run ended or stalled "
                    f"(exit {process.returncode}): {process.stderr.read().decode()}"
                )
            time.sleep(rng.uniform(0.0, 0.5))
            helpers = network_children(process.pid)
            process.kill()
        finally:
            process.wait(10)
            stderr = process.stderr.read().decode()
            process.stderr.close()
        assert process.returncode == -9, (seed, stderr)
        # A run of this size asks the servers from a child process; with the run killed
        # nothing it fetched could be stored, so it must stop asking too.
        # (The first run has 100 domains to do; a resume with few left runs in-process.)
        assert helpers or kill > 0, "the bulk run did its network work in its own process"
        assert wait_until(lambda helpers=helpers: not any(map(alive, helpers)), 10), (
            f"seed {seed}: the run's network process outlived the killed run"
        )
        if run_id is None:
            # The user learns the run's id from the first line, before anything is done.
            match = re.search(r"lookup run (\d+) ", stderr)
            assert match, stderr
            run_id = int(match.group(1))
        # The next one starts at once; the checks run while it loads.
        process = start("--resume", str(run_id)) if kill < KILLS - 1 else None
        before = done
        done, pending = check_after_kill(store_path, run_id)
        assert done > before, f"seed {seed}: kill {kill} found no progress"
    assert pending > 0, f"seed {seed}: nothing left to resume"

    finished = run_cli("lookup", *flags, "--resume", str(run_id), json=True)
    assert finished.code == 0, finished
    assert (finished.data["done"], finished.data["total"]) == (len(names), len(names))
    assert finished.data["cancelled"] is False
    # The resume did exactly the rest.
    assert len(finished.data["results"]) == pending
    assert check_after_kill(store_path, run_id) == (len(names), 0)

    verify, integrity = run_cli.many(("verify",), ("integrity",), json=True)
    assert verify.code == 0 and verify.data["ok"], verify
    assert integrity.code == 0, integrity
