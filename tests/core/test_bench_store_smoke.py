"""The store benchmarks run end to end at a tiny size and report their figures.

No timing is asserted (machines differ); what must hold is that the generated store is one
the workbench accepts (`verify` passes on it, the big case is there) and that every
measurement ends in a RESULT line bench/run can gather.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from bench.generate import generate
from workbench.store.audit import canonical_json
from workbench.store.database import open_store
from workbench.store.verify import verify_store

REPO = Path(__file__).resolve().parent.parent.parent
RESULT = re.compile(r"^RESULT (store_\w+) (\d+(?:\.\d+)?) (\S+) ratio=(\d+(?:\.\d+)?)$")


def test_the_generated_store_has_the_asked_shape_and_passes_verify(tmp_path):
    stats = generate(tmp_path / "store.sqlite", entities=2_000, seed=3)
    db = open_store(tmp_path / "store.sqlite")
    counts = {
        table: db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608
        for table in ("entities", "links", "evidence", "cases")
    }
    assert counts == {
        "entities": 2_000,
        "links": stats["links"],
        "evidence": stats["evidence"],
        "cases": 10,
    }
    assert 4 * 2_000 <= counts["links"] <= 6 * 2_000
    assert 300 <= counts["evidence"] <= 500
    report = verify_store(db)
    assert report.ok, report.problems[:5]
    assert report.checked_audit_rows == stats["audit_rows"]


def test_the_same_seed_makes_the_same_store(tmp_path):
    first = generate(tmp_path / "a.sqlite", entities=500, seed=5)
    second = generate(tmp_path / "b.sqlite", entities=500, seed=5)
    assert {k: v for k, v in first.items() if k not in ("seconds", "rows_per_s")} == {
        k: v for k, v in second.items() if k not in ("seconds", "rows_per_s")
    }
    rows = [
        open_store(tmp_path / name).execute("SELECT src_id, type, dst_id FROM links").fetchall()
        for name in ("a.sqlite", "b.sqlite")
    ]
    assert rows[0] == rows[1]


def test_store_benchmark_at_a_tiny_size_prints_a_result_line_per_measurement(tmp_path):
    store, half = tmp_path / "s.sqlite", tmp_path / "h.sqlite"
    generate(store, entities=2_000)
    generate(half, entities=1_000)
    finished = subprocess.run(
        [
            sys.executable,
            str(REPO / "bench" / "store.py"),
            *("--store", str(store), "--half-store", str(half), "--runs", "3"),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert finished.returncode == 0, finished.stdout + finished.stderr
    results = {m[1]: m for m in map(RESULT.match, finished.stdout.splitlines()) if m}
    assert {
        "store_pivot_hub",
        "store_pivot_typical",
        "store_related_cases",
        "store_open_case_detail",
        "store_open_case_first_page",
        "store_search_rare",
        "store_search_common",
        "store_import_whois",
        "store_verify",
        "store_verify_half",
        "store_verify_linearity",
    } <= set(results), finished.stdout
    for match in results.values():
        assert float(match[2]) > 0 and float(match[4]) > 0


def test_the_generators_templated_audit_payloads_are_canonical_json(tmp_path):
    """bench/generate formats millions of payloads from templates: each must be the very
    text `canonical_json` gives for the payload it stands for."""
    generate(tmp_path / "store.sqlite", entities=400, seed=2)
    db = open_store(tmp_path / "store.sqlite")
    rows = db.execute("SELECT action, payload FROM audit").fetchall()
    assert {action for action, _ in rows} >= {
        "link.create",
        "link.add_case",
        "link.add_evidence",
        "case.add_entity",
        "case.add_evidence",
    }
    for _action, payload in rows:
        assert canonical_json(json.loads(payload)) == payload
