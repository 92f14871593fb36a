"""DNS answers read from stored wire bytes alone, with no network.

The .bin fixtures are answers Knot sent for the fixture zones (tests/fixtures/dns), one
file per query, named `NAME_TYPE.bin`. Re-record them with
`.venv/bin/python -m tests.core.test_dns_parse --record` after changing a zone.
"""

from __future__ import annotations

import contextlib
import struct
import sys
from datetime import UTC, datetime
from pathlib import Path

import dns.flags
import dns.message
import dns.rrset
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workbench.lookups.dns_parse import (
    DnsParseError,
    dns_facts_from_captures,
    parse_dns_response,
    render_dns_capture,
    summarise_dns_facts,
)
from workbench.lookups.results import Capture, DnsFacts, LookupStatus

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "dns"
SOUNDSBOX_QUERIES = [
    "soundsbox.test A",
    "soundsbox.test AAAA",
    "soundsbox.test CNAME",
    "soundsbox.test MX",
    "soundsbox.test NS",
    "soundsbox.test TXT",
    "soundsbox.test SOA",
    "soundsbox.test CAA",
    "10.2.0.192.in-addr.arpa PTR",
    "0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa PTR",
]
OTHER_QUERIES = [
    "www.soundsbox.test A",
    "nosuch.soundsbox.test A",
    "shop.soundsbox.test MX",
    "broken.test A",
    "11.2.0.192.in-addr.arpa PTR",
]


def fixture_path(query: str) -> Path:
    return FIXTURES / (query.replace(" ", "_") + ".bin")


def capture(query: str, raw: bytes | None = None) -> Capture:
    return Capture(
        protocol="dns",
        server="127.0.0.1:53",
        query=query,
        raw=fixture_path(query).read_bytes() if raw is None else raw,
        started_at=datetime(2024, 1, 1, tzinfo=UTC),
        elapsed_s=0.001,
        media_type="application/dns-message",
    )


def soundsbox_captures() -> list[Capture]:
    return [capture(q) for q in SOUNDSBOX_QUERIES]


def answer_bytes(
    name: str, rdtype: str, rcode: int = 0, records: list[str] = (), flags: int = 0
) -> bytes:
    """A response built here, for shapes Knot will not send (truncated, mismatched)."""
    query = dns.message.make_query(name, rdtype)
    response = dns.message.make_response(query)
    response.set_rcode(rcode)
    response.flags |= flags
    for text in records:
        response.answer.append(dns.rrset.from_text(name + ".", 300, "IN", rdtype, text))
    return response.to_wire()


# --- one message ---------------------------------------------------------------------


def test_an_mx_answer_reads_as_host_and_preference_with_header_flags():
    response = parse_dns_response(fixture_path("soundsbox.test MX").read_bytes())
    assert response.rcode == "NOERROR"
    assert {"QR", "AA"} <= response.flags
    assert response.question.name == "soundsbox.test"
    assert response.question.rdtype == "MX"
    [mx] = response.answer
    assert (mx.owner, mx.rdtype, mx.value, mx.priority, mx.ttl) == (
        "soundsbox.test",
        "MX",
        "mail.soundsbox.test",
        10,
        3600,
    )
    assert mx.text == "10 mail.soundsbox.test."


def test_an_nxdomain_answer_carries_the_zone_soa_in_authority():
    response = parse_dns_response(fixture_path("nosuch.soundsbox.test A").read_bytes())
    assert response.rcode == "NXDOMAIN"
    assert response.answer == ()
    assert [r.rdtype for r in response.authority] == ["SOA"]


def test_bytes_too_short_for_a_header_are_a_parse_error():
    with pytest.raises(DnsParseError, match="12-byte DNS header"):
        parse_dns_response(b"\x12\x34\x81")


def test_trailing_bytes_after_the_last_record_are_a_parse_error():
    raw = fixture_path("soundsbox.test A").read_bytes() + b"junk"
    with pytest.raises(DnsParseError, match="left over"):
        parse_dns_response(raw)


