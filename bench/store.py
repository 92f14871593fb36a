# SQL here is composed only from module constants and "?" placeholders.
# ruff: noqa: S608
"""The store at investigator scale (issue 8): each query an investigator waits for, timed
through the workbench and through the bare SQLite it rests on, in the same run.

    .venv/bin/python bench/store.py --store S.sqlite --half-store H.sqlite  # bench/generate's
    .venv/bin/python bench/store.py --entities 100000    # generate both into a temporary folder
    .venv/bin/python bench/store.py --quick              # 2,000 entities, 10 runs each

Measured (median and p95 over many runs; the workbench call against a bare query returning
the same rows with plain `sqlite3` and no model objects):
  pivot_hub                  pivots.pivot_entity(limit=200) on a hub nameserver: the first
                             page the explore pane shows, with the counts
  pivot_hub_all              pivots.pivot_entity on the hub, everything (the CLI's answer)
  pivot_typical              pivots.pivot_entity on a typical domain (everything)
  related_cases              pivots.related_cases_page on typical cases: the first 50
                             related cases with up to 10 shared things each, ranked;
                             bare: the case lists it ranks from
  related_cases_sql          the same page against ranking in bare SQL over the
                             memberships (GROUP BY ... ORDER BY score LIMIT 50)
  related_cases_big          related_cases_page on the biggest case
  related_cases_all          pivots.related_cases on typical cases, everything (exports)
  open_case_detail           details.case_detail of the biggest case (everything at once)
  open_case_first_page       what the desktop app reads to paint a case: kind counts, the
                             entity count and first page, the timeline's count and first page
  search_rare, search_common search.search for a unique name / a word in thousands of rows
  import_whois               imports.import_recording of the demo's WHOIS file into a case
  verify                     verify.verify_store of the whole store, and of the half-size
                             (or any smaller) store, each in a fresh process without a
                             warm-up (peak RSS reported): linearity is CPU time per audit
                             row at both sizes

Targets: pivots and related cases p95 < 10 ms, opening a 5,000-entity case < 300 ms,
search < 50 ms, overhead < 2x the bare query, verify linear. One line per figure:
`RESULT store_<name> <p95 ms> ms ratio=<workbench median / bare median>`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `bench` and `workbench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.generate import generate
from workbench.services import ui_queries
from workbench.services.imports import import_recording
from workbench.store.database import CACHE_KB, open_store
from workbench.store.details import case_detail
from workbench.store.pivots import (
    COMMONPLACE_CASES,
    pivot_entity,
    related_cases,
    related_cases_page,
)
from workbench.store.search import search

REPO = Path(__file__).resolve().parent.parent
DEMO_WHOIS = REPO / "resources" / "demo" / "whois" / "allofmp3_test_2006.txt"
PAGE = 200  # neighbours per link type in a pivot's first page
RELATED_PAGE, RELATED_ITEMS = 50, 10  # related cases shown first, shared things listed each
TARGETS_MS = {
    "pivot_hub": 10.0,
    "pivot_typical": 10.0,
    "related_cases": 10.0,
    "open_case_detail": 300.0,
    "open_case_first_page": 300.0,
    "search_rare": 50.0,
    "search_common": 50.0,
}


def timed(
    fn: Callable[[], object], runs: int, warmup: bool = True
) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU milliseconds of each of `runs` calls (after one warm-up call).

    CPU time is reported beside wall-clock time because a shared machine's other load
    stretches wall-clock time; a query's own CPU time is what it costs on an idle one."""
    if warmup:
        fn()
    wall, cpu = [], []
    for _ in range(runs):
        started, started_cpu = time.perf_counter(), time.process_time()
        fn()
        cpu.append((time.process_time() - started_cpu) * 1000)
        wall.append((time.perf_counter() - started) * 1000)
    return wall, cpu


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


class Cycle:
    """Each call takes the next of `items`: runs spread over many subjects, not one cached."""

    def __init__(self, items: list) -> None:
        self.items, self.i = items, 0

    def next(self):
        item = self.items[self.i % len(self.items)]
        self.i += 1
        return item


# --- bare queries: the same rows as the workbench call, plain sqlite3, tuples only -------


