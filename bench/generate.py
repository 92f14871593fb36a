"""A reproducible synthetic store at investigator scale (issue 8).

    .venv/bin/python bench/generate.py STORE [--entities 1000000] [--seed 8]

For N entities it writes about 5N links, N/5 evidence items and N/200 cases, shaped like
the real thing: a few hundred registrars and a few dozen collecting societies shared by many
domains, registrants mostly unique, a handful of hub nameservers and addresses used by ~1%
of all domains each, storefronts quoting licence numbers from a shared pool (pivot values),
one case of 5,000 entities (the "open a big case" benchmark) and the rest of ~1,000 each.
Every link joins its case with both ends and cites the domain's WHOIS evidence, as
`ensure_link` does.

It writes through the store's batch paths: rows go in with `executemany` in transactions
of `BATCH` rows under `writing`, and every row is audited through
`workbench.store.audit.record_many_json` (creates, and case, link and evidence
memberships; the millions of membership and link payloads are formatted from templates
that give exactly `canonical_json`'s text, the rest go through `canonical_json`), so
`verify` passes on the result and measures a chain shaped like a real one. It skips what
only matters for one row at a time (host name normalisation through the Public Suffix List:
the generated names are already in normal form).

Prints the counts, rows per second and `RESULT store_generate <rows/s> rows/s ratio=...`,
the ratio being against a bare `executemany` of the same rows with no audit chain (measured
on a 20,000-row sample in the same run).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sqlite3
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `bench` and `workbench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlite_utils import Database

from workbench.domain.normalise import name_key
from workbench.domain.pivot_values import pivot_values
from workbench.domain.times import to_iso
from workbench.store import audit
from workbench.store.audit import canonical_json
from workbench.store.database import open_store, writing
from workbench.store.evidence import text_sha256

BATCH = 50_000  # rows per transaction
CACHE_MB = 512  # SQLite page cache of the generating connection: index inserts at 1M rows
BIG_CASE_ENTITIES = 5_000
HUB_NAMESERVERS = 8
HUB_ADDRESSES = 6
HUB_SHARE = 0.01  # each hub is used by about this share of all domains

_SYLLABLES = [
    "mp3",
    "music",
    "tunes",
    "album",
    "zvuk",
    "muzyka",
    "mega",
    "best",
    "free",
    "fast",
    "hit",
    "top",
    "star",
    "sound",
    "track",
    "beat",
    "song",
    "disco",
    "radio",
    "club",
    "vinyl",
    "melody",
    "audio",
    "load",
    "share",
    "torrent",
    "stream",
    "cloud",
    "pirate",
]
_FIRST = [
    "ivan",
    "pavel",
    "sergei",
    "olga",
    "anna",
    "maria",
    "dmitri",
    "alexei",
    "elena",
    "natalia",
    "john",
    "james",
    "mary",
    "peter",
    "hans",
    "jurgen",
    "claire",
    "sophie",
    "marco",
    "lucia",
    "ahmed",
    "fatima",
    "wei",
    "li",
    "kenji",
    "yuki",
    "carlos",
    "ana",
    "tomas",
]
_LAST = [
    "petrov",
    "ivanov",
    "smirnov",
    "kuznetsov",
    "popov",
    "volkov",
    "sokolov",
    "lebedev",
    "kozlov",
    "novikov",
    "morozov",
    "smith",
    "jones",
    "brown",
    "muller",
    "schmidt",
    "weber",
    "dubois",
    "martin",
    "rossi",
    "bianchi",
    "garcia",
    "lopez",
    "silva",
    "santos",
    "kowalski",
    "nowak",
    "horvat",
    "novak",
    "jensen",
    "hansen",
]
_TLDS = ("com", "net", "org", "ru", "to", "cc", "ws", "su", "info", "biz")
_ORG_WORDS = [
    "media",
    "services",
    "digital",
    "trade",
    "group",
    "holding",
    "systems",
    "networks",
    "online",
]
_SOCIETIES = [
    "roms",
    "fair",
    "rao",
    "vois",
    "ifpi",
    "gema",
    "sacem",
    "prs",
    "bmi",
    "ascap",
    "jasrac",
    "koda",
    "stim",
    "teosto",
]


@dataclass
class Plan:
    """The ids of each kind of entity, assigned up front so links can name them."""

    n: int
    rng: random.Random
    next_id: int = 1
    ranges: dict[str, range] = field(default_factory=dict)

    def take(self, kind: str, count: int) -> range:
        ids = range(self.next_id, self.next_id + max(1, count))
        self.next_id = ids.stop
        self.ranges[kind] = ids
        return ids


def _moment(rng: random.Random) -> str:
    start = datetime(2004, 1, 1, tzinfo=UTC)
    return to_iso(start + timedelta(seconds=rng.randrange(22 * 365 * 86400)))


def _entity(kind: str, i: int, rng: random.Random) -> tuple[str, str, dict]:
    """(key, display value, attrs) of the i-th entity of `kind`: names already in normal form."""
    word = _SYLLABLES[i % len(_SYLLABLES)]
    other = _SYLLABLES[(i * 7 + 3) % len(_SYLLABLES)]
    if kind == "domain":
        name = f"{word}{other}{i}.{_TLDS[i % len(_TLDS)]}"
        return name, name, {}
    if kind == "nameserver":
        name = f"ns{i + 1}.hub-dns.net" if i < HUB_NAMESERVERS else f"ns{i % 4 + 1}.{word}{i}.net"
        return name, name, {}
    if kind == "ip_address":
        address = f"{10 + (i >> 16) % 200}.{(i >> 8) % 256}.{i % 256}.{1 + i % 250}"
        return address, address, {"asn": f"AS{64512 + (i * 7919) % 5000}"}
    if kind == "email":
        name = f"{_FIRST[i % len(_FIRST)]}.{_LAST[(i // 3) % len(_LAST)]}{i}@{word}mail.com"
        return name, name, {}
    if kind == "person":
        first = _FIRST[rng.randrange(len(_FIRST))].title()
        value = f"{first} {_LAST[rng.randrange(len(_LAST))].title()} {i}"
        return name_key(value), value, {"country": rng.choice(("RU", "UA", "DE", "NL", "PA"))}
    if kind == "organisation":
        value = f"{word.title()}{other.title()} {_ORG_WORDS[i % len(_ORG_WORDS)].title()} Ltd {i}"
        return name_key(value), value, {}
    if kind == "registrar":
        value = f"{word.title()} Registrar {i}"
        return name_key(value), value, {"iana_id": str(1000 + i)}
    if kind == "collecting_society":
        value = f"{_SOCIETIES[i % len(_SOCIETIES)].upper()} {i}"
        return name_key(value), value, {}
    if kind == "storefront":
        value = f"{word.title()} {other.title()} Store {i}"
        pool = max(1, i // 3 + 1)  # licence numbers shared by a few storefronts each
        return (
            name_key(value),
            value,
            {"licence_number": f"LN-{rng.randrange(pool):05d}", "operator": f"Operator {i % 997}"},
        )
    raise ValueError(kind)


def _whois_text(domain: str, registrar: str, registrant: str, emails, servers) -> bytes:
    lines = [
        f"Domain Name: {domain.upper()}",
        f"Registrar: {registrar}",
        f"Registrant Name: {registrant}",
        *(f"Registrant Email: {email}" for email in emails),
        *(f"Name Server: {server.upper()}" for server in servers),
        "DNSSEC: unsigned",
        ">>> Last update of WHOIS database <<<",
    ]
    return ("\r\n".join(lines) + "\r\n").encode()


class Writer:
    """Batches rows per table and their audit records; flushes in transactions of BATCH."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.rows: dict[str, list[tuple]] = {}
        self.sql: dict[str, str] = {}
        self.changes: list[tuple[str, str, int | None, str]] = []
        self.pending = 0
        self.written = 0
        self.audited = 0

    def add(self, table: str, sql: str, row: tuple, change=None) -> None:
        """Queue `row`; `change` is (action, subject, id, payload as a dict or as its
        canonical JSON text)."""
        self.sql[table] = sql
        self.rows.setdefault(table, []).append(row)
        self.pending += 1
        if change is not None:
            if not isinstance(change[3], str):
                change = (*change[:3], canonical_json(change[3]))
            self.changes.append(change)
        if self.pending >= BATCH:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        with writing(self.db):
            # Parents before children (a batch can hold a link citing evidence added after it).
            for table in sorted(self.rows, key=list(_SQL).index):
                rows = self.rows[table]
                self.db.conn.executemany(self.sql[table], rows)
                self.written += len(rows)
            audit.record_many_json(self.db, self.changes)
        self.audited += len(self.changes)
        self.rows, self.changes, self.pending = {}, [], 0