def test_a_message_cut_mid_record_is_a_parse_error():
    raw = fixture_path("soundsbox.test TXT").read_bytes()
    with pytest.raises(DnsParseError):
        parse_dns_response(raw[:-5])


# --- facts from captures --------------------------------------------------------------


def test_facts_rebuilt_from_stored_answers_hold_every_record_of_soundsbox():
    facts = dns_facts_from_captures("soundsbox.test", soundsbox_captures())
    assert facts.records == {
        "A": ["192.0.2.10"],
        "AAAA": ["2001:db8::10"],
        "MX": ["mail.soundsbox.test"],
        "NS": ["ns1.soundsbox.test", "ns2.soundsbox.test"],
        "TXT": ["v=spf1 ip4:192.0.2.0/24 -all"],
        "SOA": ["ns1.soundsbox.test. hostmaster.soundsbox.test. 2024010101 7200 3600 1209600 3600"],
        "CAA": ['0 issue "letsencrypt.org"'],
    }
    assert facts.outcomes["CNAME"] is LookupStatus.NO_DATA
    assert all(facts.outcomes[t] is LookupStatus.OK for t in facts.records)
    assert facts.ptr == {"192.0.2.10": ["soundsbox.test"], "2001:db8::10": ["soundsbox.test"]}
    assert facts.ptr_outcomes == {
        "192.0.2.10": LookupStatus.OK,
        "2001:db8::10": LookupStatus.OK,
    }
    assert facts.addresses == ["192.0.2.10", "2001:db8::10"]


def test_facts_do_not_depend_on_the_order_captures_were_stored_in():
    forward = dns_facts_from_captures("soundsbox.test", soundsbox_captures())
    backward = dns_facts_from_captures("soundsbox.test", soundsbox_captures()[::-1])
    assert forward == backward
    assert list(backward.records) == ["A", "AAAA", "MX", "NS", "TXT", "SOA", "CAA"]


def test_an_alias_answer_records_the_cname_target_and_the_target_addresses():
    facts = dns_facts_from_captures("www.soundsbox.test", [capture("www.soundsbox.test A")])
    assert facts.records == {"A": ["192.0.2.10"], "CNAME": ["soundsbox.test"]}
    assert facts.outcomes == {"A": LookupStatus.OK}


def test_nxdomain_is_not_found():
    facts = dns_facts_from_captures("nosuch.soundsbox.test", [capture("nosuch.soundsbox.test A")])
    assert facts.outcomes == {"A": LookupStatus.NOT_FOUND}
    assert facts.reasons == {"A": "NXDOMAIN"}
    assert summarise_dns_facts(facts)[0] is LookupStatus.NOT_FOUND


def test_an_existing_name_without_mx_has_no_data_for_mx():
    facts = dns_facts_from_captures("shop.soundsbox.test", [capture("shop.soundsbox.test MX")])
    assert facts.outcomes == {"MX": LookupStatus.NO_DATA}
    assert "MX" not in facts.records


def test_servfail_is_failed_and_names_the_rcode():
    facts = dns_facts_from_captures("broken.test", [capture("broken.test A")])
    assert facts.outcomes == {"A": LookupStatus.FAILED}
    assert facts.reasons["A"] == "server answered SERVFAIL"


def test_an_address_without_reverse_name_has_a_not_found_ptr():
    facts = dns_facts_from_captures("shop.soundsbox.test", [capture("11.2.0.192.in-addr.arpa PTR")])
    assert facts.ptr == {}
    assert facts.ptr_outcomes == {"192.0.2.11": LookupStatus.NOT_FOUND}


def test_a_truncated_answer_is_failed_not_empty():
    raw = answer_bytes("soundsbox.test", "TXT", flags=dns.flags.TC)
    facts = dns_facts_from_captures("soundsbox.test", [capture("soundsbox.test TXT", raw)])
    assert facts.outcomes == {"TXT": LookupStatus.FAILED}
    assert "truncated" in facts.reasons["TXT"]


