"""Fuzz every parser of hostile data with mutated real inputs, each under a budget.

The targets are what reads bytes that someone else wrote: WHOIS text (`decode_whois` then
`parse_whois`), RDAP documents (`parse_rdap_domain`, `parse_rdap_ip`,
`parse_rdap_autnum`), DNS messages (`parse_dns_response`, and `render_dns_capture`, which
must never fail), and sealed bundles (`verify_bundle`, given a bundle whose manifest was
mutated, and a bundle whose zip bytes were). Seeds are the recorded fixtures and demo
responses; each input is a seed put through one to four mutations (bit flips, interesting
bytes, deletions, duplications, inserted tokens, truncation, splices of two seeds, and for
JSON, a node of the parsed tree replaced by a hostile value), plus fixed hostile inputs
(100,000-level JSON, 50 MB JSON, numbers with 100,000 digits, a megabyte of one WHOIS
line, compression-pointer loops, a zip bomb).

Each input runs in a worker process under two budgets: a time budget that the parent
enforces (a worker that does not answer in time is killed, whatever it was doing, even
inside C code) and a memory budget (tracemalloc's peak for that input; the worker's
address space is also capped with RLIMIT_AS so a runaway allocation cannot take the
machine). An input passes when the parser returns, or raises its own typed error
(a `WorkbenchError`); anything else is a crash, a hang or a memory failure, and the input
is saved to --save so it can be replayed.

    python bench/fuzz_parsers.py                       # 10 minutes, all targets
    python bench/fuzz_parsers.py --seconds 3600 --save fuzz-failures
    python bench/fuzz_parsers.py --targets whois rdap_domain --seconds 60 --seed 7
    python bench/fuzz_parsers.py --replay fuzz-failures/whois-000123.bin --targets whois

The test suite runs the same harness for a few seconds (tests/core/test_fuzz_budget.py).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import multiprocessing
import os
import random
import resource
import sys
import tempfile
import time
import traceback
import tracemalloc
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(REPO))

from workbench.domain.errors import WorkbenchError  # noqa: E402

MAX_MUTATED_BYTES = 256 * 1024  # mutated inputs are cut here; the fixed ones may be larger
DEFAULT_INPUT_SECONDS = 5.0
DEFAULT_MEMORY_MB = 256


# -- targets ----------------------------------------------------------------------------


def _whois(raw: bytes) -> None:
    from workbench.domain.normalise import normalise_domain
    from workbench.lookups.whois_parse import decode_whois, parse_whois, whois_referral

    text = decode_whois(raw, "test")
    whois_referral(text)
    parse_whois(normalise_domain("soundsbox.test"), text)


def _rdap_domain(raw: bytes) -> None:
    from workbench.lookups.rdap_parse import parse_rdap_domain, related_registrar_url

    related_registrar_url(raw)
    parse_rdap_domain(raw)


def _rdap_ip(raw: bytes) -> None:
    from workbench.lookups.rdap_parse import parse_rdap_ip

    parse_rdap_ip(raw, "192.0.2.10")


def _rdap_autnum(raw: bytes) -> None:
    from workbench.lookups.rdap_parse import parse_rdap_autnum

    parse_rdap_autnum(raw)


def _dns(raw: bytes) -> None:
    from workbench.lookups.dns_parse import parse_dns_response, render_dns_capture

    render_dns_capture(raw)  # the evidence viewer's rendering: must never fail
    parse_dns_response(raw)  # DnsParseError is a WorkbenchError: a clean refusal


def _verify_bundle_bytes(raw: bytes) -> None:
    """`verify_bundle` must report, never raise; a bundle it finds unsound counts as
    refused (its problems are the typed refusal), a sound one as parsed."""
    from workbench.export.bundle import BundleRefused, verify_bundle

    report = verify_bundle(io.BytesIO(raw))
    if report.ok and report.bundle_hash is None:
        raise AssertionError("a bundle reported sound without a bundle hash")
    if not report.ok:
        raise BundleRefused("; ".join(report.problems)[:300])


def _bundle_manifest(raw: bytes) -> None:
    """A sound bundle whose manifest.json is replaced by `raw`."""
    _verify_bundle_bytes(_bundle_with_manifest(raw))


@dataclass(frozen=True)
class Target:
    name: str
    run: Callable[[bytes], None]
    seeds: str  # which seed files: "whois", "rdap_domain", "rdap_ip", "rdap_autnum", ...
    json: bool = False


TARGETS = {
    target.name: target
    for target in (
        Target("whois", _whois, "whois"),
        Target("rdap_domain", _rdap_domain, "rdap_domain", json=True),
        Target("rdap_ip", _rdap_ip, "rdap_ip", json=True),
        Target("rdap_autnum", _rdap_autnum, "rdap_autnum", json=True),
        Target("dns", _dns, "dns"),
        Target("bundle_manifest", _bundle_manifest, "manifest", json=True),
        Target("bundle_zip", _verify_bundle_bytes, "bundle"),
    )
}


# -- seeds ------------------------------------------------------------------------------

_BUNDLE: dict[str, bytes] = {}  # the seed bundle's members, made once per process


def _seed_bundle_members() -> dict[str, bytes]:
    """The members of a small real bundle, exported from a throwaway store."""
    if _BUNDLE:
        return _BUNDLE
    from datetime import UTC, datetime

    from workbench.export.bundle import export_bundle
    from workbench.services import casework
    from workbench.services.imports import import_recording
    from workbench.store.database import open_store

    with tempfile.TemporaryDirectory(prefix="fuzz-bundle-") as folder:
        db = open_store(Path(folder) / "store.sqlite")
        case = casework.new_case(db, "Soundsbox")
        casework.add_entity(db, case.id, "person", "Pedro Kresker")
        casework.add_evidence_bytes(db, case.id, "note", b"Registrant Name: Pedro Kresker\n")
        import_recording(
            db,
            case_id=case.id,
            kind="whois",
            subject="soundsbox.test",
            raws=[(REPO / "tests/fixtures/whois/soundsbox_test_registrar.txt").read_bytes()],
            captured_at=datetime(2009, 11, 2, tzinfo=UTC),
        )
        export_bundle(db, case.id, Path(folder) / "case.zip")
        db.close()
        with zipfile.ZipFile(Path(folder) / "case.zip") as archive:
            for info in archive.infolist():
                _BUNDLE[info.filename] = archive.read(info)
    return _BUNDLE


def _zip(members: dict[str, bytes]) -> bytes:
    """The members laid out as export_bundle lays out a bundle (the seed's time and hash),
    so that a sound seed verifies and a mutation is what makes a bundle unsound."""
    from workbench.export.bundle import write_container

    seed = json.loads(_seed_bundle_members()["manifest.json"])
    return write_container(members, created_at=seed["created_at"], bundle_hash=seed["bundle_hash"])


def _bundle_with_manifest(manifest: bytes) -> bytes:
    members = dict(_seed_bundle_members())
    members["manifest.json"] = manifest
    return _zip(members)


def load_seeds() -> dict[str, list[bytes]]:
    """The real inputs mutations start from, by kind."""
    fixtures = REPO / "tests" / "fixtures"
    demo = REPO / "resources" / "demo"
    seeds: dict[str, list[bytes]] = {
        "whois": [],
        "rdap_domain": [],
        "rdap_ip": [],
        "rdap_autnum": [],
        "dns": [],
    }
    for path in sorted([*fixtures.glob("whois/*.txt"), *demo.glob("whois/*.txt")]):
        seeds["whois"].append(path.read_bytes())
    for path in sorted([*fixtures.glob("rdap/*.json"), *demo.glob("rdap/*.json")]):
        kind = path.name.split("-", 1)[0]
        key = {"domain": "rdap_domain", "ip": "rdap_ip", "autnum": "rdap_autnum"}.get(kind)
        if key:
            seeds[key].append(path.read_bytes())
    for path in sorted([*fixtures.glob("dns/*.bin"), *demo.glob("dns/*.bin")]):
        seeds["dns"].append(path.read_bytes())
    members = _seed_bundle_members()
    seeds["manifest"] = [members["manifest.json"]]
    seeds["bundle"] = [_zip(members)]
    return seeds


# -- fixed hostile inputs ---------------------------------------------------------------


def _zip_bomb() -> bytes:
    """A bundle whose evidence member inflates to 64 MiB of zeros while its manifest says
    it is 31 bytes: the reader must stop at the manifest's size, not inflate it all."""
    members = dict(_seed_bundle_members())
    manifest = json.loads(members["manifest.json"])
    evidence = next(m for m in manifest["members"] if m["path"].startswith("evidence/"))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            if name != evidence["path"]:
                archive.writestr(name, content)
        with archive.open(evidence["path"], "w", force_zip64=True) as handle:
            chunk = bytes(1024 * 1024)
            for _ in range(64):
                handle.write(chunk)
    return buffer.getvalue()


def hostile_inputs(target: str, scale: float = 1.0) -> list[tuple[str, bytes]]:
    """Fixed inputs built to hurt a parser of this kind, each with a name. `scale` shrinks
    the big WHOIS texts for quick runs (the JSON ones stay: their point is their depth)."""
    deep_array = b"[" * 100_000 + b"]" * 100_000
    deep_object = b'{"a":' * 100_000 + b"1" + b"}" * 100_000
    long_number = (
        b'{"objectClassName": "domain", "ldhName": "x.test", "port43": ' + (b"1" * 100_000) + b"}"
    )
    huge = b'{"objectClassName": "domain", "ldhName": "' + b"a" * (50 * 1024 * 1024) + b'"}'
    json_inputs = [
        ("100000-level array", deep_array),
        ("100000-level object", deep_object),
        ("100000-digit number", long_number),
        ("50 MB document", huge),
        ("only opening brackets", b"[" * 1_000_000),
        ("lone surrogate", b'{"objectClassName": "domain", "ldhName": "\\ud800"}'),
        ("NUL bytes", b'{"objectClassName": "domain"\x00}'),
        ("byte order mark then garbage", b"\xef\xbb\xbf\xff\xfe"),
    ]
    if target in ("rdap_domain", "rdap_ip", "rdap_autnum"):
        entities = b'{"objectClassName": "entity", "roles": ["registrant"], "entities": ['
        return [
            *json_inputs,
            ("10000 nested entities", b'{"objectClassName": "domain", "ldhName": "x.test", '
             b'"entities": [' + entities * 10_000 + b"]}" * 10_000 + b"]}"),
            ("100000 events", b'{"objectClassName": "domain", "ldhName": "x.test", "events": ['
             + b'{"eventAction": "registration", "eventDate": "2009-11-02T00:00:00Z"},'
             * 100_000 + b"{}]}"),
            ("vCard of 20000 properties", b'{"objectClassName": "domain", "ldhName": "x.test", '
             b'"entities": [{"objectClassName": "entity", "roles": ["registrant"], '
             b'"vcardArray": ["vcard", [' + b'["fn", {}, "text", "x"],' * 20_000
             + b'["fn", {}, "text", "y"]]]}]}'),
        ]  # fmt: skip
    if target == "bundle_manifest":
        return [(name, data) for name, data in json_inputs if len(data) < 60 * 1024 * 1024]
    if target == "bundle_zip":
        return [
            ("zip bomb member", _zip_bomb()),
            ("empty file", b""),
            ("zip end record only", b"PK\x05\x06" + bytes(18)),
            ("truncated zip", _zip(_seed_bundle_members())[:200]),
        ]
    if target == "whois":
        # About a MiB each, the transport's cap (scaled down for quick runs).
        n = max(1, int(scale * 30_000))
        return [
            (f"{n * 35} bytes on one line", b"Registrant Name: " + b"a" * (n * 35)),
            (f"{n * 35} colons", b":" * (n * 35)),
            (f"{n} registrant lines", b"Registrant Name: Pedro Kresker\r\n" * n),
            (f"{2 * n} handles", b"nic-hdl: X\r\n" * n + b"admin-c: X\r\n" * n),
            ("deep referral chain", b"refer: whois.a.test\n" * n),
            ("NUL byte", b"Domain Name: X\x00"),
            ("all 0xff", b"\xff" * 65536),
            ("dates everywhere", b"Creation Date: 31-31-31 99:99:99 +99:99\n" * (n * 2 // 3)),
            ("nested brackets", b"Registrar: " + b"(" * 100_000 + b"\n"),
        ]
    if target == "dns":
        header = bytes.fromhex("abcd81800001000100000000")
        question = b"\x09soundsbox\x04test\x00\x00\x01\x00\x01"
        loop = header + question + b"\xc0\x0c" * 2 + b"\xc0\x1e\x00\x01\x00\x01\x00\x00\x00\x3c"
        return [
            ("pointer loop", loop + b"\x00\x04\x7f\x00\x00\x01"),
            ("64 KiB of 0xff", b"\xff" * 65535),
            ("header only", header),
            ("65535 answers claimed", bytes.fromhex("abcd8180000100ff00000000") + question),
            ("empty", b""),
        ]
    return []


# -- mutation ---------------------------------------------------------------------------

_TOKENS = {
    "whois": [
        b"Registrant Name: ",
        b"Registrar: ",
        b"Creation Date: ",
        b"Registry Expiry Date: 2099-99-99T99:99:99Z\n",
        b"nserver: ",
        b"refer: ",
        b"Registrar WHOIS Server: 127.0.0.1\n",
        b"% ",
        b"\r",
        b"\n",
        b":" * 64,
        b"a" * 4096,
        b"\xd0\x9f\xd1\x80",
        b"\xcf\xf0\xe8",  # cp1251
        b"<script>alert(1)</script>",
        b"REDACTED FOR PRIVACY",
        b"Phone: +352." + b"9" * 40,
        b"e-mail: " + b"@" * 100,
    ],
    "json": [
        b"{",
        b"}",
        b"[",
        b"]",
        b",",
        b":",
        b'"',
        b"\\",
        b'"\\ud800"',
        b"1e999999",
        b"-0",
        b"null",
        b"true",
        b'"objectClassName"',
        b'"entities": [',
        b'"vcardArray": ["vcard", [',
        b'"redacted": [',
        b'"links": [{"rel": "related", "href": "http://127.0.0.1/"}]',
        b'"<img src=x onerror=alert(1)>"',
        b"9" * 5000,
    ],
    "dns": [b"\xc0\x0c", b"\xc0\x00", b"\x3f", b"\x00", b"\xff\xff", b"\x00\x10", b"\x00\x06"],
}


def _hostile_json_value(rng: random.Random):
    choice = rng.randrange(12)
    if choice == 0:
        value: object = "x"
        for _ in range(rng.choice([10, 60, 70, 500])):
            value = [value] if rng.random() < 0.5 else {"a": value}
        return value
    return [
        None,
        True,
        -1,
        2**70,
        1e308,
        "",
        "a" * rng.choice([1, 300, 70_000]),
        "<img src=x onerror=alert(1)>",
        [],
        {},
        ["vcard", [["fn", {}, "text", None]]],
    ][choice - 1]


def _mutate_json(data: bytes, rng: random.Random) -> bytes | None:
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError):
        return None
    nodes: list[tuple[object, object]] = []  # (container, key)
    stack = [doc]
    while stack:
        node = stack.pop()
        items = (
            node.items()
            if isinstance(node, dict)
            else enumerate(node)
            if isinstance(node, list)
            else ()
        )
        for key, child in items:
            nodes.append((node, key))
            if isinstance(child, dict | list):
                stack.append(child)
    if not nodes:
        return None
    for _ in range(rng.randint(1, 3)):
        container, key = rng.choice(nodes)
        with contextlib.suppress(IndexError, KeyError, TypeError):
            container[key] = _hostile_json_value(rng)  # type: ignore[index]
    return json.dumps(doc, ensure_ascii=rng.random() < 0.5).encode("utf-8")


def mutate(seed: bytes, other: bytes, rng: random.Random, kind: str) -> bytes:
    """One mutated input: `seed` through one to four random mutations."""
    tokens = _TOKENS["json"] if kind == "json" else _TOKENS.get(kind, _TOKENS["dns"])
    data = bytearray(seed)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(9 if kind == "json" else 8)
        size = len(data)
        if op == 0 and size:  # flip bits
            for _ in range(rng.randint(1, 8)):
                data[rng.randrange(size)] ^= 1 << rng.randrange(8)
        elif op == 1 and size:  # interesting bytes
            for _ in range(rng.randint(1, 4)):
                data[rng.randrange(size)] = rng.choice(b'\x00\xff\x7f\x80"{[\\:\n%\xc0')
        elif op == 2 and size:  # delete a slice
            start = rng.randrange(size)
            del data[start : start + rng.randint(1, max(1, size // 4))]
        elif op == 3 and size:  # duplicate a slice, maybe many times
            start = rng.randrange(size)
            piece = data[start : start + rng.randint(1, 256)]
            data[start:start] = piece * rng.choice([1, 2, 16, 1000])
        elif op == 4:  # insert a token
            at = rng.randint(0, size)
            data[at:at] = rng.choice(tokens) * rng.choice([1, 1, 1, 100])
        elif op == 5 and size:  # truncate
            del data[rng.randrange(size) :]
        elif op == 6 and other:  # splice with another seed
            cut, other_cut = rng.randint(0, size), rng.randrange(len(other))
            data[cut:] = other[other_cut:]
        elif op == 7 and size:  # overwrite with random bytes
            start = rng.randrange(size)
            length = rng.randint(1, 32)
            data[start : start + length] = rng.randbytes(length)
        elif op == 8:  # replace a node of the JSON tree
            mutated = _mutate_json(bytes(data), rng)
            if mutated is not None:
                data = bytearray(mutated)
    return bytes(data[:MAX_MUTATED_BYTES])


# -- running ----------------------------------------------------------------------------


@dataclass
class Outcome:
    target: str
    name: str
    status: str  # parsed | refused | crash | hang | memory
    seconds: float
    peak_bytes: int
    size: int
    detail: str = ""

    @property
    def failed(self) -> bool:
        return self.status in ("crash", "hang", "memory")


@dataclass
class TargetStats:
    inputs: int = 0
    parsed: int = 0
    refused: int = 0
    failed: int = 0
    max_seconds: float = 0.0
    max_peak_bytes: int = 0


@dataclass
class FuzzReport:
    seed: int
    seconds: float
    input_seconds: float
    memory_mb: int
    stats: dict[str, TargetStats] = field(default_factory=dict)
    failures: list[Outcome] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(s.inputs for s in self.stats.values())

    def add(self, outcome: Outcome) -> None:
        stats = self.stats.setdefault(outcome.target, TargetStats())
        stats.inputs += 1
        if outcome.status == "parsed":
            stats.parsed += 1
        elif outcome.status == "refused":
            stats.refused += 1
        else:
            stats.failed += 1
            self.failures.append(outcome)
        stats.max_seconds = max(stats.max_seconds, outcome.seconds)
        stats.max_peak_bytes = max(stats.max_peak_bytes, outcome.peak_bytes)

    def table(self) -> str:
        lines = [
            f"{'target':<16}{'inputs':>8}{'parsed':>8}{'refused':>9}{'failed':>8}"
            f"{'max s':>8}{'max MB':>8}"
        ]
        for name, s in sorted(self.stats.items()):
            lines.append(
                f"{name:<16}{s.inputs:>8}{s.parsed:>8}{s.refused:>9}{s.failed:>8}"
                f"{s.max_seconds:>8.2f}{s.max_peak_bytes / 2**20:>8.1f}"
            )
        lines.append(
            f"{'all':<16}{self.total:>8}  seed {self.seed}, {self.seconds:.0f} s, budget "
            f"{self.input_seconds:g} s and {self.memory_mb} MB per input"
        )
        return "\n".join(lines)


def _memory_budget(memory_mb: int, size: int) -> int:
    # The input itself and a copy or two of it are fair (a decoded text, a parsed tree).
    return memory_mb * 2**20 + 8 * size


def _worker(conn, memory_mb: int) -> None:
    """Run inputs from `conn` until told to stop; answer each with an Outcome's fields."""
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    current = _address_space_bytes()
    cap = current + 4 * memory_mb * 2**20 + 256 * 2**20
    if hard == resource.RLIM_INFINITY or cap < hard:
        resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    tracemalloc.start()
    while True:
        message = conn.recv()
        if message is None:
            return
        target, _, data = message
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        started = time.perf_counter()
        status, detail = "parsed", ""
        try:
            TARGETS[target].run(data)
        except WorkbenchError as exc:
            status, detail = "refused", str(exc)[:200]
        except MemoryError:
            status, detail = "memory", "MemoryError (the address space cap was reached)"
        except BaseException as exc:  # anything else is what the fuzzing looks for
            status = "crash"
            detail = "".join(traceback.format_exception(exc, limit=-6))[-3000:]
        seconds = time.perf_counter() - started
        peak = max(0, tracemalloc.get_traced_memory()[1] - base)
        if status in ("parsed", "refused") and peak > _memory_budget(memory_mb, len(data)):
            status, detail = "memory", f"peak {peak / 2**20:.1f} MB over the budget"
        conn.send((status, seconds, peak, detail))


def _address_space_bytes() -> int:
    try:
        with open("/proc/self/statm") as handle:
            return int(handle.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return 0


class _Pool:
    """One worker process at a time, replaced when it hangs or dies."""

    def __init__(self, memory_mb: int) -> None:
        self.memory_mb = memory_mb
        # fork: the worker starts at once with the parsers already imported.
        self.context = multiprocessing.get_context("fork")
        self.process = None
        self.conn = None

    def _start(self) -> None:
        parent, child = self.context.Pipe()
        self.process = self.context.Process(target=_worker, args=(child, self.memory_mb))
        self.process.start()
        child.close()
        self.conn = parent

    def run(self, target: str, name: str, data: bytes, budget_s: float) -> Outcome:
        if self.process is None or not self.process.is_alive():
            self._start()
        started = time.perf_counter()
        self.conn.send((target, name, data))
        if not self.conn.poll(budget_s):
            self.stop(kill=True)
            return Outcome(
                target, name, "hang", time.perf_counter() - started, 0, len(data),
                f"no answer within {budget_s:g} s",
            )  # fmt: skip
        try:
            status, seconds, peak, detail = self.conn.recv()
        except EOFError:
            code = self.process.exitcode if self.process else None
            self.stop(kill=True)
            return Outcome(
                target, name, "memory", time.perf_counter() - started, 0, len(data),
                f"the worker died (exit code {code})",
            )  # fmt: skip
        return Outcome(target, name, status, seconds, peak, len(data), detail)

    def stop(self, kill: bool = False) -> None:
        if self.process is None:
            return
        if kill:
            self.process.kill()
        else:
            try:
                self.conn.send(None)
            except OSError:
                self.process.kill()
        self.process.join(5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.conn.close()
        self.process = self.conn = None


def input_budget(input_seconds: float, size: int) -> float:
    """The time one input may take: the budget, plus time to read a large one (WHOIS text
    and JSON take seconds per megabyte on a slow, busy machine under tracemalloc)."""
    return input_seconds + 20.0 * size / 2**20


def warm_up(names: list[str], seeds: dict[str, list[bytes]]) -> None:
    """Run each target on its seeds here, before workers fork: the first parse loads
    tables (country names, phone metadata) for seconds, which a fresh worker would
    otherwise spend inside its first input's time budget."""
    for name in names:
        target = TARGETS[name]
        for data in seeds[target.seeds]:
            with contextlib.suppress(Exception):
                target.run(data)


def run_fuzz(
    *,
    targets: list[str] | None = None,
    seconds: float = 600.0,
    input_seconds: float = DEFAULT_INPUT_SECONDS,
    memory_mb: int = DEFAULT_MEMORY_MB,
    seed: int = 1,
    hostile: bool = True,
    hostile_scale: float = 1.0,
    max_inputs: int | None = None,
    save: Path | None = None,
    on_failure: Callable[[Outcome], None] | None = None,
) -> FuzzReport:
    """Run the fixed hostile inputs of each target, then mutated inputs round-robin over
    the targets until `seconds` have passed, or until each target had `max_inputs`
    mutated inputs. The inputs depend only on the seed: with `max_inputs` a run is the
    same on every machine; with `seconds` alone, how far it gets depends on the machine."""
    names = targets or list(TARGETS)
    unknown = [name for name in names if name not in TARGETS]
    if unknown:
        raise ValueError(f"unknown targets: {', '.join(unknown)} (known: {', '.join(TARGETS)})")
    seeds = load_seeds()
    warm_up(names, seeds)
    report = FuzzReport(seed, seconds, input_seconds, memory_mb)
    pool = _Pool(memory_mb)
    rng = random.Random(seed)
    started = time.monotonic()

    def record(outcome: Outcome, data: bytes) -> None:
        report.add(outcome)
        if outcome.failed:
            if save is not None:
                save.mkdir(parents=True, exist_ok=True)
                stem = f"{outcome.target}-{report.stats[outcome.target].inputs:06d}"
                (save / f"{stem}.bin").write_bytes(data)
                (save / f"{stem}.txt").write_text(
                    f"{outcome.status}: {outcome.name}\n{outcome.detail}\n", encoding="utf-8"
                )
            if on_failure is not None:
                on_failure(outcome)

    try:
        if hostile:
            for name in names:
                for label, data in hostile_inputs(name, hostile_scale):
                    budget = input_budget(input_seconds, len(data))
                    record(pool.run(name, label, data, budget), data)
        counter = 0
        while time.monotonic() - started < seconds:
            if max_inputs is not None and counter >= max_inputs * len(names):
                break
            name = names[counter % len(names)]
            counter += 1
            target = TARGETS[name]
            pool_of_seeds = seeds[target.seeds]
            seed_bytes = rng.choice(pool_of_seeds)
            other = rng.choice(pool_of_seeds)
            data = mutate(seed_bytes, other, rng, "json" if target.json else name)
            label = f"mutation {counter} of seed {hashlib.sha256(seed_bytes).hexdigest()[:8]}"
            record(pool.run(name, label, data, input_budget(input_seconds, len(data))), data)
    finally:
        pool.stop()
    report.seconds = time.monotonic() - started
    return report


def replay(path: Path, target: str, input_seconds: float, memory_mb: int) -> Outcome:
    warm_up([target], load_seeds())
    pool = _Pool(memory_mb)
    try:
        data = path.read_bytes()
        return pool.run(target, path.name, data, input_budget(input_seconds, len(data)))
    finally:
        pool.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=600.0, help="how long (default 600)")
    parser.add_argument("--targets", nargs="+", choices=sorted(TARGETS), default=None)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--input-seconds",
        type=float,
        default=DEFAULT_INPUT_SECONDS,
        help=f"time budget per input (default {DEFAULT_INPUT_SECONDS:g} s, more for big ones)",
    )
    parser.add_argument(
        "--memory-mb",
        type=int,
        default=DEFAULT_MEMORY_MB,
        help=f"memory budget per input (default {DEFAULT_MEMORY_MB})",
    )
    parser.add_argument("--no-hostile", action="store_true", help="only mutated inputs")
    parser.add_argument("--save", type=Path, help="folder for failing inputs")
    parser.add_argument("--replay", type=Path, help="run one saved input (needs one --targets)")
    args = parser.parse_args(argv)
    if args.replay:
        if not args.targets or len(args.targets) != 1:
            parser.error("--replay needs exactly one --targets")
        outcome = replay(args.replay, args.targets[0], args.input_seconds, args.memory_mb)
        print(f"{outcome.status} in {outcome.seconds:.2f} s, {outcome.peak_bytes / 2**20:.1f} MB")
        print(outcome.detail)
        return 1 if outcome.failed else 0

    def show(outcome: Outcome) -> None:
        print(f"FAILED {outcome.target} {outcome.status}: {outcome.name}", flush=True)
        print("  " + outcome.detail.strip().replace("\n", "\n  "), flush=True)

    report = run_fuzz(
        targets=args.targets,
        seconds=args.seconds,
        input_seconds=args.input_seconds,
        memory_mb=args.memory_mb,
        seed=args.seed,
        hostile=not args.no_hostile,
        save=args.save,
        on_failure=show,
    )
    print(report.table())
    print(f"RESULT fuzz_parsers {report.total} inputs, {len(report.failures)} failures")
    return 1 if report.failures else 0


if __name__ == "__main__":
    sys.exit(main())
