"""Full-text search: entity values, attributes, timeline text and evidence text, in any
script, with case and diacritics folded; whatever is typed is words to find, never syntax."""

import pytest

from workbench.domain.errors import InvalidInput
from workbench.services import casework
from workbench.store.search import search

WHOIS_TEXT = "Registrant Name: Pedro Kresker\nПример: кириллица\nOrganisation: Société Générale\n"


@pytest.fixture
def case_store(store):
    case = casework.new_case(store, "Soundsbox")
    ids = {
        "society": casework.add_entity(
            store,
            case.id,
            "collecting_society",
            "ROMS",
            {"full_name": "Российское Мультимедиа и Интернет Общество", "country": "RU"},
        ).id,
        "person": casework.add_entity(store, case.id, "person", "Jürgen Müller").id,
        "agency": casework.add_entity(store, case.id, "organisation", "Роспатент").id,
        "shop": casework.add_entity(
            store,
            case.id,
            "storefront",
            "Soundsbox",
            {"licence_claim": "authorized by the license # 49/ZM-07", "market_notes": "Beatles"},
        ).id,
        "event": casework.add_event(
            store, case.id, "contact_attempt", "Emailed the registrant in Luxembourg; no reply"
        ).id,
        "evidence": casework.add_evidence_bytes(
            store,
            case.id,
            "whois",
            WHOIS_TEXT.encode(),
            media_type="text/plain",
        ).id,
        "binary": casework.add_evidence_bytes(
            store, case.id, "file", b"\x00\x01kresker\x00", media_type="application/octet-stream"
        ).id,
    }
    return store, ids


def _found(db, query):
    return {(r["type"], r["id"]) for r in search(db, query)}


def test_entity_values_are_found_whatever_the_case(case_store):
    db, ids = case_store
    assert ("entity", ids["shop"]) in _found(db, "soundsbox")
    assert ("entity", ids["society"]) in _found(db, "roms")


def test_attributes_are_found_in_any_script(case_store):
    db, ids = case_store
    assert ("entity", ids["shop"]) in _found(db, "49/ZM-07")
    assert ("entity", ids["shop"]) in _found(db, "beatles")
    assert ("entity", ids["society"]) in _found(db, "Мультимедиа")
    assert ("entity", ids["society"]) in _found(db, "общество")


def test_event_text_is_found(case_store):
    db, ids = case_store
    assert _found(db, "registrant luxembourg") == {("event", ids["event"])}


def test_evidence_text_is_found_in_cyrillic_and_binary_content_is_not_indexed(case_store):
    db, ids = case_store
    assert _found(db, "кириллица") == {("evidence", ids["evidence"])}
    assert _found(db, "КИРИЛЛИЦА") == {("evidence", ids["evidence"])}
    assert ("evidence", ids["evidence"]) in _found(db, "kresker")
    assert ("evidence", ids["binary"]) not in _found(db, "kresker")


def test_cyrillic_entity_values_are_found_in_either_case(case_store):
    db, ids = case_store
    assert _found(db, "Роспатент") == {("entity", ids["agency"])}
    assert _found(db, "роспатент") == {("entity", ids["agency"])}


def test_diacritics_are_folded_both_ways(case_store):
    db, ids = case_store
    assert _found(db, "muller") == {("entity", ids["person"])}
    assert _found(db, "Müller") == {("entity", ids["person"])}
    assert _found(db, "juergen") == set()  # folding, not transliteration
    assert _found(db, "societe generale") == {("evidence", ids["evidence"])}


def test_all_words_must_match_and_results_say_what_they_are(case_store):
    db, ids = case_store
    assert _found(db, "pedro kresker") == {("evidence", ids["evidence"])}
    assert _found(db, "pedro nobody") == set()
    (result,) = search(db, "Роспатент")
    assert result["title"] == "organisation: Роспатент"
    assert "[Роспатент]" in result["snippet"]


@pytest.mark.parametrize(
    "query",
    [
        '"',
        '""',
        '"unbalanced',
        "*",
        "soundsbox*",
        "NEAR(",
        "NEAR(soundsbox registrant, 2)",
        "AND OR",
        "NOT",
        "-",
        "a:b",
        "value:roms",
        "(",
        ")",
        "^roms",
        "{roms}",
        "'; DROP TABLE entities; --",
        "\\",
        "+",
        "ROMS OR",
    ],
)
def test_hostile_queries_do_not_error(case_store, query):
    db, _ = case_store
    results = search(db, query)
    assert isinstance(results, list)
    assert db.execute("SELECT count(*) FROM entities").fetchone()[0] == 4


def test_operators_typed_as_words_are_searched_as_words(case_store):
    db, ids = case_store
    # Unquoted, "ROMS OR nothing" would match ROMS; as words, "or" and "nothing" must match too.
    assert _found(db, "ROMS OR nothing") == set()
    assert _found(db, "soundsbox*") == {("entity", ids["shop"])}


@pytest.mark.parametrize("query", ["", "   ", "x" * 501])
def test_an_empty_or_overlong_query_is_refused(store, query):
    with pytest.raises(InvalidInput, match="search query"):
        search(store, query)