def test_an_answer_to_another_question_is_failed():
    raw = answer_bytes("allofmp3.test", "A", records=["198.51.100.20"])
    facts = dns_facts_from_captures("soundsbox.test", [capture("soundsbox.test A", raw)])
    assert facts.outcomes == {"A": LookupStatus.FAILED}
    assert facts.records == {}
    assert "another question (allofmp3.test A)" in facts.reasons["A"]


def test_a_stored_query_instead_of_an_answer_is_failed():
    raw = dns.message.make_query("soundsbox.test", "A").to_wire()
    facts = dns_facts_from_captures("soundsbox.test", [capture("soundsbox.test A", raw)])
    assert facts.outcomes == {"A": LookupStatus.FAILED}


def test_malformed_stored_bytes_make_that_type_failed_and_keep_the_others():
    captures = soundsbox_captures()
    captures[3] = capture("soundsbox.test MX", b"\x00\x01garbage")
    facts = dns_facts_from_captures("soundsbox.test", captures)
    assert facts.outcomes["MX"] is LookupStatus.FAILED
    assert facts.reasons["MX"].startswith("malformed answer")
    assert facts.records["A"] == ["192.0.2.10"]
    status, reason = summarise_dns_facts(facts)
    assert status is LookupStatus.OK
    assert "(MX)" in reason


def test_captures_of_other_names_and_protocols_are_ignored():
    whois = Capture(
        "whois", "127.0.0.1:43", "soundsbox.test", b"Domain Name: x", datetime.now(UTC), 0.1
    )
    facts = dns_facts_from_captures(
        "soundsbox.test", [whois, capture("www.soundsbox.test A"), capture("soundsbox.test MX")]
    )
    assert facts.outcomes == {"MX": LookupStatus.OK}
    assert facts.records == {"MX": ["mail.soundsbox.test"]}


def test_values_are_sorted_so_a_rotated_answer_gives_the_same_facts():
    one = answer_bytes("pool.test", "A", records=["192.0.2.3", "192.0.2.1", "192.0.2.20"])
    two = answer_bytes("pool.test", "A", records=["192.0.2.20", "192.0.2.3", "192.0.2.1"])
    facts_one = dns_facts_from_captures("pool.test", [capture("pool.test A", one)])
    facts_two = dns_facts_from_captures("pool.test", [capture("pool.test A", two)])
    assert facts_one == facts_two
    assert facts_one.records["A"] == ["192.0.2.1", "192.0.2.3", "192.0.2.20"]


def test_mx_hosts_are_listed_by_preference_lower_case_without_root_dot():
    raw = answer_bytes("m.test", "MX", records=["20 MX2.Example.TEST.", "5 mx1.example.test."])
    facts = dns_facts_from_captures("m.test", [capture("m.test MX", raw)])
    assert facts.records["MX"] == ["mx1.example.test", "mx2.example.test"]


def test_a_txt_record_split_into_strings_is_one_joined_value():
    raw = answer_bytes("t.test", "TXT", records=['"v=spf1 include:a.test " "-all"', '"second"'])
    facts = dns_facts_from_captures("t.test", [capture("t.test TXT", raw)])
    assert facts.records["TXT"] == ["second", "v=spf1 include:a.test -all"]


# --- the whole lookup's status --------------------------------------------------------


def test_a_lookup_where_every_type_failed_alike_says_so_once():
    facts = DnsFacts(
        name="broken.test",
        outcomes={t: LookupStatus.FAILED for t in ("A", "MX")},
        reasons={"A": "server answered SERVFAIL", "MX": "server answered SERVFAIL"},
    )
    assert summarise_dns_facts(facts) == (
        LookupStatus.FAILED,
        "server answered SERVFAIL (every record type)",
    )