def bare_pivot(conn: sqlite3.Connection, entity_id: int) -> list:
    rows = conn.execute(
        "SELECT l.id, l.type, l.label, e.id, e.kind, e.key, e.value, e.attrs "
        "FROM links l JOIN entities e ON e.id = l.dst_id WHERE l.src_id = ? UNION ALL "
        "SELECT l.id, l.type, l.label, e.id, e.kind, e.key, e.value, e.attrs "
        "FROM links l JOIN entities e ON e.id = l.src_id WHERE l.dst_id = ?",
        [entity_id, entity_id],
    ).fetchall()
    rows += conn.execute(
        "SELECT le.link_id, le.evidence_id FROM links l JOIN link_evidence le "
        "ON le.link_id = l.id WHERE l.src_id = ? UNION ALL "
        "SELECT le.link_id, le.evidence_id FROM links l JOIN link_evidence le "
        "ON le.link_id = l.id WHERE l.dst_id = ?",
        [entity_id, entity_id],
    ).fetchall()
    rows += conn.execute(
        "SELECT c.* FROM case_entities ce JOIN cases c ON c.id = ce.case_id WHERE ce.entity_id = ?",
        [entity_id],
    ).fetchall()
    rows += conn.execute(
        "SELECT mine.name, mine.value, e.* FROM entity_values mine "
        "JOIN entity_values theirs ON theirs.name = mine.name AND theirs.value = mine.value "
        "AND theirs.entity_id != mine.entity_id JOIN entities e ON e.id = theirs.entity_id "
        "WHERE mine.entity_id = ?",
        [entity_id],
    ).fetchall()
    return rows


def bare_pivot_page(conn: sqlite3.Connection, entity_id: int) -> list:
    """The rows of a pivot's first page: the counts per direction and type, up to PAGE
    links of each with the entity at the other end and their evidence, PAGE cases, PAGE
    entities sharing a value."""
    rows = []
    groups = conn.execute(
        "SELECT 'out', type, count(*) FROM links WHERE src_id = ? GROUP BY type UNION ALL "
        "SELECT 'in', type, count(*) FROM links WHERE dst_id = ? GROUP BY type",
        [entity_id, entity_id],
    ).fetchall()
    for direction, link_type, _count in groups:
        mine, other = ("src_id", "dst_id") if direction == "out" else ("dst_id", "src_id")
        rows += conn.execute(
            f"SELECT l.id, l.type, l.label, e.* FROM links l JOIN entities e ON e.id = l.{other} "
            f"WHERE l.{mine} = ? AND l.type = ? ORDER BY l.{other} LIMIT ?",
            [entity_id, link_type, PAGE],
        ).fetchall()
    ids = [row[0] for row in rows]
    marks = ",".join("?" * len(ids))
    rows += conn.execute(
        f"SELECT link_id, evidence_id FROM link_evidence WHERE link_id IN ({marks})", ids
    ).fetchall()
    rows += conn.execute(
        "SELECT c.* FROM case_entities ce JOIN cases c ON c.id = ce.case_id "
        "WHERE ce.entity_id = ? ORDER BY ce.case_id LIMIT ?",
        [entity_id, PAGE],
    ).fetchall()
    rows += conn.execute(
        "SELECT mine.name, mine.value, e.* FROM entity_values mine "
        "JOIN entity_values theirs ON theirs.name = mine.name AND theirs.value = mine.value "
        "AND theirs.entity_id != mine.entity_id JOIN entities e ON e.id = theirs.entity_id "
        "WHERE mine.entity_id = ? LIMIT ?",
        [entity_id, PAGE],
    ).fetchall()
    return rows


def bare_related_lists(conn: sqlite3.Connection, case_id: int) -> list:
    """What related_cases_page ranks from: the case lists of the case's entities and pivot
    values (migration 0005)."""
    rows = conn.execute(
        "SELECT mine.entity_id, counted.cases, counted.case_list FROM case_entities mine "
        "JOIN entity_case_counts counted ON counted.entity_id = mine.entity_id "
        "AND counted.cases BETWEEN 2 AND ? WHERE mine.case_id = ?",
        [COMMONPLACE_CASES, case_id],
    ).fetchall()
    rows += conn.execute(
        "SELECT mine.name, mine.value, listed.cases, listed.case_list FROM value_cases mine "
        "JOIN value_case_lists listed ON listed.name = mine.name "
        "AND listed.value = mine.value AND listed.cases BETWEEN 2 AND ? "
        "WHERE mine.case_id = ?",
        [COMMONPLACE_CASES, case_id],
    ).fetchall()
    return rows


