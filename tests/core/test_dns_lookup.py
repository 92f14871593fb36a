"""DNS lookups against real servers on 127.0.0.1: Knot with the fixture zones, and small
scripted UDP/TCP peers for what Knot will not do (stay silent, send garbage, truncate).
"""

from __future__ import annotations

import asyncio
import socket
import struct
import threading
import time
from collections.abc import Callable

import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import pytest

from bench.dns_delay_proxy import DnsDelayProxy
from tests.peers.knot import running_knot
from workbench.domain.normalise import normalise_hostname
from workbench.lookups.dns_lookup import dns_lookup
from workbench.lookups.dns_parse import dns_facts_from_captures, parse_dns_response
from workbench.lookups.results import LookupStatus
from workbench.lookups.settings import LookupSettings, ServerAddress

pytestmark = pytest.mark.peers
ALL_TYPES = ["A", "AAAA", "CNAME", "MX", "NS", "TXT", "SOA", "CAA"]


@pytest.fixture(scope="module")
def knot():
    with running_knot() as peer:
        yield peer


def settings_for(server: ServerAddress, **overrides) -> LookupSettings:
    values = {"dns_server": server, "timeout_s": 3.0, "dns_lifetime_s": 1.0}
    values.update(overrides)
    return LookupSettings(**values)


def lookup(name: str, settings: LookupSettings):
    return asyncio.run(dns_lookup(normalise_hostname(name), settings))


# --- peers that misbehave on purpose --------------------------------------------------


