"""Bulk lookup runs (issue 3, item 6): hundreds of domains with bounded concurrency,
progress through a callback (done, failed, rate, time left), a cancel that keeps what
finished, and a resume that does exactly the rest. In-process, against the scenario's
real peers; the command line and kill -9 are in test_lookup_cli and test_lookup_crash."""

from __future__ import annotations

import asyncio
import multiprocessing
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.peers.scenario import ScenarioServers, scenario_servers
from tests.peers.whois_server import Reply, WhoisPeer, fixture
from workbench.domain.errors import NotFound
from workbench.lookups.settings import LookupSettings
from workbench.services import lookup_network
from workbench.services.lookup_network import NETWORK_PROCESS, NETWORK_THREAD
from workbench.services.lookup_runs import (
    CancelToken,
    LookupPlan,
    Progress,
    parse_queries,
    run_lookups,
    start_run,
)
from workbench.store.database import Database
from workbench.store.verify import verify_store

KINDS = {"whois", "rdap", "dns"}
# What the peers say about a name they do not know: the registry "No match", the RDAP
# server 404, Knot REFUSED (it is not authoritative for it, and not a resolver).
UNKNOWN_NAME_STATUSES = {"whois": "not_found", "rdap": "not_found", "dns": "failed"}


@pytest.fixture(scope="module")
def servers() -> Iterator[ScenarioServers]:
    with scenario_servers() as running:
        yield running


@dataclass(frozen=True)
class Seen:
    """One progress report, copied when it was made (the Progress object lives on)."""

    done: int
    failed: int
    total: int
    rate: float
    eta_s: float | None
    thread: int


def recorder(into: list[Seen], then=None):
    def on_progress(progress: Progress) -> None:
        into.append(
            Seen(
                progress.done,
                progress.failed,
                progress.total,
                progress.rate,
                progress.eta_s,
                threading.get_ident(),
            )
        )
        if then is not None:
            then(progress)

    return on_progress


def bulk_names(count: int) -> list[str]:
    return [f"bulk-{n:04d}.test" for n in range(count)]


def snapshot_counts(db: Database, run_id: int) -> dict[str, dict[str, int]]:
    """{domain: {lookup kind: snapshots of it in this run}} for the run's domains."""
    counts: dict[str, dict[str, int]] = {}
    for value, protocol, count in db.execute(
        "SELECT e.value, s.protocol, count(*) FROM snapshots s JOIN entities e "
        "ON e.id = s.entity_id WHERE s.run_id = ? AND e.kind = 'domain' "
        "GROUP BY e.value, s.protocol",
        [run_id],
    ):
        counts.setdefault(value, {})[protocol] = count
    return counts


def item_states(db: Database, run_id: int) -> dict[str, str]:
    return dict(db.execute("SELECT query, state FROM lookup_run_items WHERE run_id = ?", [run_id]))


# The network half of a run in a worker thread (few domains) or a child process (bulk).
NETWORK_MODES = pytest.mark.parametrize("in_process", [True, False], ids=["thread", "process"])


def network_helpers() -> list[str]:
    """What is left running of any run's network half in this process."""
    threads = [t.name for t in threading.enumerate() if t.name.startswith(NETWORK_THREAD)]
    children = [p.name for p in multiprocessing.active_children() if p.name == NETWORK_PROCESS]
    return threads + children


def fast(servers: ScenarioServers, registry: WhoisPeer | None = None, **changes) -> LookupSettings:
    """The scenario's settings with room for bulk: several queries in flight per server."""
    changes.setdefault("per_server_concurrency", 32)
    if registry is not None:
        changes["whois_server"] = registry.address
    return servers.fast_settings(**changes)