_SQL = {
    "cases": "INSERT INTO cases (id, title, status, investigator, summary, created_at, "
    "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
    "entities": "INSERT INTO entities (id, kind, key, value, attrs, created_at, updated_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?)",
    "entity_values": "INSERT OR IGNORE INTO entity_values (name, value, entity_id) "
    "VALUES (?, ?, ?)",
    "evidence": "INSERT INTO evidence (id, kind, sha256, size, media_type, content, captured_at, "
    "recorded_at, source, query, filename, imported, note, text) "
    "VALUES (?, 'whois', ?, ?, 'text/plain', ?, ?, ?, ?, ?, NULL, 0, NULL, ?)",
    "links": "INSERT INTO links (id, src_id, type, dst_id, label, confidence, created_at) "
    "VALUES (?, ?, ?, ?, '', 1.0, ?)",
    "link_cases": "INSERT INTO link_cases (link_id, case_id) VALUES (?, ?)",
    "link_evidence": "INSERT INTO link_evidence (link_id, evidence_id) VALUES (?, ?)",
    "case_entities": "INSERT INTO case_entities (case_id, entity_id, added_at) VALUES (?, ?, ?)",
    "case_evidence": "INSERT INTO case_evidence (case_id, evidence_id, added_at) VALUES (?, ?, ?)",
    "events": "INSERT INTO events (id, case_id, at, kind, text, deadline, outcome, created_at) "
    "VALUES (?, ?, ?, 'observation', ?, NULL, NULL, ?)",
}


