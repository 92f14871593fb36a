"""Round trips: what goes into a store comes back out exactly, from this connection and
from a fresh one, and every change lands in the audit chain."""

import hashlib
from datetime import UTC, datetime

import pytest

from workbench.domain.errors import InvalidInput, NotFound
from workbench.services import casework
from workbench.store.cases import get_case, list_cases
from workbench.store.database import open_store, writing
from workbench.store.details import case_detail, entity_detail
from workbench.store.entities import get_entity
from workbench.store.events import get_event
from workbench.store.evidence import add_evidence, get_evidence
from workbench.store.verify import verify_store

WHOIS_TEXT = (
    "Domain Name: SOUNDSBOX.TEST\r\n"
    "Registrar: Vienna Domains GmbH\r\n"
    "Registrant Name: Pedro Kresker\r\n"
    "Registrant Phone: +352.26480123\r\n"
    "Пример: кириллица\r\n"
).encode()


def test_a_case_comes_back_as_entered_and_is_listed(store):
    case = casework.new_case(
        store,
        "  Soundsbox  ",
        investigator="IFPI anti-piracy unit",
        summary="Download store 'direct from Red Square'.\nSee ROMS.",
    )
    assert case.id > 0
    assert (case.title, case.status, case.investigator) == (
        "Soundsbox",
        "open",
        "IFPI anti-piracy unit",
    )
    assert case.summary == "Download store 'direct from Red Square'.\nSee ROMS."
    assert case.created_at.endswith("Z") and case.updated_at == case.created_at
    assert get_case(store, case.id) == case
    casework.update_case(store, case.id, status="REFERRED")
    assert get_case(store, case.id).status == "referred"
    listed = list_cases(store)
    assert [c["id"] for c in listed] == [case.id]
    assert listed[0]["counts"] == {"entities": 0, "links": 0, "evidence": 0, "events": 0}


def test_an_archived_case_leaves_the_default_list_but_is_never_deleted(store):
    kept = casework.new_case(store, "Soundsbox")
    archived = casework.new_case(store, "Old test case")
    casework.archive_case(store, archived.id)
    assert [c["id"] for c in list_cases(store)] == [kept.id]
    assert {c["id"] for c in list_cases(store, include_archived=True)} == {kept.id, archived.id}
    assert casework.archive_case(store, archived.id, archived=False).archived_at is None


def test_entities_with_attributes_survive_a_reopen(store_path):
    db = open_store(store_path)
    case = casework.new_case(db, "Soundsbox")
    roms = casework.add_entity(
        db,
        case.id,
        "collecting_society",
        "ROMS",
        {
            "country": "ru",
            "recognised_by_labels": "no",
            "full_name": "Российское Мультимедиа и Интернет Общество",
        },
    )
    db.close()
    db = open_store(store_path)
    try:
        again = get_entity(db, roms.id)
        assert again == roms
        assert again.attrs == {
            "country": "RU",
            "recognised_by_labels": "no",
            "full_name": "Российское Мультимедиа и Интернет Общество",
        }
        assert [e["id"] for e in case_detail(db, case.id)["entities"]] == [roms.id]
    finally:
        db.close()


def test_a_link_belongs_to_its_cases_and_rests_on_its_evidence(store):
    soundsbox = casework.new_case(store, "Soundsbox")
    allofmp3 = casework.new_case(store, "AllofMP3")
    person = casework.add_entity(store, soundsbox.id, "person", "Pedro Kresker")
    phone = casework.add_entity(store, soundsbox.id, "phone", "+352.26480123", {"line_type": "fax"})
    whois = casework.add_evidence_bytes(store, soundsbox.id, "whois", WHOIS_TEXT)
    link = casework.add_link(
        store, soundsbox.id, person.id, "contact_phone", phone.id, evidence_ids=[whois.id]
    )
    assert (link.src_id, link.type, link.dst_id, link.label) == (
        person.id,
        "contact_phone",
        phone.id,
        "",
    )
    assert link.case_ids == [soundsbox.id] and link.evidence_ids == [whois.id]
    # The same edge seen again in another case is one link in both cases.
    same = casework.add_link(store, allofmp3.id, person.id, "contact_phone", phone.id)
    assert same.id == link.id and same.case_ids == [soundsbox.id, allofmp3.id]
    # Both ends join the case the link is in.
    assert {e["id"] for e in case_detail(store, allofmp3.id)["entities"]} == {person.id, phone.id}
    free = casework.add_link(store, soundsbox.id, person.id, "Met at a trade fair", phone.id)
    assert (free.type, free.label) == ("related", "Met at a trade fair")
    detail = entity_detail(store, person.id)
    assert [lk["other"]["id"] for lk in detail["links_out"]] == [phone.id, phone.id]
    assert [e["id"] for e in detail["evidence"]] == [whois.id]
    assert [c["id"] for c in detail["cases"]] == [soundsbox.id, allofmp3.id]
    assert entity_detail(store, phone.id)["links_in"][0]["other"]["value"] == "Pedro Kresker"