def test_a_lookup_with_only_empty_answers_is_no_data():
    facts = DnsFacts(
        name="e.test", outcomes={"A": LookupStatus.NO_DATA, "MX": LookupStatus.NO_DATA}
    )
    status, reason = summarise_dns_facts(facts)
    assert status is LookupStatus.NO_DATA
    assert "exists" in reason


def test_a_lookup_that_could_reach_no_server_is_offline():
    facts = DnsFacts(
        name="x.test",
        outcomes={"A": LookupStatus.OFFLINE, "MX": LookupStatus.OFFLINE},
        reasons={"A": "refused", "MX": "refused"},
    )
    assert summarise_dns_facts(facts)[0] is LookupStatus.OFFLINE


# --- rendering for the evidence viewer ------------------------------------------------


def test_a_rendered_answer_reads_like_dig():
    text = render_dns_capture(fixture_path("www.soundsbox.test A").read_bytes())
    assert ";; ->>HEADER<<- opcode: QUERY, status: NOERROR" in text
    assert ";; flags: qr aa rd; QUERY: 1, ANSWER: 2, AUTHORITY: 0, ADDITIONAL: 0" in text
    assert ";www.soundsbox.test.\t\tIN\tA" in text
    assert "www.soundsbox.test.\t3600\tIN\tCNAME\tsoundsbox.test." in text
    assert "soundsbox.test.\t3600\tIN\tA\t192.0.2.10" in text


def test_rendering_garbage_shows_the_error_and_a_hex_dump_instead_of_failing():
    text = render_dns_capture(b"\x12\x34HTTP/1.1 200 OK\r\n")
    assert "not a well-formed DNS message (19 bytes)" in text
    assert "0000  12 34 48 54 54 50" in text
    assert ".4HTTP/1.1 200 O" in text


# --- hostile bytes --------------------------------------------------------------------


def _check_hostile(raw: bytes) -> None:
    with contextlib.suppress(DnsParseError):
        parse_dns_response(raw)
    facts = dns_facts_from_captures("soundsbox.test", [capture("soundsbox.test A", raw)])
    assert facts.outcomes["A"] in set(LookupStatus)
    assert isinstance(render_dns_capture(raw), str)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=600))
def test_arbitrary_bytes_give_a_parse_error_or_a_message_never_a_crash(raw):
    _check_hostile(raw)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(SOUNDSBOX_QUERIES + OTHER_QUERIES),
    st.lists(st.tuples(st.integers(0, 600), st.integers(0, 255)), max_size=6),
    st.integers(0, 600),
)
def test_corrupted_real_answers_give_a_parse_error_or_a_message_never_a_crash(query, edits, cut):
    data = bytearray(fixture_path(query).read_bytes())
    for offset, value in edits:
        if data:
            data[offset % len(data)] = value
    _check_hostile(bytes(data[: max(cut, 12)]))


def test_a_compression_pointer_loop_is_a_parse_error():
    header = struct.pack("!HHHHHH", 1, 0x8180, 1, 0, 0, 0)
    looping_name = b"\xc0\x0c"  # points at itself
    with pytest.raises(DnsParseError):
        parse_dns_response(header + looping_name + b"\x00\x01\x00\x01")


# --- re-recording the fixtures ---------------------------------------------------------


def _record() -> None:  # pragma: no cover - run by hand after changing a zone
    import asyncio

    from tests.peers.knot import running_knot
    from workbench.lookups.dns_lookup import query_dns

    async def fetch(server, queries):
        for query in queries:
            name, rdtype = query.rsplit(" ", 1)
            exchange = await query_dns(server, name, rdtype, 2.0)
            assert exchange.capture is not None, f"no answer for {query}: {exchange.reason}"
            fixture_path(query).write_bytes(exchange.capture.raw)
            print("wrote", fixture_path(query).name)

    with running_knot() as knot:
        asyncio.run(fetch(knot.server, SOUNDSBOX_QUERIES + OTHER_QUERIES))


if __name__ == "__main__" and "--record" in sys.argv:
    _record()
