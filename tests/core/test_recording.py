"""Recording lookups (issue 3, items 4 and 9, and the Done-when): what WHOIS, RDAP and DNS
said about a domain becomes evidence, entities and links citing that evidence, a snapshot
per lookup kind, and a timeline event when something changed. Through the real peers of
the Soundsbox scenario (Knot, two WHOIS servers, an RDAP server), in-process."""

from __future__ import annotations

import hashlib
import socket
import time
from collections.abc import Iterable, Iterator
from dataclasses import replace
from typing import Any

import pytest

from tests.peers.rdap_server import fixture_bytes
from tests.peers.scenario import ScenarioServers, scenario_servers
from tests.peers.whois_server import WhoisPeer, fixture
from workbench.domain.kinds import EntityKind
from workbench.domain.redaction import is_redacted
from workbench.lookups.settings import LookupSettings, ServerAddress
from workbench.services.casework import new_case
from workbench.services.lookup_runs import (
    LookupPlan,
    RunReport,
    parse_queries,
    run_lookups,
    start_run,
)
from workbench.store.database import Database, integrity_check
from workbench.store.entities import find_entity, get_entity
from workbench.store.events import case_events
from workbench.store.evidence import get_evidence
from workbench.store.links import case_links, get_link
from workbench.store.pivots import related_cases
from workbench.store.snapshots import entity_snapshots
from workbench.store.verify import verify_store

# Which evidence kind each lookup kind stores (an address's RDAP is RDAP evidence).
EVIDENCE_KIND = {"whois": "whois", "rdap": "rdap", "dns": "dns", "rdap_ip": "rdap"}
FULL_PLAN = LookupPlan()
WHOIS_ONLY = LookupPlan(whois=True, rdap=False, dns=False, ip_rdap=False)


@pytest.fixture(scope="module")
def servers() -> Iterator[ScenarioServers]:
    with scenario_servers() as running:
        yield running


# --- helpers (also used by the other lookup test modules) ---------------------------------


def look_up(
    db: Database,
    settings: LookupSettings,
    names: Iterable[str],
    *,
    case_id: int | None = None,
    plan: LookupPlan = FULL_PLAN,
) -> RunReport:
    """One run over `names`, stored in `db`, as the CLI and the UI do it."""
    run_id = start_run(db, parse_queries(names), case_id=case_id, plan=plan)
    return run_lookups(db, run_id, settings)


def lookups_of(report: RunReport, query: str) -> dict[str, dict[str, Any]]:
    """{protocol: recorded lookup} of one domain of a run (rdap_ip keyed by address)."""
    (result,) = [r for r in report.results if r["query"] == query]
    return {
        (lk["protocol"] if lk["protocol"] != "rdap_ip" else f"rdap_ip {lk['query']}"): lk
        for lk in result["lookups"]
    }


def edges(db: Database, case_id: int) -> set[tuple[str, str, str, str]]:
    """The case's links as (source value, type, label, destination value)."""
    found = set()
    for link in case_links(db, case_id):
        src, dst = get_entity(db, link.src_id), get_entity(db, link.dst_id)
        found.add((src.value, link.type, link.label, dst.value))
    return found


def closed_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def unreachable_settings(**changes: Any) -> LookupSettings:
    """Every server on a closed port of 127.0.0.1: no route to any of them."""
    rdap = f"http://127.0.0.1:{closed_port()}"
    settings = LookupSettings(
        whois_server=ServerAddress("127.0.0.1", closed_port()),
        rdap_base_url=rdap,
        rdap_ip_base_url=rdap,
        dns_server=ServerAddress("127.0.0.1", closed_port()),
        timeout_s=5.0,
        dns_lifetime_s=2.0,
        per_server_interval_s=0.0,
        allow_private_addresses=True,
    )
    return replace(settings, **changes)


def assert_links_cite_their_evidence(db: Database, lookups: Iterable[dict[str, Any]]) -> int:
    """Every link a lookup created or confirmed cites at least one evidence item of that
    lookup, of that lookup's kind, whose stored bytes still hash to its SHA-256. Returns
    how many links were checked."""
    checked = 0
    for lookup in lookups:
        mine = set(lookup["evidence_ids"])
        for link_id in lookup["link_ids"]:
            link = get_link(db, link_id)
            cited = mine & set(link.evidence_ids)
            assert cited, f"link {link_id} ({link.type}) cites none of {lookup['protocol']}'s"
            for evidence_id in cited:
                item = get_evidence(db, evidence_id, with_content=True)
                assert item.kind == EVIDENCE_KIND[lookup["protocol"]], (link, item)
                assert hashlib.sha256(item.content).hexdigest() == item.sha256
            checked += 1
    return checked