def bare_related_sql(conn: sqlite3.Connection, case_id: int) -> list:
    """The first page ranked by bare SQL over the memberships (no case lists): shared
    entities only, weighted 1/(cases - 1), top RELATED_PAGE."""
    return conn.execute(
        "SELECT theirs.case_id, sum(1.0 / (counted.cases - 1)) AS score "
        "FROM case_entities mine JOIN entity_case_counts counted "
        "ON counted.entity_id = mine.entity_id AND counted.cases BETWEEN 2 AND ? "
        "JOIN case_entities theirs ON theirs.entity_id = mine.entity_id "
        "AND theirs.case_id != mine.case_id WHERE mine.case_id = ? "
        "GROUP BY theirs.case_id ORDER BY score DESC, theirs.case_id LIMIT ?",
        [COMMONPLACE_CASES, case_id, RELATED_PAGE],
    ).fetchall()


def bare_related(conn: sqlite3.Connection, case_id: int) -> list:
    rows = conn.execute(
        "SELECT theirs.case_id, mine.entity_id, counted.cases FROM case_entities mine "
        "JOIN entity_case_counts counted ON counted.entity_id = mine.entity_id "
        "AND counted.cases BETWEEN 2 AND ? "
        "JOIN case_entities theirs ON theirs.entity_id = mine.entity_id "
        "AND theirs.case_id != mine.case_id WHERE mine.case_id = ?",
        [COMMONPLACE_CASES, case_id],
    ).fetchall()
    rows += conn.execute(
        "SELECT theirs_ce.case_id, mine_v.entity_id, theirs_v.entity_id FROM case_entities "
        "mine_ce JOIN entity_values mine_v ON mine_v.entity_id = mine_ce.entity_id "
        "JOIN entity_values theirs_v ON theirs_v.name = mine_v.name "
        "AND theirs_v.value = mine_v.value AND theirs_v.entity_id != mine_v.entity_id "
        "JOIN case_entities theirs_ce ON theirs_ce.entity_id = theirs_v.entity_id "
        "AND theirs_ce.case_id != mine_ce.case_id WHERE mine_ce.case_id = ?",
        [case_id],
    ).fetchall()
    return rows


def bare_case_detail(conn: sqlite3.Connection, case_id: int) -> list:
    rows = conn.execute("SELECT * FROM cases WHERE id = ?", [case_id]).fetchall()
    rows += conn.execute(
        "SELECT e.* FROM case_entities ce JOIN entities e ON e.id = ce.entity_id "
        "WHERE ce.case_id = ? ORDER BY e.kind, e.value",
        [case_id],
    ).fetchall()
    rows += conn.execute(
        "SELECT l.*, (SELECT group_concat(case_id) FROM link_cases WHERE link_id = l.id), "
        "(SELECT group_concat(evidence_id) FROM link_evidence WHERE link_id = l.id) "
        "FROM link_cases lc JOIN links l ON l.id = lc.link_id WHERE lc.case_id = ? ORDER BY l.id",
        [case_id],
    ).fetchall()
    rows += conn.execute("SELECT * FROM events WHERE case_id = ? ORDER BY at", [case_id]).fetchall()
    rows += conn.execute(
        "SELECT e.id, e.kind, e.sha256, e.size, e.media_type, e.captured_at, e.recorded_at, "
        "e.source, e.query, e.filename, e.imported, e.note FROM case_evidence ce "
        "JOIN evidence e ON e.id = ce.evidence_id WHERE ce.case_id = ? "
        "ORDER BY e.captured_at, e.id",
        [case_id],
    ).fetchall()
    return rows


