"""Pivots and cross-case links: what Soundsbox and AllofMP3 share (ROMS, the licence
wording) is found without anyone linking it by hand; privacy placeholders link nothing."""

import pytest

from workbench.domain.errors import NotFound, RedactedValue
from workbench.domain.prices import parse_price
from workbench.services import casework
from workbench.services.storefronts import StorefrontForm, record_storefront
from workbench.store.database import open_store
from workbench.store.entities import ensure_entity, find_entity
from workbench.store.pivots import (
    pivot_entity,
    pivot_neighbours,
    pivot_value,
    related_cases,
    related_cases_page,
)

SOUNDSBOX_CLAIM = (
    "authorized by the license # 49/ZM-07 of the Russian Multimedia and Internet Society (ROMS)"
)
ALLOFMP3_CLAIM = (
    "licensed by the Russian Multimedia and Internet Society (ROMS) and the Rightholders "
    "Federation for Collective Copyright Management of Works Used Interactively (FAIR)"
)


@pytest.fixture
def two_cases(store):
    """The scenario: Soundsbox and AllofMP3, each with its storefront and licence claim."""
    soundsbox = casework.new_case(store, "Soundsbox")
    allofmp3 = casework.new_case(store, "AllofMP3")
    record_storefront(
        store,
        soundsbox.id,
        StorefrontForm(
            name="Soundsbox",
            urls=["http://www.soundsbox.test/"],
            licence_claim=SOUNDSBOX_CLAIM,
            prices=[parse_price("0.14:USD:track"), parse_price("1.76:USD:album")],
        ),
    )
    record_storefront(
        store,
        allofmp3.id,
        StorefrontForm(
            name="AllofMP3",
            urls=["http://allofmp3.test/"],
            operator="Mediaservices",
            licence_claim=ALLOFMP3_CLAIM,
        ),
    )
    return soundsbox, allofmp3


def _entity(store, kind, value):
    found = find_entity(store, kind, value)
    assert found is not None, f"no {kind} {value}"
    return found


def test_a_licence_claim_becomes_a_society_and_a_licence_entity(store, two_cases):
    roms = _entity(store, "collecting_society", "ROMS")
    assert roms.attrs["full_name"] == "Russian Multimedia and Internet Society"
    fair = _entity(store, "collecting_society", "FAIR")
    assert "Rightholders Federation" in fair.attrs["full_name"]
    licence = find_entity(store, "licence", "49/ZM-07", {"issuer": "ROMS"})
    assert licence is not None and licence.value == "49/ZM-07 (ROMS)"


def test_two_cases_sharing_roms_are_related_through_it(store, two_cases):
    soundsbox, allofmp3 = two_cases
    roms = _entity(store, "collecting_society", "ROMS")
    (related,) = related_cases(store, soundsbox.id)
    assert related["case"]["id"] == allofmp3.id
    assert {"via": "entity", "entity_id": roms.id} in [
        {"via": s["via"], "entity_id": s["entity"]["id"]} for s in related["shared"]
    ]
    (back,) = related_cases(store, allofmp3.id)
    assert back["case"]["id"] == soundsbox.id
    unrelated = casework.new_case(store, "Unrelated")
    casework.add_entity(store, unrelated.id, "payment_processor", "Visa")
    assert related_cases(store, unrelated.id) == []
    with pytest.raises(NotFound):
        related_cases(store, 999)


def test_a_pivot_from_roms_finds_both_storefronts_and_both_cases(store, two_cases):
    soundsbox, allofmp3 = two_cases
    roms = _entity(store, "collecting_society", "ROMS")
    pivot = pivot_entity(store, roms.id)
    storefronts = {
        n["entity"]["value"]
        for n in pivot["neighbours"]
        if n["entity"]["kind"] == "storefront" and n["type"] == "claims_licence_from"
    }
    assert storefronts == {"Soundsbox", "AllofMP3"}
    assert all(n["direction"] == "in" for n in pivot["neighbours"] if n["type"] != "related")
    assert [c["id"] for c in pivot["cases"]] == [soundsbox.id, allofmp3.id]