# --- the Done-when ------------------------------------------------------------------------


def test_soundsbox_leads_to_the_vienna_registrar_and_a_luxembourg_registrant_whose_phone_is_a_fax(
    servers, store
):
    case = new_case(store, "Soundsbox")
    report = look_up(store, servers.settings, ["soundsbox.test"], case_id=case.id)

    found = lookups_of(report, "soundsbox.test")
    assert {protocol: lk["status"] for protocol, lk in found.items()} == {
        "whois": "ok",
        "rdap": "ok",
        "dns": "ok",
        "rdap_ip 192.0.2.10": "ok",
        "rdap_ip 2001:db8::10": "ok",
    }
    # Both WHOIS answers (registry and the registrar it refers to) and both RDAP
    # documents are kept.
    assert len(found["whois"]["evidence_ids"]) == 2
    assert len(found["rdap"]["evidence_ids"]) == 2

    registrar = find_entity(store, EntityKind.REGISTRAR, "Vienna Domains GmbH")
    assert registrar is not None
    assert (registrar.attrs["iana_id"], registrar.attrs["country"]) == ("9999", "AT")
    registrant = find_entity(store, EntityKind.PERSON, "Pedro Kresker")
    assert registrant is not None and registrant.attrs["country"] == "LU"
    # The WHOIS gives the same number as phone and as fax: it is a fax line.
    phone = find_entity(store, EntityKind.PHONE, "+352.26480123", {"country": "LU"})
    assert phone is not None and phone.attrs["line_type"] == "fax"

    graph = edges(store, case.id)
    for edge in [
        ("soundsbox.test", "registered_via", "", "Vienna Domains GmbH"),
        ("soundsbox.test", "registered_to", "", "Pedro Kresker"),
        ("Pedro Kresker", "contact_phone", "", phone.value),
        ("Pedro Kresker", "contact_phone", "fax", phone.value),
        ("Pedro Kresker", "contact_email", "", "pedro.kresker@soundsbox.test"),
        ("soundsbox.test", "uses_nameserver", "", "ns1.soundsbox.test"),
        ("soundsbox.test", "uses_nameserver", "", "ns2.soundsbox.test"),
        ("soundsbox.test", "resolves_to", "", "192.0.2.10"),
        ("soundsbox.test", "resolves_to", "", "2001:db8::10"),
        ("soundsbox.test", "mail_handled_by", "", "mail.soundsbox.test"),
        ("192.0.2.10", "hosted_by", "", "192.0.2.0/24"),
        ("2001:db8::10", "hosted_by", "", "AS64501"),
    ]:
        assert edge in graph, edge

    assert assert_links_cite_their_evidence(store, found.values()) >= len(graph)
    # Every link of the case was made by one of these lookups.
    made = {link_id for lk in found.values() for link_id in lk["link_ids"]}
    assert {link.id for link in case_links(store, case.id)} == made
    assert verify_store(store).ok, verify_store(store).problems
    assert integrity_check(store) == []


def test_each_lookup_kind_leaves_one_snapshot_with_what_it_found(servers, store):
    report = look_up(store, servers.settings, ["allofmp3.test"])
    domain = find_entity(store, EntityKind.DOMAIN, "allofmp3.test")
    snapshots = {s["protocol"]: s for s in entity_snapshots(store, domain.id)}
    assert set(snapshots) == {"whois", "rdap", "dns"}
    assert snapshots["dns"]["summary"]["addresses"] == ["198.51.100.20"]
    assert snapshots["whois"]["status"] == "ok" and snapshots["whois"]["summary"]["registrar"]
    for protocol, lookup in lookups_of(report, "allofmp3.test").items():
        if protocol in snapshots:
            assert snapshots[protocol]["evidence_ids"] == sorted(lookup["evidence_ids"])


# --- redaction ----------------------------------------------------------------------------


def _redacted_whois(domain: str, organisation: str) -> bytes:
    text = fixture("com_registrar_thick_redacted").decode()
    text = text.replace("melodymart-example.com", domain)
    return text.replace("Melody Mart Ltd", organisation).encode()


def _redacted_rdap(domain: str, organisation: str) -> bytes:
    text = fixture_bytes("domain-example.com-registrar.json").decode()
    text = text.replace('"ldhName": "example.com"', f'"ldhName": "{domain}"')
    return text.replace("Example Holdings LLC", organisation).encode()


