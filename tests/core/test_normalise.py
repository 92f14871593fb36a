"""Normalisation: every value a person types or a server returns gets one canonical form,
and a value that cannot be one is refused with an error naming the field and the value."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from workbench.domain.attributes import parse_attribute_pairs, validate_attributes
from workbench.domain.errors import InvalidInput
from workbench.domain.kinds import EntityKind
from workbench.domain.normalise import (
    name_key,
    normalise_domain,
    normalise_email,
    normalise_hostname,
    normalise_ip,
    normalise_network,
    normalise_phone,
    normalise_url,
)
from workbench.domain.prices import parse_price
from workbench.domain.times import parse_when, to_iso


@pytest.mark.parametrize(
    "typed",
    [
        "soundsbox.test",
        "SOUNDSBOX.TEST",
        "SoundsBox.test.",
        "www.soundsbox.test",
        "shop.www.SoundsBox.test",
        "https://Shop.SoundsBox.test/a/b?c=d",
        "http://user:secret@www.soundsbox.test:8080/",
        "soundsbox.test/shop",
        "  soundsbox.test  ",
    ],
)
def test_a_domain_in_any_case_with_subdomains_or_as_a_url_becomes_its_registrable_domain(typed):
    assert normalise_domain(typed).ascii == "soundsbox.test"


def test_registrable_domains_follow_the_public_suffix_list_not_the_last_two_labels():
    assert normalise_domain("www.bbc.co.uk").ascii == "bbc.co.uk"
    assert normalise_domain("shop.example.com.ru").ascii == "example.com.ru"


@pytest.mark.parametrize(
    ("typed", "ascii_form", "unicode_form"),
    [
        ("пример.рф", "xn--e1afmkfd.xn--p1ai", "пример.рф"),
        ("WWW.ПРИМЕР.РФ.", "xn--e1afmkfd.xn--p1ai", "пример.рф"),
        ("xn--e1afmkfd.xn--p1ai", "xn--e1afmkfd.xn--p1ai", "пример.рф"),
        ("Bücher.de", "xn--bcher-kva.de", "bücher.de"),
        ("https://www.BÜCHER.de/shop", "xn--bcher-kva.de", "bücher.de"),
        # IDNA 2008, not 2003: ß is a letter of its own, not "ss".
        ("faß.de", "xn--fa-hia.de", "faß.de"),
    ],
)
def test_an_idn_has_one_ascii_key_whichever_form_it_is_typed_in(typed, ascii_form, unicode_form):
    name = normalise_domain(typed)
    assert (name.ascii, name.unicode) == (ascii_form, unicode_form)


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        (".", "root"),
        ("com", "public suffix"),
        ("co.uk", "public suffix"),
        ("exa mple.com", "IDNA"),
        ("a..b.com", ""),
        ("example.com..", "empty label"),
        ("-rf.com", "command-line option"),
        ("ex_ample.com", ""),
        ("192.0.2.1", "IP address"),
        ("http://192.0.2.1/", "IP address"),
        ("a" * 64 + ".com", ""),
        ("soundsbox\x1b[31m.test", "control characters"),
        ("soundsbox%2etest", "percent"),
        ("https:///path-only", "without a host"),
    ],
)
def test_a_value_that_is_not_a_domain_is_refused_naming_the_field(typed, reason):
    with pytest.raises(InvalidInput) as caught:
        normalise_domain(typed, "domain")
    assert caught.value.field == "domain"
    assert str(caught.value).startswith("invalid domain ")
    assert reason in str(caught.value)


def test_a_hostname_keeps_its_subdomains_and_drops_the_root_dot():
    name = normalise_hostname("NS1.Vienna-Hosting.TEST.")
    assert name.ascii == "ns1.vienna-hosting.test"
    with pytest.raises(InvalidInput, match=r"too long|longer than"):
        normalise_hostname(".".join(["a" * 60] * 5))


@pytest.mark.parametrize(
    "typed",
    [
        "+352.26480123",
        "+352 26 48 01 23",
        "+352 2648-0123",
        "tel:+352-26-48-01-23",
        "TEL:+352.26480123",
        "(+352) 26 48 01 23",
    ],
)
def test_luxembourg_phone_formats_from_whois_and_web_pages_give_one_e164_key(typed):
    assert normalise_phone(typed) == "+35226480123"


@pytest.mark.parametrize(
    "typed", ["+43 1 587 00 00", "+43.15870000", "tel:+43-1-587-00-00", "+43 (1) 5870000"]
)
def test_vienna_phone_formats_give_one_e164_key(typed):
    assert normalise_phone(typed) == "+4315870000"


def test_a_national_phone_number_needs_a_region_and_is_never_guessed():
    with pytest.raises(InvalidInput, match="phone"):
        normalise_phone("01 587 00 00")
    assert normalise_phone("01 587 00 00", region="AT") == "+4315870000"
    assert normalise_phone("26 48 01 23", region="LU") == "+35226480123"


@pytest.mark.parametrize(
    "typed", ["tel:+7-495-123-45-67;ext=12", "+7 495 123 45 67 ext. 12", "+7 495 1234567 x12"]
)
def test_an_extension_is_not_part_of_the_number_key(typed):
    assert normalise_phone(typed) == "+74951234567"


@pytest.mark.parametrize(
    "typed", ["", "abc", "+352.", "+1 23", "12", "+352 2648 0123\x00", "+352 2648 0123 fax"]
)
def test_a_value_that_is_not_a_phone_number_is_refused(typed):
    # "fax" must not be read as the keypad digits 329 and silently change the number.
    with pytest.raises(InvalidInput) as caught:
        normalise_phone(typed)
    assert caught.value.field == "phone"


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("Pedro.Kresker@Example.LU", "pedro.kresker@example.lu"),
        ("  PEDRO.KRESKER@EXAMPLE.LU ", "pedro.kresker@example.lu"),
        ("mailto:Pedro.Kresker@example.lu", "pedro.kresker@example.lu"),
        ("info@Bücher.de", "info@xn--bcher-kva.de"),
        ("roms@Роспатент.рф", "roms@xn--80akybfeikc.xn--p1ai"),
        ("abuse@mail.example.lu.", "abuse@mail.example.lu"),
    ],
)
def test_emails_are_lower_case_with_an_idna_domain(typed, key):
    assert normalise_email(typed) == key


@pytest.mark.parametrize(
    "typed", ["", "pedro", "@example.lu", "pedro@", "pe dro@example.lu", "a@@example.lu", "a@-x.lu"]
)
def test_a_value_that_is_not_an_email_address_is_refused(typed):
    with pytest.raises(InvalidInput) as caught:
        normalise_email(typed)
    assert caught.value.field == "email"


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("HTTP://WWW.SoundsBox.test:80/a/../b/./c?x=1#top", "http://www.soundsbox.test/b/c?x=1"),
        ("https://soundsbox.test", "https://soundsbox.test/"),
        ("HTTPS://SOUNDSBOX.TEST:443/", "https://soundsbox.test/"),
        ("soundsbox.test/shop", "https://soundsbox.test/shop"),
        ("https://soundsbox.test/%7euser", "https://soundsbox.test/~user"),
        ("http://пример.рф/", "http://xn--e1afmkfd.xn--p1ai/"),
        ("http://192.0.2.1:8080/x", "http://192.0.2.1:8080/x"),
    ],
)
def test_urls_are_canonicalised_so_that_one_page_has_one_key(typed, canonical):
    assert normalise_url(typed) == canonical


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "ftp://soundsbox.test/",
        "javascript:alert(1)",
        "mailto:pedro@soundsbox.test",
        "http://",
        "http:///x",
        "http://exa mple.test/",
        "http://a..b/",
        "http://soundsbox.test:99999/",
        "http://soundsbox.test:port/",
        "//soundsbox.test/a",
    ],
)
def test_a_value_that_is_not_a_web_url_is_refused(typed):
    with pytest.raises(InvalidInput) as caught:
        normalise_url(typed)
    assert caught.value.field == "url"


def test_ip_addresses_and_networks_have_one_canonical_form():
    assert normalise_ip(" 2001:DB8:0:0::1 ") == "2001:db8::1"
    assert normalise_ip("[2001:db8::1]") == "2001:db8::1"
    assert normalise_ip("192.0.2.7") == "192.0.2.7"
    assert normalise_network("as64500") == "AS64500"
    assert normalise_network("AS 64500") == "AS64500"
    assert normalise_network("192.0.2.7/24") == "192.0.2.0/24"
    for bad in ("192.0.2.256", "example.test", ""):
        with pytest.raises(InvalidInput, match="ip address"):
            normalise_ip(bad)
    with pytest.raises(InvalidInput, match="32-bit"):
        normalise_network("AS4294967296")


def test_names_that_differ_only_in_case_spacing_width_or_a_trailing_dot_share_a_key():
    assert name_key("ROMS") == name_key(" roms ") == name_key("Roms.") == name_key("ＲＯＭＳ")
    assert name_key("Mediaservices  Inc") == name_key("MEDIASERVICES INC")
    assert name_key("Российское  Мультимедиа") == name_key("российское мультимедиа")
    assert name_key("ROMS") != name_key("FAIR")


def test_prices_keep_exact_decimal_amounts_and_iso_currencies():
    price = parse_price("0.14:usd:Track")
    assert (price.amount, price.currency, price.unit) == (Decimal("0.14"), "USD", "track")
    assert price.as_dict() == {"amount": "0.14", "currency": "USD", "unit": "track"}
    assert parse_price(" 1.76 : USD : album ").as_dict()["amount"] == "1.76"


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "0.14",
        "0.14:USD",
        "0.14:USD:track:extra",
        "abc:USD:track",
        "-1:USD:track",
        "NaN:USD:track",
        "Infinity:USD:track",
        "0.14:US:track",
        "0.14:dollars:track",
        "0.14:USD:",
        "0.14:USD:42",
        "1e400:USD:track",
        "0.0000001:USD:track",
    ],
)
def test_a_price_that_is_not_amount_currency_unit_is_refused(typed):
    with pytest.raises(InvalidInput) as caught:
        parse_price(typed, "--price")
    assert caught.value.field == "--price"


def test_dates_typed_by_people_are_stored_as_utc():
    assert to_iso(parse_when("2009-11-02", "--at")) == "2009-11-02T00:00:00.000000Z"
    assert to_iso(parse_when("2009-11-02T14:30:00+01:00", "--at")) == "2009-11-02T13:30:00.000000Z"
    assert to_iso(parse_when("2009-11-02T14:30:00Z", "--at")) == "2009-11-02T14:30:00.000000Z"
    assert to_iso(parse_when("2009-11-02 14:30", "--at")) == "2009-11-02T14:30:00.000000Z"
    assert parse_when("2009-11-02", "--at") == datetime(2009, 11, 2, tzinfo=UTC)


@pytest.mark.parametrize(
    "typed", ["", "yesterday", "2009-13-01", "2009-02-30", "02/11/2009", "1900-01-01", "2009-11-0"]
)
def test_a_value_that_is_not_a_date_is_refused_naming_the_option(typed):
    with pytest.raises(InvalidInput) as caught:
        parse_when(typed, "--deadline")
    assert caught.value.field == "--deadline"


def test_attributes_are_checked_per_kind_and_unknown_names_kept_as_text():
    clean = validate_attributes(
        EntityKind.STOREFRONT,
        {
            "prices": ["0.14:USD:track", "1.76:usd:album"],
            "catalogue_size": "5,000,000",
            "languages": "en, ru",
            "seen_on": "a forum post",
            "note": None,
        },
    )
    assert clean == {
        "prices": [
            {"amount": "0.14", "currency": "USD", "unit": "track"},
            {"amount": "1.76", "currency": "USD", "unit": "album"},
        ],
        "catalogue_size": 5_000_000,
        "languages": ["en", "ru"],
        "seen_on": "a forum post",
    }
    assert validate_attributes(EntityKind.COLLECTING_SOCIETY, {"country": "ru"}) == {
        "country": "RU"
    }
    assert validate_attributes(EntityKind.PHONE, {"line_type": "FAX"}) == {"line_type": "fax"}


@pytest.mark.parametrize(
    ("kind", "attrs", "field"),
    [
        (EntityKind.COLLECTING_SOCIETY, {"country": "Russia"}, "country"),
        (EntityKind.COLLECTING_SOCIETY, {"recognised_by_labels": "maybe"}, "recognised_by_labels"),
        (EntityKind.PHONE, {"line_type": "pager"}, "line_type"),
        (EntityKind.STOREFRONT, {"catalogue_size": "lots"}, "catalogue_size"),
        (EntityKind.STOREFRONT, {"catalogue_size": "-5"}, "catalogue_size"),
        (EntityKind.STOREFRONT, {"prices": "cheap"}, "prices"),
        (EntityKind.PERSON, {"Country": "LU"}, "attribute name"),
        (EntityKind.PERSON, {"city": "Lux\x07embourg"}, "city"),
    ],
)
def test_an_invalid_attribute_is_refused_naming_it(kind, attrs, field):
    with pytest.raises(InvalidInput) as caught:
        validate_attributes(kind, attrs)
    assert caught.value.field == field


def test_attribute_pairs_split_at_the_first_equals_sign():
    assert parse_attribute_pairs(["country=LU", "note=a=b", "empty="]) == {
        "country": "LU",
        "note": "a=b",
        "empty": "",
    }
    for bad in ("country", "=LU"):
        with pytest.raises(InvalidInput, match="NAME=VALUE"):
            parse_attribute_pairs([bad])
