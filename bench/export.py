#!/usr/bin/env python3
"""bench/export: the PDF case file and the sealed bundle of a generated case.

A seeded case of 500 entities, 2,000 links, 300 evidence items and 200 events (issue 5)
is built in a temporary store; then, in the same run:

  baseline   reading everything an export reads: the case detail and every evidence
             item's content (the work no export can avoid)
  pdf        workbench.export.pdf.export_pdf (verifies the store first, as users get it)
  bundle     workbench.export.bundle.export_bundle

The PDF is also made at half the evidence, to show its size grows linearly with it.
Prints `RESULT <name> <value> <unit> ratio=<x>` lines; ratios are against the baseline
(time) or against the half-size PDF (size, where 2.0 means linear).

    .venv/bin/python bench/export.py                 # the issue's size
    .venv/bin/python bench/export.py --evidence 60   # quick
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from workbench.store.cases import create_case
from workbench.store.database import open_store, writing
from workbench.store.details import case_detail
from workbench.store.entities import ensure_entity
from workbench.store.events import add_event
from workbench.store.evidence import add_evidence, get_evidence
from workbench.store.links import ensure_link

KINDS = ("domain", "ip_address", "email", "person", "organisation", "nameserver")


def _value(kind: str, i: int) -> str:
    return {
        "domain": f"shop{i}.test",
        "ip_address": f"198.51.{i // 250}.{i % 250 + 1}",
        "email": f"user{i}@mail{i % 17}.test",
        "person": f"Person Number {i}",
        "organisation": f"Company {i} Ltd",
        "nameserver": f"ns{i}.dns{i % 9}.test",
    }[kind]


def build(path: Path, entities: int, links: int, evidence: int, events: int):
    """The generated case (seeded: the same case every run)."""
    rng = random.Random(7)
    db = open_store(path)
    start = datetime(2010, 1, 1, tzinfo=UTC)
    with writing(db):
        case = create_case(db, "Generated case", investigator="bench/export")
        made = [
            ensure_entity(
                db,
                KINDS[i % len(KINDS)],
                _value(KINDS[i % len(KINDS)], i),
                {"note": f"generated {i}"},
                case_id=case.id,
            ).id
            for i in range(entities)
        ]
        items = []
        for i in range(evidence):
            body = f"Domain Name: SHOP{i}.TEST\nRegistrar: Registrar {i % 13}\n" + "".join(
                f"Line {j}: {'x' * rng.randint(10, 70)} Ж\n" for j in range(40)
            )
            items.append(
                add_evidence(
                    db,
                    "whois",
                    body.encode(),
                    case_id=case.id,
                    captured_at=start + timedelta(minutes=i),
                    source="whois.test:43",
                    query=f"shop{i}.test",
                ).id
            )
        types = ("resolves_to", "registered_to", "uses_nameserver", "contact_email")
        for n in range(links):
            a, b = rng.sample(made, 2)
            ensure_link(
                db,
                a,
                types[n % len(types)],
                b,
                case_id=case.id,
                evidence_ids=[rng.choice(items)],
                label=f"l{n}",
            )
        for i in range(events):
            add_event(
                db,
                case.id,
                "notice_sent" if i % 3 == 0 else "observation",
                f"Event {i}: something observed",
                at=start + timedelta(hours=i),
                deadline=start + timedelta(days=400) if i % 3 == 0 else None,
                entity_ids=[rng.choice(made)],
            )
    return db, case.id


def read_everything(db, case_id: int) -> None:
    detail = case_detail(db, case_id)
    for item in detail["evidence"]:
        get_evidence(db, item["id"], with_content=True)


def timed(fn, rounds: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(rounds):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entities", type=int, default=500)
    parser.add_argument("--links", type=int, default=2000)
    parser.add_argument("--evidence", type=int, default=300)
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    from workbench.export.bundle import export_bundle
    from workbench.export.pdf import export_pdf

    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder)
        db, case_id = build(
            out / "full.sqlite", args.entities, args.links, args.evidence, args.events
        )
        half_db, half_case = build(
            out / "half.sqlite", args.entities, args.links, max(1, args.evidence // 2), args.events
        )
        baseline, _ = timed(lambda: read_everything(db, case_id), args.rounds)
        pdf_s, pdf = timed(lambda: export_pdf(db, case_id, out / "case.pdf"), args.rounds)
        half = export_pdf(half_db, half_case, out / "half.pdf")
        bundle_s, _ = timed(lambda: export_bundle(db, case_id, out / "case.wbbundle"), args.rounds)
        bundle_bytes = (out / "case.wbbundle").stat().st_size
        print(
            f"case: {args.entities} entities, {args.links} links, {args.evidence} evidence "
            f"items, {args.events} events; median of {args.rounds}"
        )
        print(f"baseline (read case and evidence): {baseline * 1000:.0f} ms")
        print(
            f"pdf: {pdf_s:.2f} s, {pdf.pages} pages, {pdf.bytes} bytes "
            f"(half the evidence: {half.pages} pages, {half.bytes} bytes)"
        )
        print(f"bundle: {bundle_s:.2f} s, {bundle_bytes} bytes")
        print(f"RESULT export_pdf {pdf_s:.3f} s ratio={pdf_s / baseline:.1f}")
        print(f"RESULT export_pdf_pages {pdf.pages} pages ratio={pdf.pages / half.pages:.2f}")
        print(f"RESULT export_pdf_size {pdf.bytes} bytes ratio={pdf.bytes / half.bytes:.2f}")
        print(f"RESULT export_bundle {bundle_s:.3f} s ratio={bundle_s / baseline:.1f}")
        print(f"RESULT export_bundle_size {bundle_bytes} bytes ratio=1.0")
        db.close()
        half_db.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
