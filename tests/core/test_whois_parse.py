"""WHOIS text -> facts, from recorded-layout fixtures, with no network."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workbench.domain.normalise import normalise_hostname, normalise_phone
from workbench.domain.redaction import is_redacted
from workbench.lookups.results import Contact, RegistrationFacts
from workbench.lookups.whois_parse import (
    WhoisParseError,
    decode_whois,
    has_registration_data,
    merge_registry_and_registrar,
    parse_whois,
    whois_not_found,
    whois_rate_limited,
    whois_referral,
)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "whois"

RECORDS = {
    "com_verisign_thin": "melodymart-example.com",
    "com_registrar_thick_redacted": "melodymart-example.com",
    "ru_tci": "pesni-magazin.ru",
    "lu_dnslu": "chansons-exemple.lu",
    "at_nicat": "klangarchiv-beispiel.at",
    "de_denic": "musikladen-beispiel.de",
    "soundsbox_test_registry": "soundsbox.test",
    "soundsbox_test_registrar": "soundsbox.test",
    "allofmp3_test_registry": "allofmp3.test",
}


def parsed(name: str, domain: str | None = None) -> RegistrationFacts:
    text = decode_whois((FIXTURES / f"{name}.txt").read_bytes())
    return parse_whois(normalise_hostname(domain or RECORDS[name]), text)


def contact(facts: RegistrationFacts, role: str) -> Contact:
    matches = [c for c in facts.contacts if c.role == role]
    assert matches, f"no {role} contact in {facts.contacts}"
    return matches[0]


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


# --- the demo case --------------------------------------------------------------------


def test_soundsbox_registry_record_names_the_vienna_registrar_and_refers_to_it():
    facts = parsed("soundsbox_test_registry")
    assert facts.registrar.name == "Vienna Domains GmbH"
    assert facts.registrar.iana_id == "9999"
    assert facts.registrar.whois_server == "whois.viennadomains.test"
    assert facts.registrar.abuse_email == "abuse@viennadomains.test"
    assert facts.nameservers == ["ns1.soundsbox.test", "ns2.soundsbox.test"]
    assert facts.created == utc(2009, 10, 12, 14, 3, 27)
    assert not [c for c in facts.contacts if c.role == "registrant"]


def test_soundsbox_registrar_record_gives_pedro_kresker_of_luxembourg_with_phone_equal_to_fax():
    facts = parsed("soundsbox_test_registrar")
    registrant = contact(facts, "registrant")
    assert registrant.name == "Pedro Kresker"
    assert registrant.city == "Luxembourg"
    assert registrant.country == "LU"
    assert registrant.email == "pedro.kresker@soundsbox.test"
    assert registrant.phone == normalise_phone("+352.26480123") == "+35226480123"
    assert registrant.fax == registrant.phone  # the "phone" is a fax line
    assert registrant.redacted == []
    assert facts.created == utc(2009, 10, 12, 14, 3, 27)
    assert facts.nameservers == ["ns1.soundsbox.test", "ns2.soundsbox.test"]
    assert contact(facts, "abuse").email == "abuse@viennadomains.test"


def test_allofmp3_record_gives_mediaservices_of_moscow_with_the_name_redacted():
    facts = parsed("allofmp3_test_registry")
    registrant = contact(facts, "registrant")
    assert registrant.organisation == "Mediaservices"
    assert registrant.city == "Moscow"
    assert registrant.country == "RU"
    assert registrant.name is None and "name" in registrant.redacted
    assert registrant.email is None and "email" in registrant.redacted
    assert "registrant.name" in facts.redacted
    assert facts.nameservers == ["ns1.allofmp3.test", "ns2.allofmp3.test"]
    assert "serverHold" in facts.statuses


def test_scenario_records_say_they_are_illustrative():
    for name in RECORDS:
        if name.endswith(("_test_registry", "_test_registrar")):
            first_line = (FIXTURES / f"{name}.txt").read_text().splitlines()[0]
            assert first_line.startswith("% source: illustrative")


# --- real registry layouts ------------------------------------------------------------


def test_verisign_thin_record_gives_registrar_dates_and_clean_statuses():
    facts = parsed("com_verisign_thin")
    assert facts.registrar.name == "Harbour Names Inc."
    assert facts.registrar.iana_id == "9997"
    assert facts.registrar.whois_server == "whois.harbournames.example"
    assert facts.registrar.abuse_phone == "+14165550142"
    assert facts.statuses == ["clientTransferProhibited", "clientUpdateProhibited"]
    assert facts.nameservers == ["ns1.harbourdns.example", "ns2.harbourdns.example"]
    assert (facts.created, facts.updated, facts.expires) == (
        utc(2019, 4, 2, 16, 22, 51),
        utc(2024, 3, 18, 7, 41, 9),
        utc(2025, 4, 2, 16, 22, 51),
    )
    assert facts.dnssec == "unsigned"


def test_gdpr_redacted_fields_are_left_empty_and_listed_as_redacted():
    facts = parsed("com_registrar_thick_redacted")
    registrant = contact(facts, "registrant")
    assert registrant.organisation == "Melody Mart Ltd"  # organisations stay public
    assert registrant.country == "GB"
    for name in ("name", "street", "city", "postal_code", "phone", "fax", "email"):
        assert getattr(registrant, name) is None
        assert name in registrant.redacted
        assert f"registrant.{name}" in facts.redacted
    for c in facts.contacts:
        for name in ("name", "organisation", "email", "phone", "fax", "street", "city"):
            value = getattr(c, name)
            assert value is None or not is_redacted(value), (c.role, name, value)


def test_tci_ru_record_gives_the_organisation_and_bare_nameservers():
    facts = parsed("ru_tci")
    assert contact(facts, "registrant").organisation == 'LLC "Pesni Magazin"'
    assert facts.registrar.name == "RU-CENTER-RU"
    assert facts.nameservers == ["ns1.pesni-magazin.ru", "ns2.pesni-magazin.ru"]
    assert facts.statuses == ["REGISTERED", "DELEGATED", "VERIFIED"]
    assert facts.created == utc(2006, 3, 14, 8, 5, 11)
    assert facts.expires == utc(2025, 3, 14, 21, 0, 0)


def test_dns_lu_record_reads_day_first_dates_and_prefixed_contacts():
    facts = parsed("lu_dnslu")
    assert facts.created == utc(2009, 3, 5)  # "05/03/2009" is 5 March, not 3 May
    holder = contact(facts, "registrant")
    assert holder.organisation == "Chansons Exemple S.à r.l."
    assert (holder.city, holder.postal_code, holder.country) == ("Luxembourg", "1212", "LU")
    assert contact(facts, "admin").email == "marie@chansons-exemple.lu"
    assert contact(facts, "tech").city == "Strassen"
    assert facts.registrar.name == "Hebergement Exemple S.A."
    assert facts.registrar.country == "LU"
    assert facts.nameservers == ["ns1.hebergement-exemple.lu", "ns2.hebergement-exemple.lu"]


def test_nic_at_record_resolves_contact_handles_with_phone_fax_and_country_code():
    facts = parsed("at_nicat")
    holder = contact(facts, "registrant")
    assert holder.handle == "WKG8812345-NICAT"
    assert holder.organisation == "Wiener Klangarchiv GmbH"
    assert holder.phone == "+4312145678"
    assert holder.fax == "+43121456789"
    assert holder.country == "AT"  # nic.at writes "Austria"
    tech = contact(facts, "tech")
    assert tech.email == "hostmaster@donaudomains.example"
    assert facts.registrar.name == "Donau Domains GmbH"
    assert facts.registrar.url == "https://nic.at/registrar/9996"
    assert facts.updated == utc(2023, 9, 1, 10, 12, 17)


def test_denic_record_keeps_tech_and_zone_contacts_and_invents_no_holder():
    facts = parsed("de_denic")
    assert [c.role for c in facts.contacts] == ["tech", "tech"]
    assert [c.email for c in facts.contacts] == [
        "hostmaster@hostdienst-beispiel.de",
        "dns-ops@hostdienst-beispiel.de",
    ]
    assert facts.contacts[0].fax == "+493012345679"
    assert facts.updated == utc(2023, 6, 14, 7, 31, 55)  # +02:00 turned into UTC
    assert facts.dnssec == "signedDelegation"  # it publishes a Dnskey
    assert facts.statuses == ["connect"]


def test_a_layout_only_python_whois_knows_still_gives_the_registrant():
    nominet = """
    Domain name:
        melodymart-example.co.uk

    Registrant:
        Melody Mart Ltd

    Registrar:
        Harbour Names Ltd [Tag = HARBOUR]
        URL: https://www.harbournames.example

    Relevant dates:
        Registered on: 12-Jun-2001
        Expiry date:  12-Jun-2025
        Last updated:  03-May-2024