def ui_first_page(db, case_id: int) -> None:
    ui_queries.kind_counts(db, case_id)
    ui_queries.count_case_entities(db, case_id)
    ui_queries.entity_page(db, case_id, limit=200)
    ui_queries.timeline_count(db, case_id)
    ui_queries.timeline_page(db, case_id, limit=200)


def bare_first_page(conn: sqlite3.Connection, case_id: int) -> None:
    conn.execute(
        "SELECT e.kind, count(*) FROM case_entities ce JOIN entities e ON e.id = ce.entity_id "
        "WHERE ce.case_id = ? GROUP BY e.kind",
        [case_id],
    ).fetchall()
    conn.execute("SELECT count(*) FROM case_entities WHERE case_id = ?", [case_id]).fetchall()
    conn.execute(
        "SELECT e.* FROM case_entities ce JOIN entities e ON e.id = ce.entity_id "
        "WHERE ce.case_id = ? ORDER BY ce.entity_id LIMIT 200",
        [case_id],
    ).fetchall()
    conn.execute("SELECT count(*) FROM events WHERE case_id = ?", [case_id]).fetchall()
    conn.execute(
        "SELECT * FROM events WHERE case_id = ? ORDER BY at LIMIT 200", [case_id]
    ).fetchall()


def bare_search(conn: sqlite3.Connection, quoted: str) -> list:
    rows = []
    for fts, table in (
        ("entities_fts", "entities"),
        ("events_fts", "events"),
        ("evidence_fts", "evidence"),
    ):
        rows += conn.execute(
            f"SELECT c.id, snippet({fts}, -1, '[', ']', ' … ', 12), {fts}.rank "
            f"FROM {fts} JOIN {table} c ON c.rowid = {fts}.rowid "
            f"WHERE {fts} MATCH ? ORDER BY {fts}.rank LIMIT 50",
            [quoted],
        ).fetchall()
    return rows


def bare_verify(conn: sqlite3.Connection) -> None:
    """The floor of verify: read every audit row and hash it, hash every evidence item."""
    for row in conn.execute(
        "SELECT at, action, subject, subject_id, payload, prev_hash FROM audit"
    ):
        hashlib.sha256("\n".join(map(str, row)).encode()).hexdigest()
    for (content,) in conn.execute("SELECT content FROM evidence"):
        hashlib.sha256(content).hexdigest()