def test_redacted_registrant_fields_create_nothing_and_do_not_relate_two_domains(servers, store):
    # Two shops behind privacy services: every registrant field of the second one is a
    # placeholder; the first one shows only its organisation.
    shops = {"melodymart.test": "Melody Mart Ltd", "tunevault.test": "REDACTED FOR PRIVACY"}
    for domain, organisation in shops.items():
        servers.registry.serve(domain, _redacted_whois(domain, organisation))
        servers.rdap.add(f"/domain/{domain}", _redacted_rdap(domain, organisation))
    settings = replace(
        servers.settings,
        # the record's referral names its own registrar: route it back to the registry,
        # which the lookup recognises and does not ask twice
        whois_overrides={"whois.harbournames.example": servers.registry.address},
    )
    plan = LookupPlan(whois=True, rdap=True, dns=False, ip_rdap=False)
    cases = {}
    for domain in shops:
        cases[domain] = new_case(store, f"Shop {domain}")
        report = look_up(store, settings, [domain], case_id=cases[domain].id, plan=plan)
        found = lookups_of(report, domain)
        assert {p: lk["status"] for p, lk in found.items()} == {"whois": "ok", "rdap": "ok"}
        snapshots = entity_snapshots(store, find_entity(store, EntityKind.DOMAIN, domain).id)
        # The placeholders are recorded as redacted fields, not as data.
        assert all(s["summary"]["redacted"] for s in snapshots), snapshots

    every = store.execute("SELECT kind, value FROM entities").fetchall()
    assert not [row for row in every if is_redacted(row[1]) or "redacted" in row[1].lower()]
    assert not [row for row in every if row[0] == EntityKind.PERSON]
    organisations = {value for kind, value in every if kind == EntityKind.ORGANISATION}
    assert organisations == {"Melody Mart Ltd"}

    # What the two cases share is the registrar side (the same registrar, its desks,
    # nameservers): never a registrant, and nothing made of a placeholder.
    (related,) = related_cases(store, cases["melodymart.test"].id)
    assert related["case"]["id"] == cases["tunevault.test"].id
    registrar_side = _registrar_side(store)
    for shared in related["shared"]:
        assert shared["via"] == "entity", shared
        entity = shared["entity"]
        assert entity["kind"] in {"registrar", "nameserver", "email", "phone"}, shared
        if entity["kind"] in {"email", "phone"}:
            assert entity["id"] in registrar_side, shared


def _registrar_side(db: Database) -> set[int]:
    """Ids of the contact entities linked from a registrar (its abuse and office desks)."""
    rows = db.execute(
        "SELECT l.dst_id FROM links l JOIN entities e ON e.id = l.src_id "
        "WHERE e.kind = 'registrar' AND l.type IN ('contact_email', 'contact_phone')"
    ).fetchall()
    return {row[0] for row in rows}


# --- re-running a lookup ------------------------------------------------------------------


def test_a_second_lookup_that_finds_a_new_registrant_adds_a_snapshot_and_an_event_naming_it(
    store,
):
    registry_text = fixture("soundsbox_test_registry")
    registrar_text = fixture("soundsbox_test_registrar")
    with (
        WhoisPeer({"soundsbox.test": registry_text}) as registry,
        WhoisPeer({"soundsbox.test": registrar_text}) as registrar,
    ):
        settings = LookupSettings(
            whois_server=registry.address,
            whois_overrides={"whois.viennadomains.test": registrar.address},
            timeout_s=2.0,
            per_server_interval_s=0.0,
            allow_private_addresses=True,
        )
        case = new_case(store, "Soundsbox")
        first = look_up(store, settings, ["soundsbox.test"], case_id=case.id, plan=WHOIS_ONLY)
        first_whois = lookups_of(first, "soundsbox.test")["whois"]
        assert first_whois["status"] == "ok" and first_whois["changes"] == {}
        domain = find_entity(store, EntityKind.DOMAIN, "soundsbox.test")
        before = entity_snapshots(store, domain.id, "whois")

        # The domain changed hands and moved to other nameservers.
        registry.serve(
            "soundsbox.test",
            registry_text.replace(b"NS1.SOUNDSBOX.TEST", b"NS1.KREMLIN-HOSTING.TEST").replace(
                b"NS2.SOUNDSBOX.TEST", b"NS2.KREMLIN-HOSTING.TEST"
            ),
        )
        registrar.serve(
            "soundsbox.test",
            registrar_text.replace(b"Pedro Kresker", b"Jan Kowalski")
            .replace(b"pedro.kresker@", b"jan.kowalski@")
            .replace(b"+352.26480123", b"+352.26480999"),
        )
        second = look_up(store, settings, ["soundsbox.test"], case_id=case.id, plan=WHOIS_ONLY)
        changes = lookups_of(second, "soundsbox.test")["whois"]["changes"]
        assert set(changes) == {"registrant", "nameservers"}
        assert "Jan Kowalski" in changes["registrant"]["after"]
        assert "Pedro Kresker" in changes["registrant"]["before"]

        after = entity_snapshots(store, domain.id, "whois")
        assert len(after) == 2
        assert after[0] == before[0], "the first snapshot must never be overwritten"
        assert after[1]["summary"]["nameservers"] == [
            "ns1.kremlin-hosting.test",
            "ns2.kremlin-hosting.test",
        ]
        (event,) = [e for e in case_events(store, case.id) if e.kind == "lookup"]
        assert "soundsbox.test" in event.text
        for words in ("registrant", "Jan Kowalski", "nameservers", "ns1.kremlin-hosting.test"):
            assert words in event.text, event.text
        assert domain.id in event.entity_ids
        # The old registrant stays in the graph (it was true then), the new one joins it.
        graph = edges(store, case.id)
        assert ("soundsbox.test", "registered_to", "", "Pedro Kresker") in graph
        assert ("soundsbox.test", "registered_to", "", "Jan Kowalski") in graph

        # Asked again with nothing changed: a third snapshot, no new event.
        third = look_up(store, settings, ["soundsbox.test"], case_id=case.id, plan=WHOIS_ONLY)
        assert lookups_of(third, "soundsbox.test")["whois"]["changes"] == {}
        assert len(entity_snapshots(store, domain.id, "whois")) == 3
        assert len([e for e in case_events(store, case.id) if e.kind == "lookup"]) == 1
    assert verify_store(store).ok