def test_cases_sharing_rarer_things_rank_before_cases_sharing_common_ones(store):
    target = casework.new_case(store, "Soundsbox")
    casework.add_entity(store, target.id, "payment_processor", "Visa")
    casework.add_entity(store, target.id, "collecting_society", "ROMS")
    via_roms = casework.new_case(store, "AllofMP3")
    casework.add_entity(store, via_roms.id, "collecting_society", "ROMS")
    for n in range(3):
        other = casework.new_case(store, f"Shop {n}")
        casework.add_entity(store, other.id, "payment_processor", "VISA")
    ranked = related_cases(store, target.id)
    assert ranked[0]["case"]["id"] == via_roms.id
    assert len(ranked) == 4


def test_registrant_placeholders_never_become_entities_or_link_two_domains(store):
    first = casework.new_case(store, "First shop")
    second = casework.new_case(store, "Second shop")
    for case, domain in ((first, "first-shop.test"), (second, "second-shop.test")):
        casework.add_entity(
            store,
            case.id,
            "domain",
            domain,
            {"registrant": "REDACTED FOR PRIVACY", "operator": "REDACTED FOR PRIVACY"},
        )
        for kind in ("person", "organisation", "email", "phone"):
            with pytest.raises(RedactedValue):
                ensure_entity(store, kind, "REDACTED FOR PRIVACY", case_id=case.id)
        with pytest.raises(RedactedValue):
            ensure_entity(store, "email", "x1@withheldforprivacy.com", case_id=case.id)
    kinds = {kind for (kind,) in store.execute("SELECT kind FROM entities")}
    assert kinds == {"domain"}
    assert related_cases(store, first.id) == []
    assert related_cases(store, second.id) == []
    domain = _entity(store, "domain", "first-shop.test")
    assert domain.attrs["registrant"] == "REDACTED FOR PRIVACY"  # kept as recorded
    assert pivot_entity(store, domain.id)["same_values"] == []
    assert pivot_value(store, "operator", "REDACTED FOR PRIVACY") == []


def test_a_shared_licence_number_attribute_pivots_across_cases(store):
    first = casework.new_case(store, "Soundsbox")
    second = casework.new_case(store, "Mp3Sparks")
    a = casework.add_entity(
        store, first.id, "storefront", "Soundsbox", {"licence_number": "49/ZM-07"}
    )
    b = casework.add_entity(
        store, second.id, "storefront", "Mp3Sparks", {"licence_number": " 49/zm-07 "}
    )
    casework.add_entity(store, second.id, "storefront", "Other", {"licence_number": "50/ZM-08"})
    assert {e["id"] for e in pivot_value(store, "licence_number", "49/ZM-07")} == {a.id, b.id}
    same = pivot_entity(store, a.id)["same_values"]
    assert [(s["name"], s["entity"]["id"]) for s in same] == [("licence_number", b.id)]
    (related,) = related_cases(store, first.id)
    assert related["case"]["id"] == second.id
    (shared,) = related["shared"]
    assert (shared["via"], shared["name"], shared["other_entity"]["id"]) == (
        "value",
        "licence_number",
        b.id,
    )


def test_a_changed_attribute_value_stops_pivoting_on_the_old_one(store):
    case = casework.new_case(store, "Soundsbox")
    shop = casework.add_entity(
        store, case.id, "storefront", "Soundsbox", {"operator": "Mediaservices"}
    )
    casework.add_entity(store, case.id, "storefront", "Soundsbox", {"operator": "Other Ltd"})
    assert pivot_value(store, "operator", "Mediaservices") == []
    assert [e["id"] for e in pivot_value(store, "operator", "other ltd")] == [shop.id]


