"""Identity: two records are one entity when their kind and normalised key agree, whatever
spelling each was typed in; privacy placeholders are never an identity."""

import pytest

from workbench.domain.errors import InvalidInput, RedactedValue
from workbench.domain.identity import identify
from workbench.domain.kinds import EntityKind
from workbench.domain.redaction import is_redacted
from workbench.services import casework
from workbench.store.entities import ensure_entity, find_entity


@pytest.mark.parametrize(
    ("kind", "spellings", "key", "display"),
    [
        (
            EntityKind.DOMAIN,
            ["пример.рф", "WWW.ПРИМЕР.РФ.", "xn--e1afmkfd.xn--p1ai", "https://пример.рф/shop"],
            "xn--e1afmkfd.xn--p1ai",
            "пример.рф",
        ),
        (
            EntityKind.DOMAIN,
            ["soundsbox.test", "SoundsBox.TEST.", "http://www.soundsbox.test/"],
            "soundsbox.test",
            "soundsbox.test",
        ),
        (
            EntityKind.NAMESERVER,
            ["NS1.Vienna-Hosting.test.", "ns1.vienna-hosting.test"],
            "ns1.vienna-hosting.test",
            "ns1.vienna-hosting.test",
        ),
        (
            EntityKind.PHONE,
            ["+352.26480123", "+352 26 48 01 23", "tel:+352-26-48-01-23"],
            "+35226480123",
            "+352 26 48 01 23",
        ),
        (
            EntityKind.PHONE,
            ["+43 1 587 00 00", "+43.15870000", "tel:+43-1-587-00-00"],
            "+4315870000",
            "+43 1 5870000",
        ),
        (
            EntityKind.EMAIL,
            ["Pedro.Kresker@Example.LU", "mailto:pedro.kresker@example.lu"],
            "pedro.kresker@example.lu",
            "pedro.kresker@example.lu",
        ),
        (
            EntityKind.COLLECTING_SOCIETY,
            ["ROMS", " roms ", "Roms.", "ＲＯＭＳ"],
            "roms",
            "ROMS",
        ),
        (
            EntityKind.PERSON,
            ["Pedro Kresker", "PEDRO  KRESKER", " pedro kresker "],
            "pedro kresker",
            "Pedro Kresker",
        ),
        (
            EntityKind.IP_ADDRESS,
            ["2001:DB8::1", "2001:db8:0:0:0:0:0:1"],
            "2001:db8::1",
            "2001:db8::1",
        ),
        (
            EntityKind.URL,
            ["HTTP://WWW.SoundsBox.test:80/shop/../", "http://www.soundsbox.test/"],
            "http://www.soundsbox.test/",
            "http://www.soundsbox.test/",
        ),
    ],
)
def test_every_spelling_of_one_thing_has_one_key(kind, spellings, key, display):
    identities = {identify(kind, spelling) for spelling in spellings}
    assert {i.key for i in identities} == {key}
    assert identify(kind, spellings[0]).display == display


def test_a_licence_is_keyed_by_its_number_and_its_issuer():
    with_issuer = identify(EntityKind.LICENCE, "49/zm-07", {"issuer": "ROMS"})
    assert with_issuer.key == identify(EntityKind.LICENCE, "49/ZM-07 ", {"issuer": "roms"}).key
    assert with_issuer.key == "49/ZM-07|roms"
    assert with_issuer.display == "49/zm-07 (ROMS)"
    # The same number from another issuer is another licence.
    assert with_issuer.key != identify(EntityKind.LICENCE, "49/ZM-07", {"issuer": "FAIR"}).key