"""
    facts = parse_whois(normalise_hostname("melodymart-example.co.uk"), nominet)
    assert contact(facts, "registrant").name == "Melody Mart Ltd"
    assert facts.registrar.name.startswith("Harbour Names Ltd")
    assert facts.created == utc(2001, 6, 12)


def test_every_record_fixture_has_registration_data_and_is_neither_refusal_nor_absence():
    for name in RECORDS:
        text = decode_whois((FIXTURES / f"{name}.txt").read_bytes())
        assert has_registration_data(parsed(name)), name
        assert not whois_not_found(text), name
        assert not whois_rate_limited(text), name


def test_not_found_and_rate_limit_answers_are_recognised():
    assert whois_not_found((FIXTURES / "not_found_verisign.txt").read_text())
    assert whois_rate_limited((FIXTURES / "rate_limited_pir.txt").read_text())
    for text in (
        "%ERROR:101: no entries found\n",
        "No entries found for the selected source(s).\n",
        "Domain: frei-beispiel.de\nStatus: free\n",
        "% nothing found\n",
        "% No such domain\n",
        "NOT FOUND\n",
    ):
        assert whois_not_found(text), text
    for text in (
        "Query rate limit exceeded. Try again later.\n",
        "% Error: 55000000002 Connection refused; access control limit reached.\n",
        "Too many requests\n",
        "Your quota has been exhausted\n",
    ):
        assert whois_rate_limited(text), text


def test_referrals_in_their_several_spellings():
    assert whois_referral("refer:        whois.verisign-grs.com\n") == "whois.verisign-grs.com"
    assert whois_referral("ReferralServer:  whois://whois.ripe.net\n") == "whois.ripe.net"
    assert whois_referral("ReferralServer: whois://whois.example:4343/\n") == "whois.example:4343"
    assert whois_referral("   Registrar WHOIS Server: WHOIS.Example.NET\n") == "whois.example.net"


def test_referrals_that_are_not_whois_servers_are_ignored():
    assert whois_referral("ReferralServer: rwhois://rwhois.example.net:4321/\n") is None
    assert whois_referral("Registrar WHOIS Server: https://www.example.net/whois\n") is None
    assert whois_referral("Registrar WHOIS Server: \nRegistrar URL: http://x\n") is None
    assert whois_referral("Registrar WHOIS Server: a;rm -rf /\n") is None


# --- decoding -------------------------------------------------------------------------


def test_decoding_falls_back_to_windows_1251_for_cyrillic_and_latin_1_otherwise():
    russian = "org:           ООО «Песни»\n"
    assert decode_whois(russian.encode("cp1251"), "ru") == russian
    assert decode_whois(russian.encode("cp1251")) == russian  # runs of high bytes: Cyrillic
    german = "City: Düsseldorf\r\nStreet: Königsallee 1\r\n"
    assert decode_whois(german.encode("latin-1"), "de") == german.replace("\r\n", "\n")
    assert decode_whois(russian.encode("utf-8"), "de") == russian


def test_binary_garbage_is_refused_with_a_typed_error():
    with pytest.raises(WhoisParseError, match="binary"):
        decode_whois(bytes(range(256)) * 4)
    with pytest.raises(WhoisParseError):
        parse_whois(normalise_hostname("x.test"), "Domain Name: X\x00\x01")


# --- registry + registrar -------------------------------------------------------------


def test_merge_takes_contacts_from_the_registrar_and_dates_from_the_registry():
    registry = parsed("soundsbox_test_registry")
    registrar = parsed("soundsbox_test_registrar")
    registrar.created = utc(2001, 1, 1)  # a registrar that disagrees loses on dates
    merged = merge_registry_and_registrar(registry, registrar)
    assert merged.created == utc(2009, 10, 12, 14, 3, 27)
    assert contact(merged, "registrant").name == "Pedro Kresker"
    assert [c.role for c in merged.contacts].count("abuse") == 1
    assert merged.contacts[-1].role == "abuse"
    assert merged.registrar.iana_id == "9999"


# --- hostile input --------------------------------------------------------------------

WHOIS_KEYS = [
    "Domain Name",
    "Registrar",
    "Registrar IANA ID",
    "Registrar WHOIS Server",
    "Creation Date",
    "Registry Expiry Date",
    "Name Server",
    "Domain Status",
    "Registrant Phone",
    "Registrant Fax",
    "Registrant Email",
    "Registrant Country",
    "nserver",
    "created",
    "paid-till",
    "registered",
    "tech-c",
    "nic-hdl",
    "org-name",
    "adm-email",
    "[Tech-C]",
    "Phone",
    "DNSSEC",
]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=400))
def test_random_text_never_crashes_the_parser(text: str):
    for domain in ("x.test", "x.de", "x.at", "x.lu", "x.ru", "x.com"):
        try:
            facts = parse_whois(normalise_hostname(domain), text)
        except WhoisParseError:
            continue
        assert isinstance(facts, RegistrationFacts)
    whois_not_found(text)
    whois_rate_limited(text)
    whois_referral(text)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(st.sampled_from(WHOIS_KEYS), st.text(max_size=40)),
        max_size=25,
    )
)
def test_whois_shaped_text_with_random_values_never_crashes_the_parser(pairs):
    text = "\n".join(f"{key}: {value}" for key, value in pairs)
    try:
        facts = parse_whois(normalise_hostname("x.at"), text)
    except WhoisParseError:
        return
    for ns in facts.nameservers:
        assert ns == ns.lower() and not ns.endswith(".")
    for when in (facts.created, facts.updated, facts.expires):
        assert when is None or when.utcoffset().total_seconds() == 0


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=600))
def test_random_bytes_decode_to_text_or_a_typed_error(raw: bytes):
    try:
        text = decode_whois(raw)
    except WhoisParseError:
        return
    assert isinstance(text, str)