def link_payload(src: int, kind: str, dst: int) -> str:
    """`canonical_json` of a generated link's create payload (a plain ASCII link type, no
    label, confidence 1.0), formatted without the encoder: five million links."""
    return f'{{"confidence":1.0,"dst_id":{dst},"label":"","src_id":{src},"type":"{kind}"}}'


def _kind_counts(n: int) -> dict[str, int]:
    counts = {
        "registrar": max(3, n // 2000),
        "collecting_society": max(2, n // 20000),
        "nameserver": max(HUB_NAMESERVERS + 4, n * 4 // 100),
        "ip_address": max(HUB_ADDRESSES + 4, n * 10 // 100),
        "storefront": max(2, n * 4 // 100),
        "person": n * 12 // 100,
        "organisation": n * 8 // 100,
        "domain": n * 46 // 100,
    }
    counts["email"] = max(4, n - sum(counts.values()))
    return counts


def generate(path: Path, entities: int = 1_000_000, seed: int = 8) -> dict:
    """Write the synthetic store at `path` (which must not exist); its counts and timings."""
    if path.exists():
        raise SystemExit(f"{path} exists: the generator writes a new store only")
    rng = random.Random(seed)
    db = open_store(path)
    db.execute(f"PRAGMA cache_size = -{CACHE_MB * 1024}")
    started = time.perf_counter()
    writer = Writer(db)
    plan = Plan(entities, rng)
    counts = _kind_counts(entities)
    n_cases = max(2, entities // 200)
    now = _moment(rng)

    for case_id in range(1, n_cases + 1):
        title = "Big case: 5,000 entities" if case_id == 1 else f"Case {case_id}"
        row = (case_id, title, "open", f"Investigator {case_id % 40}", None, now, now)
        payload = {
            "id": case_id,
            "title": title,
            "status": "open",
            "investigator": row[3],
            "summary": None,
            "created_at": now,
            "updated_at": now,
            "archived_at": None,
        }
        writer.add("cases", _SQL["cases"], row, ("case.create", "case", case_id, payload))

    names: dict[int, str] = {}  # display values the WHOIS texts quote
    for kind, count in counts.items():
        ids = plan.take(kind, count)
        for offset, entity_id in enumerate(ids):
            key, value, attrs = _entity(kind, offset, rng)
            attrs_json = json.dumps(attrs, sort_keys=True, ensure_ascii=False)
            created = _moment(rng)
            if kind != "domain":
                names[entity_id] = value
            payload = {"kind": kind, "key": key, "value": value, "attrs": attrs}
            writer.add(
                "entities",
                _SQL["entities"],
                (entity_id, kind, key, value, attrs_json, created, created),
                ("entity.create", "entity", entity_id, payload),
            )
            for name, pivot in sorted(pivot_values(attrs)):
                writer.add("entity_values", _SQL["entity_values"], (name, pivot, entity_id))

    r = plan.ranges
    domains = r["domain"]
    hub_ns = list(r["nameserver"][:HUB_NAMESERVERS])
    hub_ip = list(r["ip_address"][:HUB_ADDRESSES])
    registrars = r["registrar"]
    registrants = list(r["person"]) + list(r["organisation"])
    evidence_every = max(1, round(len(domains) / max(1, entities // 5)))
    # Hub shares: a domain picks a hub with the probability that makes each hub's
    # share of domains HUB_SHARE.
    p_hub_ns = min(0.9, HUB_SHARE * HUB_NAMESERVERS / 2)
    p_hub_ip = min(0.9, HUB_SHARE * HUB_ADDRESSES)

    link_id = 0
    evidence_id = 0
    in_case: set[tuple[int, int]] = set()
    big_case_size = 0
    linked_once: set[int] = set()

    def join(case_id: int, entity_id: int) -> None:
        nonlocal big_case_size
        if (case_id, entity_id) in in_case:
            return
        in_case.add((case_id, entity_id))
        if case_id == 1:
            big_case_size += 1
        writer.add(
            "case_entities",
            _SQL["case_entities"],
            (case_id, entity_id, now),
            ("case.add_entity", "case", case_id, f'{{"entity_id":{entity_id}}}'),
        )

    def link(case_id: int, src: int, kind: str, dst: int, cites: int | None) -> None:
        nonlocal link_id
        link_id += 1
        writer.add(
            "links",
            _SQL["links"],
            (link_id, src, kind, dst, now),
            ("link.create", "link", link_id, link_payload(src, kind, dst)),
        )
        writer.add(
            "link_cases",
            _SQL["link_cases"],
            (link_id, case_id),
            ("link.add_case", "link", link_id, f'{{"case_id":{case_id}}}'),
        )
        if cites is not None:
            writer.add(
                "link_evidence",
                _SQL["link_evidence"],
                (link_id, cites),
                ("link.add_evidence", "link", link_id, f'{{"evidence_id":{cites}}}'),
            )
        join(case_id, src)
        join(case_id, dst)

    def sample(pool, hubs: list[int], p_hub: float, k: int) -> list[int]:
        picked: list[int] = []
        while len(picked) < k:
            source = hubs if hubs and rng.random() < p_hub else pool
            candidate = source[rng.randrange(len(source))]
            if candidate not in picked:
                picked.append(candidate)
        return picked

    storefronts = iter(r["storefront"])
    societies = r["collecting_society"]
    for n, domain in enumerate(domains):
        # The first case takes domains until it holds BIG_CASE_ENTITIES entities.
        if big_case_size < min(BIG_CASE_ENTITIES, entities // 4):
            case_id = 1
        else:
            case_id = 2 + rng.randrange(n_cases - 1)
        registrar = registrars[rng.randrange(len(registrars))]
        # Registrants mostly unique: most domains take the next one, some reuse one.
        registrant = registrants[n % len(registrants)]
        if rng.random() < 0.1:
            registrant = registrants[rng.randrange(len(registrants))]
        emails = sample(r["email"], [], 0.0, 2)
        servers = sample(r["nameserver"], hub_ns, p_hub_ns, 3)
        addresses = sample(r["ip_address"], hub_ip, p_hub_ip, 3)
        cites = None
        domain_name = _entity("domain", n, rng)[0]
        if n % evidence_every == 0:
            evidence_id += 1
            cites = evidence_id
            content = _whois_text(
                domain_name,
                names[registrar],
                names[registrant],
                [names[e] for e in emails],
                [names[s] for s in servers],
            )
            captured = _moment(rng)
            digest = hashlib.sha256(content).hexdigest()
            query = domain_name
            source = "whois.example.net:43"
            writer.add(
                "evidence",
                _SQL["evidence"],
                (
                    evidence_id,
                    digest,
                    len(content),
                    content,
                    captured,
                    now,
                    source,
                    query,
                    content.decode(),
                ),
                (
                    "evidence.create",
                    "evidence",
                    evidence_id,
                    {
                        "kind": "whois",
                        "sha256": digest,
                        "size": len(content),
                        "captured_at": captured,
                        "source": source,
                        "query": query,
                        "imported": False,
                        # every column, as evidence.add_evidence records it (verify compares)
                        "media_type": "text/plain",
                        "recorded_at": now,
                        "filename": None,
                        "note": None,
                        "text_sha256": text_sha256(content.decode()),
                    },
                ),
            )
            writer.add(
                "case_evidence",
                _SQL["case_evidence"],
                (case_id, evidence_id, now),
                ("case.add_evidence", "case", case_id, f'{{"evidence_id":{evidence_id}}}'),
            )
        link(case_id, domain, "registered_via", registrar, cites)
        link(case_id, domain, "registered_to", registrant, cites)
        for email in emails:
            link(case_id, domain, "contact_email", email, cites)
        for server in servers:
            link(case_id, domain, "uses_nameserver", server, cites)
        for address in addresses:
            link(case_id, domain, "resolves_to", address, cites)
        # Once per registrant and non-hub nameserver: its own contact and address.
        if registrant not in linked_once:
            linked_once.add(registrant)
            link(case_id, registrant, "contact_email", emails[0], cites)
        if servers[0] not in linked_once and servers[0] not in hub_ns:
            linked_once.add(servers[0])
            link(case_id, servers[0], "resolves_to", addresses[0], cites)
        if n % 11 == 0:
            store = next(storefronts, None)
            if store is not None:
                link(case_id, store, "served_at", domain, None)
                link(case_id, store, "claims_licence_from", societies[n % len(societies)], None)

    event_id = 0
    for case_id in range(1, n_cases + 1):
        for k in range(5):
            event_id += 1
            at = _moment(rng)
            text = f"Observed {_SYLLABLES[(case_id + k) % len(_SYLLABLES)]} storefront change {k}"
            writer.add(
                "events",
                _SQL["events"],
                (event_id, case_id, at, text, now),
                (
                    "event.create",
                    "event",
                    event_id,
                    {
                        "case_id": case_id,
                        "at": at,
                        "kind": "observation",
                        "text": text,
                        "deadline": None,
                        "outcome": None,
                    },
                ),
            )
    writer.flush()
    seconds = time.perf_counter() - started
    db.execute("ANALYZE")
    db.conn.close()
    return {
        "entities": entities,
        "links": link_id,
        "evidence": evidence_id,
        "cases": n_cases,
        "events": event_id,
        "big_case_entities": big_case_size,
        "rows": writer.written,
        "audit_rows": writer.audited,
        "seconds": seconds,
        "rows_per_s": (writer.written + writer.audited) / seconds,
    }


def bare_rows_per_s(sample: int = 20_000) -> float:
    """The same kind of rows (entities with their FTS trigger, links) through a bare
    `executemany` on a plain connection, no audit chain: the floor the generator rests on."""
    with tempfile.TemporaryDirectory() as folder:
        db = open_store(Path(folder) / "bare.sqlite")  # same schema, triggers and indexes
        db.conn.close()
        conn = sqlite3.connect(Path(folder) / "bare.sqlite", isolation_level=None)
        rows = [
            (i, "domain", f"bare{i}.com", f"bare{i}.com", "{}", "t", "t")
            for i in range(1, sample + 1)
        ]
        links = [(i, i, "related", i % sample + 1, "t") for i in range(1, sample + 1)]
        started = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(_SQL["entities"], rows)
        conn.executemany(_SQL["links"], links)
        conn.execute("COMMIT")
        seconds = time.perf_counter() - started
        conn.close()
    return 2 * sample / seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "store", type=Path, nargs="?", help="the store to create (default: a temporary one)"
    )
    parser.add_argument("--entities", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=8)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        stats = generate(args.store or Path(folder) / "store.sqlite", args.entities, args.seed)
    bare = bare_rows_per_s()
    for name, value in stats.items():
        print(f"{name}: {value:,.1f}" if isinstance(value, float) else f"{name}: {value:,}")
    print(f"bare executemany: {bare:,.0f} rows/s")
    print(
        f"RESULT store_generate {stats['rows_per_s']:.0f} rows/s "
        f"ratio={bare / stats['rows_per_s']:.2f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