def test_a_phone_number_without_country_code_uses_the_country_attribute():
    assert identify(EntityKind.PHONE, "26 48 01 23", {"country": "LU"}).key == "+35226480123"


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        (EntityKind.PERSON, "REDACTED FOR PRIVACY"),
        (EntityKind.PERSON, "[REDACTED]"),
        (EntityKind.ORGANISATION, "Data Protected"),
        (EntityKind.ORGANISATION, "Privacy service provided by Withheld for Privacy ehf"),
        (EntityKind.ORGANISATION, "GDPR Masked"),
        (EntityKind.EMAIL, "REDACTED FOR PRIVACY"),
        (EntityKind.EMAIL, "abc123@withheldforprivacy.com"),
        (EntityKind.PHONE, "REDACTED FOR PRIVACY"),
        (EntityKind.PERSON, "N/A"),
    ],
)
def test_a_privacy_placeholder_is_never_an_identity(kind, value):
    assert is_redacted(value)
    with pytest.raises(RedactedValue) as caught:
        identify(kind, value)
    assert caught.value.field == kind.value
    assert "placeholder" in str(caught.value)


def test_real_registrant_data_is_not_mistaken_for_a_placeholder():
    for value in ("Pedro Kresker", "Mediaservices", "pedro@soundsbox.test", "+352.26480123"):
        assert not is_redacted(value)


def test_spellings_of_one_entity_are_stored_once_and_shared_by_every_case(store):
    soundsbox = casework.new_case(store, "Soundsbox")
    allofmp3 = casework.new_case(store, "AllofMP3")
    first = casework.add_entity(store, soundsbox.id, "phone", "+352.26480123")
    again = casework.add_entity(store, allofmp3.id, "phone", "+352 26 48 01 23")
    third = casework.add_entity(store, soundsbox.id, "phone", "tel:+352-26-48-01-23")
    assert first.id == again.id == third.id
    idn = casework.add_entity(store, soundsbox.id, "domain", "пример.рф")
    assert casework.add_entity(store, allofmp3.id, "domain", "WWW.ПРИМЕР.РФ.").id == idn.id
    assert idn.value == "пример.рф" and idn.key == "xn--e1afmkfd.xn--p1ai"
    count = store.execute("SELECT count(*) FROM entities").fetchone()[0]
    assert count == 2
    found = find_entity(store, "domain", "xn--e1afmkfd.xn--p1ai")
    assert found is not None and found.id == idn.id


def test_the_same_value_of_two_kinds_is_two_entities(store):
    case = casework.new_case(store, "Soundsbox")
    as_person = casework.add_entity(store, case.id, "person", "Soundsbox")
    as_storefront = casework.add_entity(store, case.id, "storefront", "Soundsbox")
    assert as_person.id != as_storefront.id


def test_attributes_merge_into_the_one_entity_a_later_value_winning(store):
    case = casework.new_case(store, "Soundsbox")
    casework.add_entity(store, case.id, "phone", "+352.26480123", {"line_type": "voice"})
    merged = casework.add_entity(
        store, case.id, "phone", "+352 26480123", {"line_type": "fax", "note": "a fax line"}
    )
    assert merged.attrs == {"line_type": "fax", "note": "a fax line"}


def test_a_placeholder_is_refused_before_anything_is_written(store):
    case = casework.new_case(store, "Soundsbox")
    before = store.execute("SELECT count(*) FROM entities").fetchone()[0]
    with pytest.raises(RedactedValue):
        ensure_entity(store, "person", "REDACTED FOR PRIVACY", case_id=case.id)
    with pytest.raises(InvalidInput):
        casework.add_entity(store, case.id, "email", "not-an-address")
    assert store.execute("SELECT count(*) FROM entities").fetchone()[0] == before


def test_a_national_phone_number_is_read_with_the_country_typed_in_any_case(store):
    case = casework.new_case(store, "Soundsbox")
    national = casework.add_entity(store, case.id, "phone", "26 48 01 23", {"country": "lu"})
    assert (national.key, national.attrs["country"]) == ("+35226480123", "LU")
    with pytest.raises(InvalidInput) as caught:
        casework.add_entity(store, case.id, "phone", "26 48 01 23", {"country": "Luxembourg"})
    assert caught.value.field == "country"