def test_a_link_is_refused_without_both_ends_or_to_itself(store):
    case = casework.new_case(store, "Soundsbox")
    person = casework.add_entity(store, case.id, "person", "Pedro Kresker")
    other = casework.add_entity(store, case.id, "person", "Vadim Mamotin")
    with pytest.raises(NotFound, match="entity with id '999'"):
        casework.add_link(store, case.id, person.id, "operates", 999)
    with pytest.raises(NotFound, match="evidence with id '7'"):
        casework.add_link(store, case.id, person.id, "same_as", other.id, evidence_ids=[7])
    with pytest.raises(NotFound, match="case with id '999'"):
        casework.add_link(store, 999, person.id, "same_as", other.id)
    with pytest.raises(InvalidInput, match="itself"):
        casework.add_link(store, case.id, person.id, "same_as", person.id)
    with pytest.raises(InvalidInput, match="between 0 and 1"):
        casework.add_link(store, case.id, person.id, "same_as", other.id, confidence=1.5)
    with pytest.raises(InvalidInput, match="link type"):
        casework.add_link(store, case.id, person.id, "  ", other.id)
    assert store.execute("SELECT count(*) FROM links").fetchone()[0] == 0


def test_events_keep_their_time_deadline_outcome_and_entities(store):
    case = casework.new_case(store, "Soundsbox")
    visa = casework.add_entity(store, case.id, "payment_processor", "Visa")
    registrant = casework.add_entity(store, case.id, "email", "pedro@soundsbox.test")
    emailed = casework.add_event(
        store,
        case.id,
        "contact_attempt",
        "Emailed the registrant.",
        at=datetime(2009, 11, 3, 9, 0, tzinfo=UTC),
        outcome="no reply",
        entity_ids=[registrant.id],
    )
    notice = casework.add_event(
        store,
        case.id,
        "notice_sent",
        "IFPI wrote to Visa",
        at=datetime(2009, 11, 20, tzinfo=UTC),
        deadline=datetime(2009, 12, 4, tzinfo=UTC),
        entity_ids=[visa.id, visa.id],
    )
    assert get_event(store, emailed.id) == emailed
    assert emailed.at == "2009-11-03T09:00:00.000000Z" and emailed.outcome == "no reply"
    assert notice.deadline == "2009-12-04T00:00:00.000000Z" and notice.entity_ids == [visa.id]
    timeline = case_detail(store, case.id)["events"]
    assert [e["id"] for e in timeline] == [emailed.id, notice.id]
    with pytest.raises(InvalidInput, match="before the event"):
        casework.add_event(
            store,
            case.id,
            "notice_sent",
            "backwards",
            at=datetime(2009, 11, 20, tzinfo=UTC),
            deadline=datetime(2009, 11, 1, tzinfo=UTC),
        )
    with pytest.raises(InvalidInput, match="event kind"):
        casework.add_event(store, case.id, "gossip", "x")
    with pytest.raises(NotFound):
        casework.add_event(store, 999, "note", "x")