# --- faults through the whole stack -------------------------------------------------------


def test_faults_leave_a_snapshot_with_their_status_and_reason_and_no_data(servers, store):
    servers.registry.silent("silent-whois.test")
    servers.rdap.fault("/domain/busy.test", "429", retry_after="1")
    settings = servers.fast_settings(timeout_s=0.5, dns_lifetime_s=0.5, rate_limit_backoff_s=0.1)
    started = time.monotonic()
    report = look_up(store, settings, ["silent-whois.test", "busy.test", "broken.test"])
    # The silent server would hold the lookup for ever: the 0.5 s deadline ends it.
    assert time.monotonic() - started < 10

    silent = lookups_of(report, "silent-whois.test")["whois"]
    assert silent["status"] == "failed" and "deadline" in silent["reason"], silent
    busy = lookups_of(report, "busy.test")["rdap"]
    assert busy["status"] == "rate_limited" and busy["reason"], busy
    broken = lookups_of(report, "broken.test")["dns"]
    assert broken["status"] == "failed" and "SERVFAIL" in broken["reason"], broken
    # A SERVFAIL answer is evidence of what the server said.
    assert broken["evidence_ids"]

    for domain, protocol, status in [
        ("silent-whois.test", "whois", "failed"),
        ("busy.test", "rdap", "rate_limited"),
        ("broken.test", "dns", "failed"),
    ]:
        entity = find_entity(store, EntityKind.DOMAIN, domain)
        (snapshot,) = entity_snapshots(store, entity.id, protocol)
        assert (snapshot["status"], bool(snapshot["reason"])) == (status, True), snapshot
        assert snapshot["summary"] == {}, "a failure is never recorded as empty data"
        assert lookups_of(report, domain)[protocol]["link_ids"] == []
    # Nothing else was made up from the failures: no registrar, person or address.
    kinds = {row[0] for row in store.execute("SELECT DISTINCT kind FROM entities")}
    assert kinds == {"domain"}
    assert verify_store(store).ok


# --- offline ------------------------------------------------------------------------------


def test_with_no_server_reachable_every_lookup_is_offline_at_once_and_the_store_still_works(
    store,
):
    settings = unreachable_settings(timeout_s=30.0, dns_lifetime_s=30.0)
    started = time.monotonic()
    report = look_up(store, settings, ["soundsbox.test", "allofmp3.test"])
    elapsed = time.monotonic() - started
    assert elapsed < 5, f"{elapsed:.2f} s: offline must fail at once, not wait for the 30 s"
    for domain in ("soundsbox.test", "allofmp3.test"):
        found = lookups_of(report, domain)
        assert {p: lk["status"] for p, lk in found.items()} == {
            "whois": "offline",
            "rdap": "offline",
            "dns": "offline",
        }
        assert all(lk["reason"] for lk in found.values())

    # The offline switch asks nothing at all.
    report = look_up(store, replace(LookupSettings(), offline=True), ["soundsbox.test"])
    found = lookups_of(report, "soundsbox.test")
    assert {lk["status"] for lk in found.values()} == {"offline"}

    # Everything else works as before.
    case = new_case(store, "Still working")
    assert case.id and verify_store(store).ok and integrity_check(store) == []
