"""The demo store: two cases built from recorded responses, linking by themselves."""

from __future__ import annotations

import pytest

from workbench.services.demo import DemoRefused, build_demo
from workbench.store.details import case_detail
from workbench.store.pivots import related_cases
from workbench.store.verify import verify_store


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory):
    from workbench.store.database import open_store

    db = open_store(tmp_path_factory.mktemp("demo") / "demo.sqlite")
    ids = build_demo(db)["cases"]
    yield db, ids
    db.close()


def _by_kind(detail, kind):
    return {e["value"]: e for e in detail["entities"] if e["kind"] == kind}


def test_the_soundsbox_case_holds_the_story_as_recorded(demo_store):
    db, ids = demo_store
    detail = case_detail(db, ids["Soundsbox"])
    assert detail["case"]["status"] == "open"
    storefront = _by_kind(detail, "storefront")["Soundsbox"]
    assert [p["amount"] for p in storefront["attrs"]["prices"]] == ["0.14", "1.76"]
    assert storefront["attrs"]["catalogue_size"] == 5_000_000
    assert "49/ZM-07" in storefront["attrs"]["licence_claim"]
    assert "Vienna Domains GmbH" in _by_kind(detail, "registrar")
    assert _by_kind(detail, "person")["Pedro Kresker"]["attrs"]["country"] == "LU"
    assert _by_kind(detail, "phone")["+352 26 48 01 23"]["attrs"]["line_type"] == "fax"
    assert _by_kind(detail, "collecting_society")["ROMS"]["attrs"]["recognised_by_labels"] == "no"
    assert {"Visa", "MasterCard"} <= set(_by_kind(detail, "payment_processor"))
    kinds = [event["kind"] for event in detail["events"]]
    assert "contact_attempt" in kinds and "notice_sent" in kinds
    notice = next(e for e in detail["events"] if e["kind"] == "notice_sent")
    assert notice["deadline"] is not None


def test_every_lookup_link_cites_evidence_that_was_imported_with_its_claimed_time(demo_store):
    db, ids = demo_store
    detail = case_detail(db, ids["Soundsbox"])
    evidence = {item["id"]: item for item in detail["evidence"]}
    names = {e["id"]: e["value"] for e in detail["entities"]}
    registered_to = [
        link
        for link in detail["links"]
        if link["type"] == "registered_to" and names[link["dst_id"]] == "Pedro Kresker"
    ]
    assert registered_to and registered_to[0]["evidence_ids"]
    for evidence_id in registered_to[0]["evidence_ids"]:
        assert evidence[evidence_id]["kind"] == "whois"
        assert evidence[evidence_id]["imported"] is True
        assert evidence[evidence_id]["captured_at"].startswith("2009-11-02")
    resolves = [link for link in detail["links"] if link["type"] == "resolves_to"]
    assert resolves and all(
        evidence[e]["kind"] == "dns" for link in resolves for e in link["evidence_ids"]
    )


def test_the_two_cases_link_by_themselves_through_roms_wording_price_and_card_schemes(demo_store):
    db, ids = demo_store
    related = related_cases(db, ids["Soundsbox"])
    assert [item["case"]["title"] for item in related] == ["AllofMP3"]
    shared = related[0]["shared"]
    entities = {(s["entity"]["kind"], s["entity"]["value"]) for s in shared if s["via"] == "entity"}
    assert {
        ("collecting_society", "ROMS"),
        ("payment_processor", "Visa"),
        ("payment_processor", "MasterCard"),
    } <= entities
    values = {s["name"]: s["value"] for s in shared if s["via"] == "value"}
    assert "subject to the law of the russian federation" in values["licence_wording"]
    assert "price_model" in values


def test_the_redacted_2026_rdap_recheck_adds_no_entity_from_a_placeholder(demo_store):
    db, ids = demo_store
    detail = case_detail(db, ids["Soundsbox"])
    values = {e["value"].lower() for e in detail["entities"]}
    assert not any("redacted" in value for value in values)
    rdap = [item for item in detail["evidence"] if item["kind"] == "rdap"]
    assert any(item["captured_at"].startswith("2026-11-20") for item in rdap)


def test_the_demo_store_verifies(demo_store):
    db, _ = demo_store
    report = verify_store(db)
    assert report.ok, report.problems
    assert report.checked_evidence >= 20


def test_building_the_demo_into_a_store_with_cases_is_refused(demo_store):
    db, _ = demo_store
    before = db.execute("SELECT count(*) FROM audit").fetchone()[0]
    with pytest.raises(DemoRefused, match="already holds 2 case"):
        build_demo(db)
    assert db.execute("SELECT count(*) FROM audit").fetchone()[0] == before


def test_the_demo_command_builds_relates_verifies_and_refuses_a_second_build(run_cli):
    built = run_cli("demo", json=True)
    assert built.code == 0, built
    soundsbox = built.data["cases"]["Soundsbox"]
    related = run_cli("related", "--case", str(soundsbox), json=True)
    assert related.code == 0, related
    text = related.stdout
    assert "AllofMP3" in text and "ROMS" in text
    verified = run_cli("verify")
    assert verified.code == 0, verified
    again = run_cli("demo")
    assert again.code == 2
    assert again.stderr.count("\n") == 1 and "already holds" in again.stderr