@pytest.mark.parametrize(
    "content",
    [
        WHOIS_TEXT,
        b"",
        bytes(range(256)) * 4,
        b"\xff\xfe not utf-8 \x00\x01",
        "кириллица\n".encode("koi8-r"),
    ],
    ids=["whois-crlf-cyrillic", "empty", "all-bytes", "invalid-utf8", "koi8-r"],
)
def test_evidence_bytes_are_stored_exactly_and_hashed(store_path, content):
    db = open_store(store_path)
    case = casework.new_case(db, "Soundsbox")
    item = casework.add_evidence_bytes(
        db,
        case.id,
        "whois",
        content,
        source="whois.viennadomains.test:43",
        captured_at=datetime(2009, 11, 2, 10, 0, tzinfo=UTC),
    )
    db.close()
    db = open_store(store_path)
    try:
        again = get_evidence(db, item.id, with_content=True)
        assert again.content == content
        assert again.sha256 == hashlib.sha256(content).hexdigest() == item.sha256
        assert again.size == len(content)
        assert again.captured_at == "2009-11-02T10:00:00.000000Z"
        assert again.imported is True  # the capture time was claimed, not observed
        assert again.source == "whois.viennadomains.test:43"
        assert [e["id"] for e in case_detail(db, case.id)["evidence"]] == [item.id]
    finally:
        db.close()


def test_the_same_capture_stored_twice_is_one_item_and_evidence_never_changes(store):
    case = casework.new_case(store, "Soundsbox")
    at = datetime(2009, 11, 2, 10, 0, tzinfo=UTC)
    with writing(store):
        first = add_evidence(
            store, "whois", WHOIS_TEXT, captured_at=at, source="s", case_id=case.id
        )
        second = add_evidence(store, "whois", WHOIS_TEXT, captured_at=at, source="s")
    assert first.id == second.id
    observed = casework.add_evidence_bytes(store, case.id, "note", b"seen now")
    assert observed.imported is False
    for statement in ("UPDATE evidence SET content = x'00'", "DELETE FROM evidence"):
        with pytest.raises(Exception, match="immutable"):
            store.execute(statement)
    assert get_evidence(store, first.id, with_content=True).content == WHOIS_TEXT


def test_every_change_is_in_the_audit_chain(store):
    case = casework.new_case(store, "Soundsbox")
    entity = casework.add_entity(store, case.id, "person", "Pedro Kresker")
    item = casework.add_evidence_bytes(store, case.id, "note", b"seen")
    event = casework.add_event(store, case.id, "note", "noted")
    audited = {
        (action, subject_id)
        for action, subject_id in store.execute("SELECT action, subject_id FROM audit")
    }
    assert {
        ("case.create", case.id),
        ("entity.create", entity.id),
        ("case.add_entity", case.id),
        ("evidence.create", item.id),
        ("case.add_evidence", case.id),
        ("event.create", event.id),
    } <= audited


def test_a_failed_change_writes_nothing_not_even_to_the_audit_chain(store):
    case = casework.new_case(store, "Soundsbox")
    before = store.execute("SELECT count(*) FROM audit").fetchone()[0]
    with pytest.raises(RuntimeError), writing(store):
        casework.add_entity(store, case.id, "person", "Pedro Kresker")
        raise RuntimeError("interrupted half way")
    assert store.execute("SELECT count(*) FROM audit").fetchone()[0] == before
    assert store.execute("SELECT count(*) FROM entities").fetchone()[0] == 0


def test_evidence_and_entities_cited_from_another_case_join_the_citing_case(store):
    soundsbox = casework.new_case(store, "Soundsbox")
    allofmp3 = casework.new_case(store, "AllofMP3")
    roms = casework.add_entity(store, soundsbox.id, "collecting_society", "ROMS")
    shop = casework.add_entity(store, allofmp3.id, "storefront", "AllofMP3")
    capture = casework.add_evidence_bytes(store, soundsbox.id, "page_capture", b"ROMS licence")
    casework.add_link(
        store, allofmp3.id, shop.id, "claims_licence_from", roms.id, evidence_ids=[capture.id]
    )
    visa = casework.add_entity(store, soundsbox.id, "payment_processor", "Visa")
    casework.add_event(
        store, allofmp3.id, "notice_sent", "IFPI wrote to Visa", entity_ids=[visa.id]
    )
    detail = case_detail(store, allofmp3.id)
    # Every id the case's links and events cite is in the case itself.
    assert [e["id"] for e in detail["evidence"]] == [capture.id]
    assert {e["id"] for e in detail["entities"]} == {shop.id, roms.id, visa.id}
    assert verify_store(store).ok