def test_two_hundred_domains_from_a_file_run_with_bounded_concurrency_and_steady_progress(
    servers, store, tmp_path: Path
):
    names = bulk_names(210)
    listing = tmp_path / "domains.txt"
    listing.write_text(
        "# storefronts found in the support mail\n"
        + "\n".join(["soundsbox.test", "https://www.allofmp3.test/music/", *names])
        + "\n\n"
    )
    domains = parse_queries(listing.read_text().splitlines())
    assert len(domains) == 212

    # A registry that takes a moment per answer, so the number of lookups in flight at
    # once shows at the server.
    replies = {
        name: Reply(f'No match for "{name.upper()}".\r\n'.encode(), "slow", delay_s=0.02)
        for name in names
    }
    replies["soundsbox.test"] = Reply(fixture("soundsbox_test_registry"))
    replies["allofmp3.test"] = Reply(fixture("allofmp3_test_registry"))
    with WhoisPeer(replies) as registry:
        settings = fast(servers, registry, concurrency=8)
        run_id = start_run(store, domains, case_id=None, plan=LookupPlan())
        seen: list[Seen] = []
        started = time.monotonic()
        report = run_lookups(store, run_id, settings, on_progress=recorder(seen))
        elapsed = time.monotonic() - started

    assert (report.total, report.done, report.cancelled) == (212, 212, False)
    # Bounded: never more WHOIS queries at once than domains in flight, and more than one.
    assert 2 <= registry.max_in_flight <= 8, registry.max_in_flight
    print(f"\nbulk: {report.total} domains in {elapsed:.2f} s = {report.total / elapsed:.0f}/s")

    # Progress: reported from the calling thread (the writer), done counts rising to the
    # total, a positive rate, and a time left that shrinks to zero.
    assert {s.thread for s in seen} == {threading.get_ident()}
    dones = [s.done for s in seen]
    assert dones == sorted(set(dones)) and dones[-1] == 212 and len(seen) >= 3
    assert all(s.total == 212 and 0 <= s.failed <= s.done for s in seen)
    assert seen[-1].failed == 210  # every unknown name has failed lookups; the two shops none
    assert all(s.rate > 0 for s in seen)
    for s in seen:
        assert s.eta_s is not None and s.eta_s >= 0
        assert s.eta_s == pytest.approx((s.total - s.done) / s.rate, rel=0.05, abs=0.05)
        assert s.eta_s <= elapsed * 20  # sane: not hours for a run of seconds
    assert seen[-1].eta_s == 0

    by_query = {result["query"]: result for result in report.results}
    assert list(by_query) == [d.ascii for d in domains]  # in input order
    for name in names:
        statuses = {lk["protocol"]: lk["status"] for lk in by_query[name]["lookups"]}
        assert statuses == UNKNOWN_NAME_STATUSES, (name, statuses)
        assert all(lk["reason"] for lk in by_query[name]["lookups"])
    for shop in ("soundsbox.test", "allofmp3.test"):
        assert {lk["status"] for lk in by_query[shop]["lookups"]} == {"ok"}

    # Each domain stored once, with one snapshot per lookup kind; the run is finished.
    counts = snapshot_counts(store, run_id)
    assert set(counts) == {d.ascii for d in domains}
    assert all(kinds == dict.fromkeys(KINDS, 1) for kinds in counts.values())
    assert set(item_states(store, run_id).values()) == {"done"}
    finished = store.execute("SELECT finished_at FROM lookup_runs WHERE id = ?", [run_id])
    assert finished.fetchone()[0] is not None
    assert verify_store(store).ok


@NETWORK_MODES
def test_a_cancelled_run_keeps_what_finished_and_a_resume_does_exactly_the_rest(
    servers, store, in_process
):
    names = ["soundsbox.test", *bulk_names(80)]
    settings = fast(servers, concurrency=10)
    run_id = start_run(store, parse_queries(names), case_id=None, plan=LookupPlan())
    cancel = CancelToken()
    seen: list[Seen] = []

    def stop_early(progress: Progress) -> None:
        if progress.done >= 10:
            cancel.cancel()

    report = run_lookups(
        store,
        run_id,
        settings,
        on_progress=recorder(seen, stop_early),
        cancel=cancel,
        in_process=in_process,
    )
    assert report.cancelled and 10 <= report.done < len(names)
    assert network_helpers() == []  # the network half stopped with the run

    # What finished is stored, whole; what did not is untouched and still pending.
    states = item_states(store, run_id)
    done = {query for query, state in states.items() if state == "done"}
    assert len(done) == report.done == len(report.results)
    counts = snapshot_counts(store, run_id)
    assert set(counts) == done
    assert all(kinds == dict.fromkeys(KINDS, 1) for kinds in counts.values())
    unfinished = store.execute("SELECT finished_at FROM lookup_runs WHERE id = ?", [run_id])
    assert unfinished.fetchone()[0] is None

    # Resumed: exactly the rest, no domain twice.
    resumed = run_lookups(store, run_id, settings, in_process=in_process)
    assert (resumed.done, resumed.total, resumed.cancelled) == (len(names), len(names), False)
    assert {r["query"] for r in resumed.results} == set(states) - done
    counts = snapshot_counts(store, run_id)
    assert set(counts) == set(states)
    assert all(kinds == dict.fromkeys(KINDS, 1) for kinds in counts.values())
    assert set(item_states(store, run_id).values()) == {"done"}

    # A finished run resumed again does nothing.
    again = run_lookups(store, run_id, settings)
    assert (again.done, again.results, again.cancelled) == (len(names), [], False)
    assert snapshot_counts(store, run_id) == counts