class SilentUdpServer:
    """Reads every datagram sent to it and never answers."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.05)
        self.received = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)

    @property
    def server(self) -> ServerAddress:
        return ServerAddress("127.0.0.1", self.sock.getsockname()[1])

    def _read(self) -> None:
        while not self._stop.is_set():
            try:
                self.sock.recvfrom(65535)
                self.received += 1
            except TimeoutError:
                continue

    def __enter__(self) -> SilentUdpServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.sock.close()


def uncompressed_a_answer(query: dns.message.Message, address: bytes) -> bytes:
    """An A answer written by hand with the owner name spelled out again instead of a
    compression pointer: valid, but not what dnspython would write when re-encoding."""
    qname = query.question[0].name.to_wire()
    header = struct.pack("!HHHHHH", query.id, 0x8580, 1, 1, 0, 0)
    question = qname + struct.pack("!HH", 1, 1)
    answer = qname + struct.pack("!HHIH", 1, 1, 300, 4) + address
    return header + question + answer


def empty_answer(query: dns.message.Message, flags: int = 0) -> bytes:
    response = dns.message.make_response(query)
    response.flags |= flags
    return response.to_wire()


Script = Callable[[dns.message.Message], list[bytes]]


class ScriptedDnsServer:
    """A UDP and TCP server on one loopback port whose answers a test writes.

    `udp(query)` returns the datagrams to send back for a UDP query (in order);
    `tcp(query)` the one message for a TCP query. `sent` records every message sent,
    keyed by (transport, record type), so a test can compare a capture byte for byte.
    """

    def __init__(
        self, udp: Script, tcp: Callable[[dns.message.Message], bytes | None] | None = None
    ):
        self.udp_script = udp
        self.tcp_script = tcp
        self.sent: dict[tuple[str, str], bytes] = {}
        self.tcp_queries = 0

    async def __aenter__(self) -> ScriptedDnsServer:
        loop = asyncio.get_running_loop()
        outer = self

        class Udp(asyncio.DatagramProtocol):
            def connection_made(self, transport):
                self.transport = transport

            def datagram_received(self, data, addr):
                query = dns.message.from_wire(data)
                rdtype = dns.rdatatype.to_text(query.question[0].rdtype)
                for datagram in outer.udp_script(query):
                    outer.sent[("udp", rdtype)] = datagram
                    self.transport.sendto(datagram, addr)

        self.tcp_server = await loop.create_server(lambda: None, "127.0.0.1", 0)
        port = self.tcp_server.sockets[0].getsockname()[1]
        self.tcp_server.close()
        await self.tcp_server.wait_closed()
        self.udp_transport, _ = await loop.create_datagram_endpoint(
            Udp, local_addr=("127.0.0.1", port)
        )
        self.tcp_server = await asyncio.start_server(self._serve_tcp, "127.0.0.1", port)
        self.server = ServerAddress("127.0.0.1", port)
        return self

    async def _serve_tcp(self, reader, writer) -> None:
        try:
            (length,) = struct.unpack("!H", await reader.readexactly(2))
            query = dns.message.from_wire(await reader.readexactly(length))
            self.tcp_queries += 1
            answer = self.tcp_script(query) if self.tcp_script else None
            if answer is not None:  # None: hang up without answering
                self.sent[("tcp", dns.rdatatype.to_text(query.question[0].rdtype))] = answer
                writer.write(struct.pack("!H", len(answer)) + answer)
                await writer.drain()
        finally:
            writer.close()

    async def __aexit__(self, *exc) -> None:
        self.udp_transport.close()
        self.tcp_server.close()
        await self.tcp_server.wait_closed()


# --- answers from Knot ----------------------------------------------------------------


def test_every_record_type_of_soundsbox_is_returned_as_published(knot):
    outcome, facts = lookup("soundsbox.test", settings_for(knot.server))
    assert outcome.status is LookupStatus.OK
    assert facts.name == "soundsbox.test"
    assert facts.records == {
        "A": ["192.0.2.10"],
        "AAAA": ["2001:db8::10"],
        "MX": ["mail.soundsbox.test"],
        "NS": ["ns1.soundsbox.test", "ns2.soundsbox.test"],
        "TXT": ["v=spf1 ip4:192.0.2.0/24 -all"],
        "SOA": ["ns1.soundsbox.test. hostmaster.soundsbox.test. 2024010101 7200 3600 1209600 3600"],
        "CAA": ['0 issue "letsencrypt.org"'],
    }
    assert list(facts.outcomes) == ALL_TYPES
    assert facts.outcomes["CNAME"] is LookupStatus.NO_DATA
    assert outcome.reason is None


def test_reverse_names_are_looked_up_for_every_address_found(knot):
    _, facts = lookup("soundsbox.test", settings_for(knot.server))
    assert facts.ptr == {"192.0.2.10": ["soundsbox.test"], "2001:db8::10": ["soundsbox.test"]}
    _, facts = lookup("allofmp3.test", settings_for(knot.server))
    assert facts.records["A"] == ["198.51.100.20"]
    assert facts.records["NS"] == ["ns1.allofmp3.test"]
    assert facts.ptr == {"198.51.100.20": ["allofmp3.test"]}


def test_an_address_without_reverse_name_is_listed_as_not_found(knot):
    outcome, facts = lookup("shop.soundsbox.test", settings_for(knot.server))
    assert outcome.status is LookupStatus.OK
    assert facts.ptr == {}
    assert facts.ptr_outcomes == {"192.0.2.11": LookupStatus.NOT_FOUND}


def test_each_answer_is_one_capture_of_the_bytes_knot_sent(knot):
    outcome, _ = lookup("soundsbox.test", settings_for(knot.server))
    queries = [c.query for c in outcome.captures]
    assert queries == [f"soundsbox.test {t}" for t in ALL_TYPES] + [
        "10.2.0.192.in-addr.arpa PTR",
        "0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa PTR",
    ]
    for capture in outcome.captures:
        assert capture.protocol == "dns"
        assert capture.server == f"127.0.0.1:{knot.port}"
        assert capture.media_type == "application/dns-message"
        assert capture.started_at.tzinfo is not None
        assert 0 <= capture.elapsed_s < 1
        response = parse_dns_response(capture.raw)
        name, rdtype = capture.query.split(" ")
        assert (response.question.name, response.question.rdtype) == (name, rdtype)
        assert "AA" in response.flags  # Knot answers with authority for its zones


def test_facts_rebuilt_from_the_captures_equal_the_live_facts(knot):
    for name in ("soundsbox.test", "www.soundsbox.test", "shop.soundsbox.test"):
        outcome, facts = lookup(name, settings_for(knot.server))
        assert dns_facts_from_captures(name, outcome.captures) == facts


def test_an_alias_gives_its_cname_target_and_the_target_records(knot):
    _, facts = lookup("www.soundsbox.test", settings_for(knot.server))
    assert facts.records["CNAME"] == ["soundsbox.test"]
    assert facts.records["A"] == ["192.0.2.10"]
    assert facts.outcomes["CNAME"] is LookupStatus.OK


def test_a_name_that_does_not_exist_is_not_found(knot):
    outcome, facts = lookup("nosuch.soundsbox.test", settings_for(knot.server))
    assert outcome.status is LookupStatus.NOT_FOUND
    assert "NXDOMAIN" in outcome.reason
    assert set(facts.outcomes.values()) == {LookupStatus.NOT_FOUND}
    assert len(outcome.captures) == 8  # the NXDOMAIN answers are evidence too


def test_a_name_without_mx_has_no_data_for_mx_and_keeps_its_address(knot):
    outcome, facts = lookup("shop.soundsbox.test", settings_for(knot.server))
    assert outcome.status is LookupStatus.OK
    assert facts.outcomes["MX"] is LookupStatus.NO_DATA
    assert "MX" not in facts.records
    assert facts.records["A"] == ["192.0.2.11"]


def test_a_zone_knot_cannot_load_fails_with_servfail_named(knot):
    outcome, facts = lookup("broken.test", settings_for(knot.server))
    assert outcome.status is LookupStatus.FAILED
    assert outcome.reason == "server answered SERVFAIL (every record type)"
    assert facts.reasons["MX"] == "server answered SERVFAIL"
    assert len(outcome.captures) == 8


def test_a_name_the_server_is_not_authoritative_for_fails_as_refused(knot):
    outcome, _ = lookup("elsewhere.example", settings_for(knot.server))
    assert outcome.status is LookupStatus.FAILED
    assert "REFUSED" in outcome.reason


def test_all_types_are_asked_at_once_then_all_reverse_names_at_once(knot):
    async def run():
        async with DnsDelayProxy(knot.server, delay_s=0.2) as proxy:
            start = time.perf_counter()
            outcome, _ = await dns_lookup(
                normalise_hostname("soundsbox.test"), settings_for(proxy.address)
            )
            return outcome, time.perf_counter() - start

    outcome, elapsed = asyncio.run(run())
    assert outcome.status is LookupStatus.OK
    assert len(outcome.captures) == 10
    # Two rounds of 0.2 s (names, then PTRs), not ten queries one after another.
    assert 0.4 <= elapsed < 0.9


# --- faults ---------------------------------------------------------------------------


def test_a_silent_server_fails_within_about_the_query_lifetime():
    with SilentUdpServer() as silent:
        start = time.perf_counter()
        outcome, facts = lookup(
            "soundsbox.test", settings_for(silent.server, dns_lifetime_s=0.5, timeout_s=5)
        )
        elapsed = time.perf_counter() - start
    assert outcome.status is LookupStatus.FAILED
    assert outcome.reason == "no answer within 0.5 s (every record type)"
    assert outcome.captures == []
    assert facts.reasons["A"] == "no answer within 0.5 s"
    assert 0.5 <= elapsed < 1.0
    assert silent.received == 8


def test_the_overall_deadline_cuts_queries_short():
    with SilentUdpServer() as silent:
        start = time.perf_counter()
        outcome, _ = lookup(
            "soundsbox.test", settings_for(silent.server, dns_lifetime_s=5, timeout_s=0.6)
        )
        elapsed = time.perf_counter() - start
    assert outcome.status is LookupStatus.FAILED
    assert "no answer within 0.6 s" in outcome.reason
    assert elapsed < 1.0


def test_a_closed_port_on_loopback_is_offline_at_once():
    # Linux answers a UDP datagram to a closed loopback port with ICMP port unreachable,
    # which our connected UDP socket sees as a refused connection: nobody is there, so
    # the lookup is offline rather than a slow server's timeout.
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    start = time.perf_counter()
    outcome, facts = lookup(
        "soundsbox.test", settings_for(ServerAddress("127.0.0.1", closed_port), dns_lifetime_s=2)
    )
    assert outcome.status is LookupStatus.OFFLINE
    assert "connection refused" in outcome.reason
    assert set(facts.outcomes.values()) == {LookupStatus.OFFLINE}
    assert time.perf_counter() - start < 0.5


def test_offline_mode_asks_nothing():
    with SilentUdpServer() as silent:
        outcome, facts = lookup("soundsbox.test", settings_for(silent.server, offline=True))
        time.sleep(0.1)
    assert outcome.status is LookupStatus.OFFLINE
    assert outcome.captures == []
    assert set(facts.outcomes) == set(ALL_TYPES)
    assert silent.received == 0


# --- the wire, byte for byte ----------------------------------------------------------


def scripted_lookup(server: ScriptedDnsServer, name: str = "soundsbox.test", **overrides):
    async def run():
        async with server:
            return await dns_lookup(
                normalise_hostname(name), settings_for(server.server, **overrides)
            )

    return asyncio.run(run())


def a_or_empty(query: dns.message.Message) -> list[bytes]:
    if query.question[0].rdtype == dns.rdatatype.A:
        return [uncompressed_a_answer(query, bytes([192, 0, 2, 77]))]
    return [empty_answer(query)]


def test_the_capture_is_the_answer_exactly_as_sent_not_a_re_encoding():
    server = ScriptedDnsServer(a_or_empty)
    outcome, facts = scripted_lookup(server)
    a_capture = next(c for c in outcome.captures if c.query == "soundsbox.test A")
    assert a_capture.raw == server.sent[("udp", "A")]
    assert dns.message.from_wire(a_capture.raw).to_wire() != a_capture.raw
    assert facts.records["A"] == ["192.0.2.77"]


def test_garbage_before_the_real_answer_is_ignored():
    server = ScriptedDnsServer(lambda q: [b"\x00\x01not dns at all", *a_or_empty(q)])
    outcome, facts = scripted_lookup(server)
    assert outcome.status is LookupStatus.OK
    assert facts.records["A"] == ["192.0.2.77"]


def test_an_answer_with_the_wrong_id_is_not_taken_for_ours():
    def wrong_id(query):
        forged = bytearray(uncompressed_a_answer(query, bytes([203, 0, 113, 66])))
        forged[0:2] = struct.pack("!H", (query.id + 1) % 65536)
        return [bytes(forged), *a_or_empty(query)]

    _, facts = scripted_lookup(ScriptedDnsServer(wrong_id))
    assert facts.records["A"] == ["192.0.2.77"]


def test_only_garbage_fails_within_the_lifetime_and_keeps_the_garbage_as_evidence():
    server = ScriptedDnsServer(lambda q: [b"\xde\xad\xbe\xef garbage"])
    outcome, facts = scripted_lookup(server, dns_lifetime_s=0.3)
    assert outcome.status is LookupStatus.FAILED
    assert facts.reasons["A"] == "only malformed answers within 0.3 s"
    assert [c.raw for c in outcome.captures] == [b"\xde\xad\xbe\xef garbage"] * 8


def test_a_truncated_udp_answer_is_asked_again_over_tcp():
    def truncated(query):
        return [empty_answer(query, dns.flags.TC)]

    def full(query):
        if query.question[0].rdtype == dns.rdatatype.A:
            return uncompressed_a_answer(query, bytes([192, 0, 2, 88]))
        return empty_answer(query)

    server = ScriptedDnsServer(truncated, full)
    outcome, facts = scripted_lookup(server)
    assert outcome.status is LookupStatus.OK
    assert facts.records["A"] == ["192.0.2.88"]
    assert server.tcp_queries == 9  # 8 types, then the PTR of 192.0.2.88
    a_capture = next(c for c in outcome.captures if c.query == "soundsbox.test A")
    assert a_capture.raw == server.sent[("tcp", "A")]


def test_a_truncated_answer_whose_tcp_retry_fails_keeps_the_truncated_answer():
    def truncated(query):
        return [empty_answer(query, dns.flags.TC)]

    server = ScriptedDnsServer(truncated, tcp=lambda q: None)  # closes without an answer
    outcome, facts = scripted_lookup(server)
    assert outcome.status is LookupStatus.FAILED
    assert facts.reasons["A"].startswith("the server closed the TCP connection")
    a_capture = next(c for c in outcome.captures if c.query == "soundsbox.test A")
    assert parse_dns_response(a_capture.raw).truncated


def test_servfail_from_any_server_is_read_from_the_rcode():
    def servfail(query):
        response = dns.message.make_response(query)
        response.set_rcode(dns.rcode.SERVFAIL)
        return [response.to_wire()]

    outcome, facts = scripted_lookup(ScriptedDnsServer(servfail))
    assert outcome.status is LookupStatus.FAILED
    assert set(facts.reasons.values()) == {"server answered SERVFAIL"}


def test_an_answer_to_our_question_with_broken_records_is_kept_and_marked_malformed():
    def cut_short(query):
        if query.question[0].rdtype == dns.rdatatype.A:
            return [uncompressed_a_answer(query, bytes([192, 0, 2, 77]))[:-2]]
        return [empty_answer(query)]

    server = ScriptedDnsServer(cut_short)
    outcome, facts = scripted_lookup(server, dns_lifetime_s=0.5)
    a_capture = next(c for c in outcome.captures if c.query == "soundsbox.test A")
    assert a_capture.raw == server.sent[("udp", "A")]
    assert facts.outcomes["A"] is LookupStatus.FAILED
    assert facts.reasons["A"].startswith("malformed answer")
    assert outcome.status is LookupStatus.NO_DATA  # the other types answered, empty
