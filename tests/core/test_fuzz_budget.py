"""Hostile responses (issue 7, part 2): every parser of what servers and colleagues send,
fed mutated and hand-made hostile inputs, each under a time and a memory budget.

The harness is bench/fuzz_parsers.py; this runs it with a small, fixed number of inputs
(the same inputs on every machine). The long run is documented in docs/reliability.md:

    python bench/fuzz_parsers.py --seconds 3600 --save fuzz-failures

The scaling tests at the end hold the fixes for what the fuzzing found in the WHOIS parser
(quadratic e-mail regex, handle lookups, date parsing) and the bundle reader (deeply
nested manifests). A damaged zip container still makes verify_bundle raise: that is
test_tamper.py's strict xfail.
"""

from __future__ import annotations

import io
import time
import zipfile

import pytest

from bench.fuzz_parsers import (
    TARGETS,
    _Pool,
    _seed_bundle_members,
    _zip,
    hostile_inputs,
    load_seeds,
    run_fuzz,
    warm_up,
)

# A slow, shared CI machine must not turn a slow parse into a "hang": real hangs here are
# quadratic or worse and take minutes, so a generous budget still catches them.
INPUT_SECONDS = 5.0
MEMORY_MB = 256
HOLDING = ["whois", "rdap_domain", "rdap_ip", "rdap_autnum", "dns", "bundle_manifest"]


def _failures(report) -> str:
    return "\n".join(
        f"{f.target} {f.status} ({f.name}, {f.size} bytes): {f.detail.strip()[-400:]}"
        for f in report.failures
    )


@pytest.mark.parametrize("target", HOLDING)
def test_mutated_inputs_give_facts_or_a_typed_refusal_within_budget(target):
    report = run_fuzz(
        targets=[target],
        seconds=60,
        max_inputs=40,
        input_seconds=INPUT_SECONDS,
        memory_mb=MEMORY_MB,
        seed=20091102,
        hostile=False,
    )
    assert not report.failures, _failures(report)
    stats = report.stats[target]
    assert stats.inputs == 40
    assert stats.refused > 0, report.table()
    if target.startswith("rdap"):
        # Both kinds of answer: the mutations are neither all harmless nor all garbage.
        assert stats.parsed > 0, report.table()


@pytest.mark.parametrize("target", HOLDING)
def test_hand_made_hostile_inputs_are_refused_cleanly_within_budget(target):
    """100,000-level and 50 MB JSON, 100,000-digit numbers, lone surrogates, NUL bytes,
    10,000 nested entities, 100,000 events; DNS pointer loops and lying counts; a MiB of
    one WHOIS line, of colons, of contact handles, of unreadable dates."""
    report = run_fuzz(
        targets=[target],
        seconds=0,
        input_seconds=INPUT_SECONDS,
        memory_mb=MEMORY_MB,
        hostile=True,
        hostile_scale=0.1,  # WHOIS texts of ~100 KB; the scaling tests below hold the rest
    )
    assert not report.failures, _failures(report)
    assert report.stats[target].inputs == len(hostile_inputs(target, 0.1))


def test_deep_and_huge_rdap_json_is_refused_with_a_reason_not_parsed():
    from workbench.lookups.rdap_parse import RdapParseError, parse_rdap_domain

    refusals = {}
    for name, data in hostile_inputs("rdap_domain"):
        if name in ("100000-level array", "100000-level object", "50 MB document"):
            with pytest.raises(RdapParseError) as refused:
                parse_rdap_domain(data)
            refusals[name] = str(refused.value)
    assert "nested deeper than 64 levels" in refusals["100000-level array"]
    assert "nested deeper than 64 levels" in refusals["100000-level object"]
    assert "over the 4194304 cap" in refusals["50 MB document"]


def test_a_bundle_whose_member_inflates_without_end_is_stopped_at_its_manifest_size():
    report = run_fuzz(targets=["bundle_zip"], seconds=0, memory_mb=MEMORY_MB, hostile=True)
    bomb = [f for f in report.failures if f.name == "zip bomb member"]
    assert not bomb, _failures(report)
    assert report.stats["bundle_zip"].max_peak_bytes < 64 * 2**20


# -- what the fuzzing found, held fixed ---------------------------------------------------


def _parse_seconds(data: bytes) -> float:
    started = time.perf_counter()
    TARGETS["whois"].run(data)
    return time.perf_counter() - started


@pytest.fixture(scope="module")
def warm_whois():
    warm_up(["whois"], load_seeds())


def _growth(make, small: int, large: int) -> float:
    """How much longer a WHOIS answer `large/small` times bigger takes to parse (best of
    two runs each): about large/small for a linear parser, its square for a quadratic."""
    short = min(_parse_seconds(make(small)) for _ in range(2))
    long = min(_parse_seconds(make(large)) for _ in range(2))
    return long / max(short, 1e-4)


def test_a_long_unbroken_run_of_letters_parses_in_linear_time(warm_whois):
    growth = _growth(lambda n: b"Registrant Name: " + b"a" * n + b"\n", 500, 4000)
    assert growth < 24, f"8x the input took {growth:.0f}x the time"


def test_many_contact_handles_parse_in_linear_time(warm_whois):
    growth = _growth(lambda n: b"nic-hdl: X\r\n" * n + b"admin-c: X\r\n" * n, 250, 2000)
    assert growth < 24, f"8x the input took {growth:.0f}x the time"


def test_thousands_of_unreadable_dates_parse_within_seconds(warm_whois):
    data = b"Creation Date: 31-31-31 99:99:99 +99:99\n" * 5000  # 200 KB
    pool = _Pool(MEMORY_MB)  # a worker that is killed at the budget, not waited for
    try:
        outcome = pool.run("whois", "5,000 date lines", data, 3.0)
    finally:
        pool.stop()
    assert outcome.status == "parsed", f"{outcome.status}: {outcome.detail}"


def test_a_deeply_nested_manifest_is_reported_not_a_crash():
    from workbench.export.bundle import verify_bundle

    members = dict(_seed_bundle_members())
    members["manifest.json"] = b"[" * 100_000 + b"]" * 100_000
    report = verify_bundle(io.BytesIO(_zip(members)))
    assert not report.ok and "manifest.json" in " ".join(report.problems)


def test_a_sound_seed_bundle_verifies():
    """The bundle the bundle targets mutate is itself sound (else they test nothing)."""
    from workbench.export.bundle import verify_bundle

    report = verify_bundle(io.BytesIO(_zip(_seed_bundle_members())))
    assert report.ok, report.problems
    with zipfile.ZipFile(io.BytesIO(_zip(_seed_bundle_members()))) as archive:
        assert any(name.startswith("evidence/") for name in archive.namelist())
