"""RDAP documents to facts, from the fixture files alone (no network)."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workbench.lookups.rdap_parse import (
    MAX_DEPTH,
    RdapParseError,
    document_port43,
    merge_registration_facts,
    parse_rdap_autnum,
    parse_rdap_domain,
    parse_rdap_ip,
    related_registrar_url,
)
from workbench.lookups.results import Contact, RegistrationFacts

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "rdap"


def raw(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def contact(facts, role: str) -> Contact:
    found = [c for c in facts.contacts if c.role == role]
    assert found, f"no {role} contact in {[c.role for c in facts.contacts]}"
    return found[0]


def domain_doc(**members) -> bytes:
    return json.dumps({"objectClassName": "domain", "ldhName": "x.test", **members}).encode()


def entity(roles: list[str], *props: list) -> dict:
    return {
        "objectClassName": "entity",
        "roles": roles,
        "vcardArray": ["vcard", [["version", {}, "text", "4.0"], *props]],
    }


# -- the Soundsbox case --------------------------------------------------------------------


def test_the_soundsbox_registry_names_the_vienna_registrar_and_links_to_its_rdap():
    facts = parse_rdap_domain(raw("domain-soundsbox.test-registry.json"))
    assert facts.domain == "soundsbox.test"
    assert facts.registrar is not None
    assert facts.registrar.name == "Vienna Domains GmbH"
    assert facts.registrar.iana_id == "9999"
    assert facts.registrar.abuse_email == "abuse@vienna-domains.test"
    assert facts.registrar.rdap_url == "https://rdap.vienna-domains.test/rdap/domain/soundsbox.test"
    assert facts.nameservers == ["ns1.soundsbox.test", "ns2.soundsbox.test"]
    assert facts.created == datetime(2009, 10, 12, 14, 22, 7, tzinfo=UTC)
    assert facts.expires == datetime(2010, 10, 12, 14, 22, 7, tzinfo=UTC)
    assert facts.dnssec == "unsigned"
    # A thin registry: no registrant here, that is the registrar's document's job.
    assert all(c.role != "registrant" for c in facts.contacts)


def test_the_soundsbox_registrar_document_gives_pedro_kresker_whose_phone_is_a_fax():
    facts = parse_rdap_domain(raw("domain-soundsbox.test-registrar.json"))
    registrant = contact(facts, "registrant")
    assert registrant.name == "Pedro Kresker"
    assert registrant.email == "pedro.kresker@soundsbox.test"
    assert registrant.city == "Luxembourg"
    assert registrant.country == "LU"
    assert registrant.phone == "+35226480123"
    assert registrant.fax == "+35226480123"  # the same number, typed fax: the tell-tale
    assert registrant.redacted == []
    registrar = contact(facts, "registrar")
    assert (registrar.name, registrar.city, registrar.country) == (
        "Vienna Domains GmbH",
        "Vienna",
        "AT",
    )
    assert facts.registrar is not None and facts.registrar.country == "AT"
    assert document_port43(raw("domain-soundsbox.test-registrar.json")) == (
        "whois.vienna-domains.test"
    )


def test_merging_keeps_the_registry_facts_and_adds_the_registrars_contacts():
    registry = parse_rdap_domain(raw("domain-soundsbox.test-registry.json"))
    registrar = parse_rdap_domain(raw("domain-soundsbox.test-registrar.json"))
    merged = merge_registration_facts(registry, registrar)
    assert contact(merged, "registrant").name == "Pedro Kresker"
    assert contact(merged, "tech").email == "hostmaster@vienna-domains.test"
    assert merged.registrar is not None
    assert merged.registrar.rdap_url == registry.registrar.rdap_url  # type: ignore[union-attr]
    assert merged.registrar.url == "https://www.vienna-domains.test/"  # from the registrar
    assert merged.created == registry.created
    assert merged.nameservers == ["ns1.soundsbox.test", "ns2.soundsbox.test"]
    # The inputs are not changed by the merge.
    assert all(c.role != "registrant" for c in registry.contacts)


def test_allofmp3_registrant_is_mediaservices_in_moscow():
    facts = parse_rdap_domain(raw("domain-allofmp3.test-registry.json"))
    registrant = contact(facts, "registrant")
    assert registrant.name == "Mediaservices"
    assert registrant.organisation == "MediaServices Inc"
    assert (registrant.city, registrant.country) == ("Moscow", "RU")
    assert registrant.phone == "+74952370123"
    assert related_registrar_url(raw("domain-allofmp3.test-registry.json")) is None


# -- a .com registry and an RFC 9537 registrar ----------------------------------------------


def test_a_verisign_style_document_gives_registrar_abuse_contact_and_related_link():
    data = raw("domain-example.com-verisign.json")
    facts = parse_rdap_domain(data)
    assert facts.domain == "example.com"
    assert facts.registrar is not None
    assert (facts.registrar.name, facts.registrar.iana_id) == ("Example Registrar, Inc.", "9998")
    assert facts.registrar.abuse_email == "abuse@example-registrar.test"
    assert facts.registrar.abuse_phone == "+12025550143"
    assert facts.dnssec == "signed"
    assert "client transfer prohibited" in facts.statuses
    assert facts.updated == datetime(2024, 8, 14, 7, 1, 34, tzinfo=UTC)
    assert related_registrar_url(data) == (
        "https://rdap.example-registrar.test/rdap/domain/EXAMPLE.COM"
    )
    # Verisign's abuse entity has an empty fn: not a privacy redaction.
    assert contact(facts, "abuse").redacted == []
    assert facts.redacted == []


def test_rfc9537_redacted_fields_are_none_and_listed_where_they_were_redacted():
    facts = parse_rdap_domain(raw("domain-example.com-registrar.json"))
    registrant = contact(facts, "registrant")
    assert registrant.name is None  # emptyValue
    assert registrant.email is None  # replacementValue: a web form, not an address
    assert registrant.phone is None  # removal
    assert registrant.street is None and registrant.city is None
    assert {"name", "email", "phone", "street", "city", "postal_code", "handle"} <= set(
        registrant.redacted
    )
    # What was not redacted stays.
    assert registrant.organisation == "Example Holdings LLC"
    assert registrant.country == "US"
    tech = contact(facts, "tech")
    assert tech.name is None and tech.email is None  # "REDACTED FOR PRIVACY"
    assert {"Registrant Email", "Tech Name", "registrant.email", "tech.name"} <= set(facts.redacted)


def test_a_placeholder_without_an_rfc9537_entry_is_still_redacted():
    data = domain_doc(
        entities=[
            entity(
                ["registrant"],
                ["fn", {}, "text", "REDACTED FOR PRIVACY"],
                ["org", {}, "text", "Privacy service provided by Withheld for Privacy ehf"],
                ["email", {}, "text", "abc123@withheldforprivacy.com"],
                [
                    "adr",
                    {"cc": "IS"},
                    "text",
                    ["", "", "Kalkofnsvegur 2", "Reykjavik", "", "101", "IS"],
                ],
            )
        ]
    )
    registrant = contact(parse_rdap_domain(data), "registrant")
    assert (registrant.name, registrant.organisation, registrant.email) == (None, None, None)
    assert registrant.city == "Reykjavik"
    assert registrant.redacted == ["name", "organisation", "email"]


def test_a_redaction_given_only_by_path_is_understood():
    data = domain_doc(
        entities=[entity(["registrant"], ["fn", {}, "text", "Jane Roe"])],
        redacted=[
            {
                "name": {"description": "contact email withheld"},
                "prePath": (
                    "$.entities[?(@.roles[0]=='registrant')].vcardArray[1][?(@[0]=='email')]"
                ),
                "method": "removal",
            }
        ],
    )
    facts = parse_rdap_domain(data)
    assert contact(facts, "registrant").redacted == ["email"]
    assert contact(facts, "registrant").name == "Jane Roe"
    assert "contact email withheld" in facts.redacted


def test_a_registrant_removed_entirely_is_reported_as_a_redacted_contact():
    data = domain_doc(redacted=[{"name": {"type": "Registrant Name"}, "method": "removal"}])
    registrant = contact(parse_rdap_domain(data), "registrant")
    assert registrant.name is None and registrant.redacted == ["name"]


def test_the_registrar_document_fills_what_the_registry_redacted():
    registry = RegistrationFacts(
        domain="x.test",
        contacts=[Contact(role="registrant", redacted=["name", "email"])],
        redacted=["registrant.name", "registrant.email", "Registrant Name"],
    )
    registrar = RegistrationFacts(
        domain="x.test",
        contacts=[Contact(role="registrant", name="Jane Roe", redacted=["email"])],
        redacted=["registrant.email"],
    )
    merged = merge_registration_facts(registry, registrar)
    registrant = contact(merged, "registrant")
    assert registrant.name == "Jane Roe"
    assert registrant.redacted == ["email"]
    assert merged.redacted == ["Registrant Name", "registrant.email"]


# -- jCard details --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "phone", "fax"),
    [
        ({"type": "voice"}, "+35226480123", None),
        ({"type": "fax"}, None, "+35226480123"),
        ({"type": ["voice", "fax"]}, "+35226480123", "+35226480123"),
        ({"type": "work,fax"}, None, "+35226480123"),
        ({}, "+35226480123", None),
    ],
    ids=["voice", "fax", "both", "comma-list", "untyped-is-voice"],
)
def test_the_tel_type_parameter_decides_phone_or_fax(params, phone, fax):
    data = domain_doc(
        entities=[entity(["registrant"], ["tel", params, "uri", "tel:+352.26480123"])]
    )
    registrant = contact(parse_rdap_domain(data), "registrant")
    assert (registrant.phone, registrant.fax) == (phone, fax)


@pytest.mark.parametrize(
    ("params", "last", "country"),
    [
        ({"cc": "at"}, "Austria", "AT"),
        ({}, "LU", "LU"),
        ({}, "Luxembourg", None),  # a name, not a code: the evidence keeps the text
    ],
)
def test_the_country_comes_from_the_cc_parameter_or_a_code_in_the_last_element(
    params, last, country
):
    adr = ["adr", params, "text", ["", "", "Street 1", "Town", "", "1000", last]]
    data = domain_doc(entities=[entity(["registrant"], adr)])
    assert contact(parse_rdap_domain(data), "registrant").country == country


def test_event_dates_are_aware_utc_whatever_zone_they_are_written_in():
    data = domain_doc(
        events=[
            {"eventAction": "registration", "eventDate": "2005-07-19T10:32:11-04:00"},
            {"eventAction": "expiration", "eventDate": "2030-01-01"},
            {"eventAction": "last changed", "eventDate": "not a date"},
        ]
    )
    facts = parse_rdap_domain(data)
    assert facts.created == datetime(2005, 7, 19, 14, 32, 11, tzinfo=UTC)
    assert facts.expires == datetime(2030, 1, 1, tzinfo=UTC)
    assert facts.updated is None


# -- networks and autonomous systems ----------------------------------------------------------


def test_a_ripe_style_network_gives_name_country_block_and_abuse_mailbox():
    facts = parse_rdap_ip(raw("ip-192.0.2.10.json"), query="192.0.2.10")
    assert facts.query == "192.0.2.10"
    assert facts.name == "REDSQUARE-HOSTING-NET"
    assert facts.country == "RU"
    assert facts.cidrs == ["192.0.2.0/24"]
    assert facts.organisation == "Red Square Hosting LLC"
    assert facts.abuse_email == "abuse@redsquare-hosting.test"
    assert facts.asn is None  # RIPE's network objects do not name the origin AS
    assert contact(facts, "registrant").street == (
        "Tverskaya ulitsa 7, Moscow, 125009, RUSSIAN FEDERATION"
    )


def test_an_arin_style_network_names_its_origin_as_and_abuse_phone():
    facts = parse_rdap_ip(raw("ip-198.51.100.20.json"), query="198.51.100.20")
    assert (facts.handle, facts.name) == ("NET-198-51-100-0-1", "NORTHSTAR-COLO-1")
    assert facts.asn == 64501
    assert facts.country == "US"
    assert (facts.start_address, facts.end_address) == ("198.51.100.0", "198.51.100.255")
    assert facts.abuse_email == "abuse@northstar-colo.test"
    assert facts.abuse_phone == "+17035550142"
    assert facts.organisation == "Northstar Colocation Inc."


def test_an_ipv6_network_gives_its_prefix():
    facts = parse_rdap_ip(raw("ip-2001-db8--10.json"), query="2001:db8::10")
    assert facts.cidrs == ["2001:db8::/32"]
    assert facts.asn == 64501


def test_without_cidr0_the_blocks_come_from_the_address_range():
    data = json.dumps(
        {"objectClassName": "ip network", "startAddress": "10.0.0.0", "endAddress": "10.0.2.255"}
    ).encode()
    assert parse_rdap_ip(data).cidrs == ["10.0.0.0/23", "10.0.2.0/24"]


def test_autnum_documents_give_the_as_number_name_and_holder():
    ripe = parse_rdap_autnum(raw("autnum-64500.json"))
    assert (ripe.query, ripe.asn, ripe.name, ripe.country) == (
        "AS64500",
        64500,
        "REDSQUARE-AS",
        "RU",
    )
    assert ripe.abuse_email == "abuse@redsquare-hosting.test"
    arin = parse_rdap_autnum(raw("autnum-64501.json"))
    assert (arin.asn, arin.organisation, arin.country) == (
        64501,
        "Northstar Colocation Inc.",
        "US",
    )


# -- hostile and odd input ----------------------------------------------------------------------


def nested(depth: int) -> bytes:
    inner = "[" * (depth - 1) + "]" * (depth - 1)
    return ('{"objectClassName": "domain", "ldhName": "x.test", "remarks": ' + inner + "}").encode()


def test_nesting_up_to_the_limit_is_fine_and_beyond_it_is_refused():
    assert parse_rdap_domain(nested(MAX_DEPTH)).domain == "x.test"
    with pytest.raises(RdapParseError, match="nested deeper"):
        parse_rdap_domain(nested(MAX_DEPTH + 1))


def test_nesting_deep_enough_to_break_the_json_module_is_refused_cleanly():
    with pytest.raises(RdapParseError, match="nested deeper"):
        parse_rdap_domain(nested(200_000))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"[]", "JSON list, not an object"),
        (b'"domain"', "JSON str, not an object"),
        (b"{broken", "not valid JSON"),
        (b"\xff\xfe{}", "not UTF-8"),
        (b'{"objectClassName": "entity", "handle": "X"}', "'entity' object, not 'domain'"),
        (b'{"errorCode": 404, "title": "Not Found", "objectClassName": "x"}', "RDAP error 404"),
        (b'{"errorCode": 403, "title": "Forbidden"}', "RDAP error 403: Forbidden"),
        (b'{"objectClassName": "domain"}', "no ldhName"),
        (b'{"n": ' + b"1" * 5000 + b"}", "not valid JSON"),
    ],
)
def test_what_is_not_a_domain_document_is_refused_with_a_reason(data, message):
    with pytest.raises(RdapParseError, match=message):
        parse_rdap_domain(data)


def test_a_document_over_the_size_cap_is_refused_before_parsing():
    with pytest.raises(RdapParseError, match="over the 100 cap"):
        parse_rdap_domain(domain_doc(remarks=["x" * 200]), max_bytes=100)


def test_odd_shapes_inside_a_document_are_skipped_not_fatal():
    data = domain_doc(
        entities=[
            "not an entity",
            {"roles": "registrant", "vcardArray": "nope"},
            {"roles": ["registrant"], "vcardArray": ["vcard", [["fn"], [1, 2, 3, 4], None]]},
            {"roles": ["registrar"], "publicIds": [None, {"type": 5}], "vcardArray": [1]},
        ],
        events=[None, {"eventAction": 3, "eventDate": []}],
        nameservers=[{"ldhName": 7}, "ns.x.test", {"ldhName": "NS1.X.TEST."}],
        status="active",
        links={"rel": "related"},
        secureDNS=[],
        redacted=[{"name": "Registrant Name"}, None],
    )
    facts = parse_rdap_domain(data)
    assert facts.nameservers == ["ns1.x.test"]
    assert facts.statuses == [] and facts.created is None and facts.dnssec is None


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5)
    ),
    max_leaves=25,
)
RDAP_KEYS = st.sampled_from(
    [
        "objectClassName",
        "ldhName",
        "entities",
        "roles",
        "vcardArray",
        "events",
        "eventAction",
        "eventDate",
        "nameservers",
        "links",
        "rel",
        "type",
        "href",
        "redacted",
        "name",
        "prePath",
        "publicIds",
        "identifier",
        "startAddress",
        "endAddress",
        "cidr0_cidrs",
        "v4prefix",
        "length",
        "startAutnum",
        "handle",
        "country",
        "secureDNS",
        "status",
        "arin_originas0_originautnums",
    ]
)
RDAP_LIKE = st.recursive(
    st.none()
    | st.integers(-5, 70000)
    | st.sampled_from(["domain", "ip network", "autnum", "registrant", "fax", "x.test", ""])
    | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=6) | st.dictionaries(RDAP_KEYS, children, max_size=6)
    ),
    max_leaves=30,
)
PARSERS = (
    parse_rdap_domain,
    parse_rdap_ip,
    parse_rdap_autnum,
    related_registrar_url,
    document_port43,
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(JSON_VALUES | RDAP_LIKE)
def test_any_json_gives_facts_or_an_rdap_parse_error_and_never_another_exception(value):
    data = json.dumps(value).encode()
    for parse in PARSERS:
        with contextlib.suppress(RdapParseError):
            parse(data)


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=200))
def test_any_bytes_give_facts_or_an_rdap_parse_error(data):
    for parse in PARSERS:
        with contextlib.suppress(RdapParseError):
            parse(data)