def verify_in_process(path: Path) -> tuple[int, float]:
    """Verify the store at `path` in a fresh process (the workbench as a user runs it);
    its peak RSS in MB and verify's CPU milliseconds. Exits the benchmark if the store
    does not verify."""
    script = (
        "import json, resource, sys, time\n"
        "from workbench.store.database import open_store\n"
        "from workbench.store.verify import verify_store\n"
        "db = open_store(sys.argv[1], read_only=True)\n"
        "started = time.process_time()\n"
        "report = verify_store(db)\n"
        "cpu = time.process_time() - started\n"
        "print(json.dumps({'ok': report.ok, 'problems': report.problems[:5], 'cpu': cpu, "
        "'rss': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))\n"
    )
    finished = subprocess.run(
        [sys.executable, "-c", script, str(path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    if finished.returncode != 0:
        raise SystemExit(f"verify of {path} could not run: {finished.stderr[-2000:]}")
    answer = json.loads(finished.stdout.strip().splitlines()[-1])
    if not answer["ok"]:
        raise SystemExit(f"verify of {path} FAILED: {answer['problems']}")
    return answer["rss"] // 1024, answer["cpu"] * 1000


# --- the run ---------------------------------------------------------------------------------


def measure(name: str, work, bare, runs: int, results: dict, warmup: bool = True) -> None:
    """Time `work` and `bare` alternately, run by run, each on the same subject (their
    cycles advance together), the two taking turns at going first: whichever reads a
    subject first pays for bringing its pages from disk into the cache, so neither side
    always gets the other's warm cache."""
    mine, mine_cpu, base, base_cpu = [], [], [], []
    for run in range(runs):
        first, second = ((work, mine, mine_cpu), (bare, base, base_cpu))[:: 1 if run % 2 else -1]
        for fn, wall, cpu in (first, second):
            one_wall, one_cpu = timed(fn, 1, warmup and run == 0)
            wall += one_wall
            cpu += one_cpu
    entry = {
        "median_ms": statistics.median(mine),
        "p95_ms": p95(mine),
        "cpu_median_ms": statistics.median(mine_cpu),
        "cpu_p95_ms": p95(mine_cpu),
        "bare_median_ms": statistics.median(base),
        "bare_p95_ms": p95(base),
        "bare_cpu_median_ms": statistics.median(base_cpu),
        "runs": runs,
    }
    entry["ratio"] = entry["median_ms"] / max(entry["bare_median_ms"], 1e-6)
    results[name] = entry
    target = TARGETS_MS.get(name)
    verdict = ""
    if target is not None:
        verdict = "  target met" if entry["p95_ms"] < target else f"  MISSED ({target:g} ms)"
    print(
        f"{name:20} median {entry['median_ms']:9.2f} p95 {entry['p95_ms']:9.2f} "
        f"cpu {entry['cpu_median_ms']:9.2f} p95 {entry['cpu_p95_ms']:8.2f} | "
        f"bare median {entry['bare_median_ms']:8.2f} "
        f"p95 {entry['bare_p95_ms']:8.2f} cpu {entry['bare_cpu_median_ms']:8.2f} ms | "
        f"ratio {entry['ratio']:5.2f}{verdict}",
        flush=True,
    )


def run(
    store: Path,
    half: Path | None,
    runs: int,
    verify_runs: int = 1,
    seed: int = 8,
    verify: bool = True,
) -> dict:
    rng = random.Random(seed)
    db = open_store(store)
    conn = sqlite3.connect(f"{store.resolve().as_uri()}?mode=ro", uri=True)
    # The same page cache as the workbench's connections: the ratio is its own overhead.
    conn.execute(f"PRAGMA cache_size = -{CACHE_KB}")
    count = {
        table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        for table in ("entities", "links", "evidence", "cases", "audit", "case_entities")
    }
    print("store:", ", ".join(f"{k} {v:,}" for k, v in count.items()), flush=True)
    hub = conn.execute(
        "SELECT dst_id FROM links WHERE type = 'uses_nameserver' "
        "GROUP BY dst_id ORDER BY count(*) DESC LIMIT 1"
    ).fetchone()[0]
    hub_links = conn.execute("SELECT count(*) FROM links WHERE dst_id = ?", [hub]).fetchone()[0]
    domains = [r[0] for r in conn.execute("SELECT id FROM entities WHERE kind = 'domain'")]
    typical = Cycle(rng.sample(domains, min(200, len(domains))))
    cases = [r[0] for r in conn.execute("SELECT id FROM cases WHERE id != 1")]
    some_cases = Cycle(rng.sample(cases, min(100, len(cases))))
    big = conn.execute(
        "SELECT case_id, count(*) FROM case_entities GROUP BY case_id ORDER BY 2 DESC LIMIT 1"
    ).fetchone()
    print(f"hub nameserver {hub}: {hub_links:,} links; biggest case {big[0]}: {big[1]:,} entities")
    results: dict = {"store": count, "hub_links": hub_links, "big_case_entities": big[1]}

    measure(
        "pivot_hub",
        lambda: pivot_entity(db, hub, limit=PAGE),
        lambda: bare_pivot_page(conn, hub),
        runs,
        results,
    )
    measure(
        "pivot_hub_all",
        lambda: pivot_entity(db, hub),
        lambda: bare_pivot(conn, hub),
        max(3, runs // 5),
        results,
    )
    t_item, b_item = Cycle(typical.items), Cycle(typical.items)
    measure(
        "pivot_typical",
        lambda: pivot_entity(db, t_item.next()),
        lambda: bare_pivot(conn, b_item.next()),
        runs,
        results,
    )

    def page(case_id: int) -> dict:
        return related_cases_page(db, case_id, limit=RELATED_PAGE, items=RELATED_ITEMS)

    r_item, rb_item = Cycle(some_cases.items), Cycle(some_cases.items)
    measure(
        "related_cases",
        lambda: page(r_item.next()),
        lambda: bare_related_lists(conn, rb_item.next()),
        runs,
        results,
    )
    r_item, rb_item = Cycle(some_cases.items), Cycle(some_cases.items)
    measure(
        "related_cases_sql",
        lambda: page(r_item.next()),
        lambda: bare_related_sql(conn, rb_item.next()),
        runs,
        results,
    )
    measure(
        "related_cases_big",
        lambda: page(big[0]),
        lambda: bare_related_lists(conn, big[0]),
        max(3, runs // 5),
        results,
    )
    r_item, rb_item = Cycle(some_cases.items), Cycle(some_cases.items)
    measure(
        "related_cases_all",
        lambda: related_cases(db, r_item.next()),
        lambda: bare_related(conn, rb_item.next()),
        max(3, runs // 5),
        results,
    )
    measure(
        "open_case_detail",
        lambda: case_detail(db, big[0]),
        lambda: bare_case_detail(conn, big[0]),
        max(3, runs // 5),
        results,
    )
    measure(
        "open_case_first_page",
        lambda: ui_first_page(db, big[0]),
        lambda: bare_first_page(conn, big[0]),
        runs,
        results,
    )
    rare = conn.execute(
        "SELECT value FROM entities WHERE kind = 'person' ORDER BY id LIMIT 1 OFFSET ?",
        [count["entities"] // 50],
    ).fetchone()[0]
    common = "petrov"
    for name, text in (("search_rare", rare), ("search_common", common)):
        quoted = db.quote_fts(text)
        hits = conn.execute(
            "SELECT count(*) FROM entities_fts WHERE entities_fts MATCH ?", [quoted]
        ).fetchone()[0]
        print(f"{name}: {text!r} matches {hits:,} entities", flush=True)
        measure(
            name,
            lambda text=text: search(db, text),
            lambda quoted=quoted: bare_search(conn, quoted),
            runs,
            results,
        )

    # One lookup's results into a case: each run is a new capture of the same domain (a
    # re-check), so the evidence, snapshot and audit rows are new every time.
    raw = DEMO_WHOIS.read_bytes()
    moments = iter(datetime(2006, 6, 1, tzinfo=UTC) + timedelta(minutes=i) for i in range(10**6))
    case_id = some_cases.items[0]

    def work() -> None:
        import_recording(
            db,
            case_id=case_id,
            kind="whois",
            subject="allofmp3.test",
            raws=[raw],
            captured_at=next(moments),
            source="bench",
        )

    # The bare side writes the same rows into a scratch store of the same schema (rows that
    # bypass the audit chain must not land in the measured store: verify would flag them).
    scratch_folder = tempfile.TemporaryDirectory()
    scratch = Path(scratch_folder.name) / "bare.sqlite"
    open_store(scratch).conn.close()
    writer = sqlite3.connect(scratch, isolation_level=None)
    writer.execute("PRAGMA synchronous = FULL")
    n_bare = iter(range(10**6))

    def bare() -> None:
        # The rows a re-check writes, as plain INSERTs in one transaction: the evidence
        # item (with its FTS row), a snapshot citing it, and the audit rows.
        i = next(n_bare)
        writer.execute("BEGIN IMMEDIATE")
        cursor = writer.execute(
            "INSERT INTO evidence (kind, sha256, size, media_type, content, captured_at, "
            "recorded_at, text) VALUES ('whois', ?, ?, 'text/plain', ?, ?, ?, ?)",
            [hashlib.sha256(raw).hexdigest(), len(raw), raw, f"bare{i}", "x", raw.decode()],
        )
        evidence_id = cursor.lastrowid
        snap = writer.execute(
            "INSERT INTO snapshots (entity_id, protocol, status, taken_at) "
            "VALUES (1, 'whois', 'ok', 'x')"
        ).lastrowid
        writer.execute("INSERT INTO snapshot_evidence VALUES (?, ?)", [snap, evidence_id])
        writer.executemany(
            "INSERT INTO audit (at, action, subject, subject_id, payload, prev_hash, hash) "
            "VALUES ('x', 'bench', 'bench', 0, '{}', '', '')",
            [()] * 4,
        )
        writer.execute("COMMIT")

    writer.execute(
        "INSERT INTO entities (id, kind, key, value, created_at, updated_at) "
        "VALUES (1, 'domain', 'allofmp3.test', 'allofmp3.test', 'x', 'x')"
    )
    measure("import_whois", work, bare, max(5, runs // 5), results)
    writer.close()
    scratch_folder.cleanup()

    sizes = [store] if verify else []
    if half is not None and verify:
        open_store(half).close()  # migrated before it is measured
        sizes.append(half)
    db.close()
    for path in sizes:
        plain = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        rows = plain.execute("SELECT count(*) FROM audit").fetchone()[0]
        label = "verify" if path == store else "verify_half"
        peaks: list[tuple[int, float]] = []

        def check(path=path, peaks=peaks) -> None:
            peaks.append(verify_in_process(path))

        # No warm-up: at a million entities one verify is minutes; each run is a fresh
        # process, so the store's pages are in the OS cache, not in the process.
        measure(label, check, lambda p=plain: bare_verify(p), verify_runs, results, False)
        # The CPU time is the verifying process's own (the parent only waits), and the
        # ratio is taken on CPU time: the wall-clock time includes starting Python.
        results[label]["cpu_median_ms"] = statistics.median(cpu for _, cpu in peaks)
        results[label]["ratio"] = results[label]["cpu_median_ms"] / max(
            results[label]["bare_cpu_median_ms"], 1e-6
        )
        results[label]["audit_rows"] = rows
        results[label]["peak_rss_mb"] = max(rss for rss, _ in peaks)
        print(
            f"{label}: CPU {results[label]['cpu_median_ms'] / 1000:.1f} s, peak RSS "
            f"{results[label]['peak_rss_mb']} MB (the verifying process)",
            flush=True,
        )
        # Linearity on CPU time: on a shared machine other load stretches one size's
        # wall-clock time and not the other's (docs/benchmarks.md).
        results[label]["us_per_row"] = results[label]["cpu_median_ms"] * 1000 / rows
        results[label]["wall_us_per_row"] = results[label]["median_ms"] * 1000 / rows
        print(
            f"{label}: {rows:,} audit rows, {results[label]['us_per_row']:.2f} us CPU "
            f"({results[label]['wall_us_per_row']:.2f} us wall-clock) per row"
        )
    if "verify_half" in results:
        results["verify_linearity"] = (
            results["verify"]["us_per_row"] / results["verify_half"]["us_per_row"]
        )
        print(
            f"verify linearity (CPU time per row, full / half size): "
            f"{results['verify_linearity']:.2f} (1.0 is linear)"
        )
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", type=Path, help="a store made by bench/generate.py")
    parser.add_argument("--half-store", type=Path, help="one of half the size, for verify")
    parser.add_argument("--entities", type=int, default=100_000, help="size to generate")
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--verify-runs", type=int, default=1, help="after one warm-up")
    parser.add_argument("--quick", action="store_true", help="2,000 entities, 10 runs")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--skip-verify", action="store_true", help="the queries only")
    args = parser.parse_args(argv)
    if args.quick:
        args.entities, args.runs = 2_000, 10
    with tempfile.TemporaryDirectory() as folder:
        store, half = args.store, args.half_store
        if store is None:
            for path, size in (
                (Path(folder) / "s.sqlite", args.entities),
                (Path(folder) / "h.sqlite", args.entities // 2),
            ):
                stats = generate(path, size)
                print(
                    f"generated {size:,} entities: {stats['rows'] + stats['audit_rows']:,} "
                    f"rows in {stats['seconds']:.1f} s ({stats['rows_per_s']:,.0f} rows/s)",
                    flush=True,
                )
            store, half = Path(folder) / "s.sqlite", Path(folder) / "h.sqlite"
        results = run(store, half, args.runs, args.verify_runs, verify=not args.skip_verify)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    for name, entry in results.items():
        if isinstance(entry, dict) and "p95_ms" in entry:
            print(f"RESULT store_{name} {entry['p95_ms']:.2f} ms ratio={entry['ratio']:.2f}")
    if "verify_linearity" in results:
        print(
            f"RESULT store_verify_linearity {results['verify_linearity']:.2f} x ratio="
            f"{results['verify_linearity']:.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