def test_a_run_that_does_not_exist_cannot_be_resumed(servers, store):
    with pytest.raises(NotFound, match="lookup run"):
        run_lookups(store, 4242, servers.settings)


def test_spellings_of_one_domain_make_one_item_of_the_run(servers, store):
    # A URL and a host under the domain reduce to it: one item, looked up once, and
    # each of its addresses gets one RDAP lookup.
    names = ["soundsbox.test", "http://www.soundsbox.test/shop", "SOUNDSBOX.TEST."]
    run_id = start_run(store, parse_queries(names), case_id=None, plan=LookupPlan())
    report = run_lookups(store, run_id, servers.settings)
    assert report.total == 1
    (result,) = report.results
    addresses = [lk["query"] for lk in result["lookups"] if lk["protocol"] == "rdap_ip"]
    assert sorted(addresses) == ["192.0.2.10", "2001:db8::10"]


@NETWORK_MODES
def test_when_storing_fails_the_network_work_stops_too(servers, store, in_process):
    # A progress callback that fails (a bug in a window, say) ends the run on the
    # writer's side; the lookups still in flight must not go on asking servers.
    names = bulk_names(150)
    run_id = start_run(store, parse_queries(names), case_id=None, plan=LookupPlan())

    def broken(progress: Progress) -> None:
        raise RuntimeError("the window that showed progress is gone")

    with pytest.raises(RuntimeError, match="window"):
        run_lookups(
            store, run_id, fast(servers, concurrency=4), on_progress=broken, in_process=in_process
        )
    time.sleep(0.2)  # a request already on its way when the run failed may still land
    asked = len(servers.rdap.requests)
    time.sleep(0.5)
    assert len(servers.rdap.requests) == asked, "lookups went on after the run failed"
    assert network_helpers() == []
    # What was stored before the failure stays stored, whole; the rest can be resumed.
    states = item_states(store, run_id)
    assert "pending" in states.values()
    counts = snapshot_counts(store, run_id)
    assert set(counts) == {q for q, state in states.items() if state == "done"}


@pytest.mark.parametrize("loop", ["uvloop", "asyncio"])
def test_a_run_gives_the_same_answers_on_either_event_loop(servers, store, monkeypatch, loop):
    # uvloop where it is installed; asyncio's own loop where it is not (Windows).
    if loop == "asyncio":
        monkeypatch.setitem(sys.modules, "uvloop", None)  # import uvloop -> ImportError
    else:
        pytest.importorskip("uvloop")
    factory = lookup_network.event_loop_factory()
    assert (factory is asyncio.new_event_loop) == (loop == "asyncio")
    run_id = start_run(store, parse_queries(["soundsbox.test"]), case_id=None, plan=LookupPlan())
    report = run_lookups(store, run_id, servers.settings, in_process=True)
    (result,) = report.results
    assert {lk["protocol"]: lk["status"] for lk in result["lookups"]} == {
        "whois": "ok",
        "rdap": "ok",
        "dns": "ok",
        "rdap_ip": "ok",
    }


def test_a_script_without_a_main_guard_can_start_a_bulk_run(tmp_path):
    # The run's network process is spawned without importing the script again, so a
    # plain script (no `if __name__ == "__main__":`) works, and does its work once.
    script = tmp_path / "bulk.py"
    script.write_text(
        "from workbench.lookups.settings import LookupSettings\n"
        "from workbench.services.lookup_runs import LookupPlan, parse_queries, run_lookups, "
        "start_run\n"
        "from workbench.store.database import open_store\n"
        f"db = open_store({str(tmp_path / 'store.sqlite')!r})\n"
        "names = parse_queries([f'bulk-{n}.test' for n in range(50)])\n"
        "run_id = start_run(db, names, case_id=None, plan=LookupPlan())\n"
        "report = run_lookups(db, run_id, LookupSettings(offline=True), in_process=False)\n"
        "print('stored', report.done)\n"
    )
    finished = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
        timeout=120,
        check=False,
    )
    assert finished.returncode == 0, finished.stderr
    assert finished.stdout.splitlines() == ["stored 50"]