def test_a_hub_pivot_shows_a_first_page_of_each_link_type_with_the_counts(store):
    case = casework.new_case(store, "Hosting")
    hub = casework.add_entity(store, case.id, "nameserver", "ns1.hub-dns.test")
    for n in range(25):
        domain = casework.add_entity(store, case.id, "domain", f"shop{n}.test")
        casework.add_link(store, case.id, domain.id, "uses_nameserver", hub.id)
    address = casework.add_entity(store, case.id, "ip_address", "192.0.2.7")
    casework.add_link(store, case.id, hub.id, "resolves_to", address.id)

    page = pivot_entity(store, hub.id, limit=10)
    assert page["complete"] is False
    assert page["counts"]["neighbours"] == 26 and page["counts"]["cases"] == 1
    assert {(t["direction"], t["type"], t["count"]) for t in page["counts"]["by_type"]} == {
        ("in", "uses_nameserver", 25),
        ("out", "resolves_to", 1),
    }
    shown = [n["entity"]["value"] for n in page["neighbours"] if n["type"] == "uses_nameserver"]
    assert len(shown) == 10 and len(page["neighbours"]) == 11

    # The next pages give the rest, each neighbour once, and end.
    seen = [n["entity"]["id"] for n in page["neighbours"] if n["type"] == "uses_nameserver"]
    while True:
        more = pivot_neighbours(
            store, hub.id, "in", "uses_nameserver", after_entity_id=seen[-1], limit=10
        )
        if not more:
            break
        seen += [n["entity"]["id"] for n in more]
    everything = pivot_entity(store, hub.id)
    assert everything["complete"] is True and len(everything["neighbours"]) == 26
    assert sorted(seen) == sorted(
        n["entity"]["id"] for n in everything["neighbours"] if n["type"] == "uses_nameserver"
    )
    assert len(set(seen)) == 25


def test_a_changed_licence_number_stops_relating_the_cases_it_related(store):
    first = casework.new_case(store, "Soundsbox")
    second = casework.new_case(store, "Mp3Sparks")
    casework.add_entity(store, first.id, "storefront", "Soundsbox", {"licence_number": "49/ZM-07"})
    casework.add_entity(store, second.id, "storefront", "Mp3Sparks", {"licence_number": "49/ZM-07"})
    assert [r["case"]["id"] for r in related_cases(store, first.id)] == [second.id]
    casework.add_entity(store, second.id, "storefront", "Mp3Sparks", {"licence_number": "7/X"})
    assert related_cases(store, first.id) == []
    assert related_cases(store, second.id) == []


def _reference_scores(store, case_id: int) -> dict[int, float]:
    """The ranking's definition computed from the membership tables alone: each entity
    or pivot value (carried by two entities or more) in 2-100 cases adds 1/(cases - 1)
    to every other case it is in."""
    cases_of: dict[tuple, set[int]] = {}
    for entity_id, in_case in store.execute("SELECT entity_id, case_id FROM case_entities"):
        cases_of.setdefault(("entity", entity_id), set()).add(in_case)
    carriers: dict[tuple, set[int]] = {}
    for name, value, entity_id in store.execute("SELECT name, value, entity_id FROM entity_values"):
        carriers.setdefault((name, value), set()).add(entity_id)
    for (name, value), entity_ids in carriers.items():
        if len(entity_ids) >= 2:
            cases_of[("value", name, value)] = set().union(
                *(cases_of.get(("entity", e), set()) for e in entity_ids)
            )
    scores: dict[int, float] = {}
    for in_cases in cases_of.values():
        if case_id in in_cases and 2 <= len(in_cases) <= 100:
            for other in in_cases - {case_id}:
                scores[other] = scores.get(other, 0.0) + 1.0 / (len(in_cases) - 1)
    return scores


def test_related_cases_rank_as_the_memberships_say_on_a_generated_store(tmp_path):
    from bench.generate import generate

    generate(tmp_path / "g.sqlite", entities=1_500, seed=11)
    db = open_store(tmp_path / "g.sqlite")
    try:
        for case_id in (1, 3, 6):
            expected = _reference_scores(db, case_id)
            everything = related_cases(db, case_id)
            assert {r["case"]["id"]: r["score"] for r in everything} == {
                other: round(score, 3) for other, score in expected.items()
            }
            ranked = sorted(expected, key=lambda other: (-round(expected[other], 6), other))
            assert [r["case"]["id"] for r in everything] == ranked
            page = related_cases_page(db, case_id, limit=3, items=2)
            assert page["total"] == len(expected)
            assert [r["case"]["id"] for r in page["cases"]] == ranked[:3]
            for short, full in zip(page["cases"], everything, strict=False):
                assert len(short["shared"]) <= 2
                assert short["shared_count"] >= len(short["shared"])
                entities = {s["entity"]["id"] for s in full["shared"] if s["via"] == "entity"}
                assert {s["entity"]["id"] for s in short["shared"] if s["via"] == "entity"} <= (
                    entities
                )
    finally:
        db.close()
