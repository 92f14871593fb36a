"""The RDAP client against a real HTTP peer on 127.0.0.1: what an investigator gets back
for good documents, for every way a server can misbehave, and what is never sent."""

from __future__ import annotations

import asyncio
import dataclasses
import socket
import time
from collections.abc import Iterator
from types import SimpleNamespace

import aiohttp
import pytest

from tests.peers.rdap_server import PRIVATE_TARGET, RdapPeer, fixture_bytes
from workbench.domain.errors import InvalidInput
from workbench.domain.normalise import normalise_domain
from workbench.lookups.politeness import Politeness
from workbench.lookups.rdap_client import (
    RdapSession,
    classify_connect_error,
    rdap_autnum,
    rdap_domain,
    rdap_ip,
    server_key,
)
from workbench.lookups.results import LookupStatus

pytestmark = pytest.mark.peers


@pytest.fixture
def peer() -> Iterator[RdapPeer]:
    with RdapPeer() as running:
        yield running


def settings_for(peer: RdapPeer, **changes):
    from workbench.lookups.settings import LookupSettings

    base = LookupSettings(
        rdap_base_url=peer.url + "/",
        rdap_ip_base_url=peer.url + "/",
        allow_private_addresses=True,  # the peer is on 127.0.0.1
        timeout_s=2.0,
    )
    return dataclasses.replace(base, **changes)


def polite() -> Politeness:
    return Politeness(max_in_flight=8, min_interval_s=0.0, backoff_s=0.0)


def lookup(name: str, settings, politeness: Politeness | None = None, **session_options):
    async def run():
        async with RdapSession(settings, **session_options) as session:
            return await rdap_domain(
                normalise_domain(name), settings, session, politeness or polite()
            )

    return asyncio.run(run())


# -- documents as they should be -------------------------------------------------------------


def test_the_registrars_document_is_followed_and_both_documents_are_kept(peer):
    outcome, facts = lookup("soundsbox.test", settings_for(peer))
    assert outcome.status is LookupStatus.OK and outcome.reason is None
    registry, registrar = outcome.captures
    assert registry.server == f"{peer.url}/domain/soundsbox.test"
    assert registrar.server == f"{peer.url}/rdap/domain/soundsbox.test"
    # Exactly the bytes the servers sent (links rewritten by the peer, as served).
    assert registry.raw == peer.document("/domain/soundsbox.test")
    assert registrar.raw == peer.document("/rdap/domain/soundsbox.test")
    for capture in outcome.captures:
        assert (capture.protocol, capture.query) == ("rdap", "soundsbox.test")
        assert capture.media_type == "application/rdap+json"
        assert capture.started_at.tzinfo is not None and capture.elapsed_s >= 0

    registrant = next(c for c in facts.contacts if c.role == "registrant")
    assert (registrant.name, registrant.country) == ("Pedro Kresker", "LU")
    assert registrant.phone == registrant.fax == "+35226480123"
    assert facts.registrar.name == "Vienna Domains GmbH"
    assert facts.registrar.iana_id == "9999"
    assert facts.registrar.country == "AT"
    assert facts.registrar.whois_server == "whois.vienna-domains.test"
    assert facts.nameservers == ["ns1.soundsbox.test", "ns2.soundsbox.test"]


def test_a_com_lookup_keeps_the_registry_facts_and_the_registrars_redactions(peer):
    outcome, facts = lookup("example.com", settings_for(peer, rdap_base_url=peer.url + "/com/v1"))
    assert outcome.status is LookupStatus.OK
    assert [c.server for c in outcome.captures] == [
        f"{peer.url}/com/v1/domain/example.com",
        f"{peer.url}/rdap/domain/EXAMPLE.COM",
    ]
    registrant = next(c for c in facts.contacts if c.role == "registrant")
    assert registrant.name is None and "name" in registrant.redacted
    assert registrant.organisation == "Example Holdings LLC"
    assert facts.dnssec == "signed"
    assert "Registrant Email" in facts.redacted


def test_a_thick_registry_without_a_related_link_is_one_capture(peer):
    outcome, facts = lookup("allofmp3.test", settings_for(peer))
    assert outcome.status is LookupStatus.OK
    assert len(outcome.captures) == 1
    assert next(c for c in facts.contacts if c.role == "registrant").city == "Moscow"


def test_ip_and_autnum_lookups_give_network_facts(peer):
    settings = settings_for(peer)

    async def run():
        async with RdapSession(settings) as session:
            return (
                await rdap_ip("192.0.2.10", settings, session, polite()),
                await rdap_ip("2001:DB8::10", settings, session, polite()),
                await rdap_autnum(64501, settings, session, polite()),
            )

    (v4, v4_facts), (v6, v6_facts), (asn, asn_facts) = asyncio.run(run())
    assert v4.status is v6.status is asn.status is LookupStatus.OK
    assert v4.captures[0].server == f"{peer.url}/ip/192.0.2.10"
    assert (v4_facts.query, v4_facts.country) == ("192.0.2.10", "RU")
    assert (v6_facts.query, v6_facts.asn) == ("2001:db8::10", 64501)
    assert (asn_facts.asn, asn_facts.name) == (64501, "NORTHSTAR-AS")


def test_a_redirect_is_followed_and_the_capture_names_the_final_url(peer):
    peer.fault("/ip/192.0.2.99", "redirect", location="/ip/192.0.2.10")
    outcome, facts = asyncio.run(rdap_ip("192.0.2.99", settings_for(peer), None, polite()))
    assert outcome.status is LookupStatus.OK
    assert outcome.captures[0].server == f"{peer.url}/ip/192.0.2.10"
    assert facts.name == "REDSQUARE-HOSTING-NET"


def test_one_shared_session_serves_a_bulk_run(peer):
    settings = settings_for(peer, concurrency=50)
    politeness = Politeness(max_in_flight=50, min_interval_s=0.0)
    count = 200

    async def run():
        async with RdapSession(settings) as session:
            return await asyncio.gather(
                *(
                    rdap_domain(normalise_domain("allofmp3.test"), settings, session, politeness)
                    for _ in range(count)
                )
            )

    started = time.monotonic()
    results = asyncio.run(run())
    elapsed = time.monotonic() - started
    assert all(outcome.status is LookupStatus.OK for outcome, _ in results)
    assert len(peer.requests_for("/domain/allofmp3.test")) == count
    assert elapsed < 10, f"{count} lookups took {elapsed:.1f} s"


# -- server answers that are not documents -----------------------------------------------------


def test_not_found_is_its_own_status_and_keeps_the_servers_answer(peer):
    outcome, facts = lookup("nosuchname.test", settings_for(peer))
    assert outcome.status is LookupStatus.NOT_FOUND and facts is None
    assert "404" in outcome.reason
    assert b'"errorCode": 404' in outcome.captures[0].raw


def test_rate_limiting_backs_off_for_as_long_as_the_server_asks(peer):
    peer.fault("/domain/busy.test", "429", retry_after="1")
    settings = settings_for(peer)
    politeness = polite()

    async def run():
        async with RdapSession(settings) as session:
            first = await rdap_domain(normalise_domain("busy.test"), settings, session, politeness)
            started = time.monotonic()
            second = await rdap_domain(
                normalise_domain("allofmp3.test"), settings, session, politeness
            )
            return first, second, time.monotonic() - started

    (outcome, _), (after, _), waited = asyncio.run(run())
    assert outcome.status is LookupStatus.RATE_LIMITED
    assert "Retry-After 1 s" in outcome.reason
    assert outcome.captures[0].raw  # the 429 body is evidence too
    assert after.status is LookupStatus.OK
    assert waited >= 0.9, "the next query to the same server did not wait"


@pytest.mark.parametrize(
    ("kind", "status", "reason", "kept"),
    [
        ("500", LookupStatus.FAILED, "HTTP 500", b"internal error"),
        ("html", LookupStatus.FAILED, "text/html, not RDAP JSON", b"<html>"),
        ("malformed", LookupStatus.FAILED, "wrong content: the document is not valid JSON", b"{"),
    ],
)
def test_server_misbehaviour_fails_with_a_reason_and_keeps_what_arrived(
    peer, kind, status, reason, kept
):
    peer.fault("/domain/odd.test", kind)
    outcome, facts = lookup("odd.test", settings_for(peer))
    assert (outcome.status, facts) == (status, None)
    assert reason in outcome.reason
    assert outcome.captures[0].raw.startswith(kept)


def test_a_document_about_another_domain_is_wrong_content(peer):
    peer.add("/domain/other.test", fixture_bytes("domain-soundsbox.test-registry.json"))
    outcome, facts = lookup("other.test", settings_for(peer))
    assert outcome.status is LookupStatus.FAILED and facts is None
    assert "'soundsbox.test', not 'other.test'" in outcome.reason


def test_a_truncated_body_fails_and_the_part_that_arrived_is_kept(peer):
    peer.add("/domain/cut.test", fixture_bytes("domain-allofmp3.test-registry.json"))
    peer.fault("/domain/cut.test", "truncated")
    outcome, _ = lookup("cut.test", settings_for(peer))
    assert outcome.status is LookupStatus.FAILED
    assert "cut short" in outcome.reason
    sent = peer.document("/domain/cut.test")
    assert outcome.captures[0].raw == sent[: len(sent) // 2]


def test_a_server_that_trickles_hits_the_overall_deadline(peer):
    peer.add("/domain/trickle.test", fixture_bytes("domain-allofmp3.test-registry.json"))
    peer.fault("/domain/trickle.test", "slow", chunk=16, interval_s=0.05)
    started = time.monotonic()
    outcome, _ = lookup("trickle.test", settings_for(peer, timeout_s=0.5))
    elapsed = time.monotonic() - started
    assert outcome.status is LookupStatus.FAILED
    assert "0.5 s deadline" in outcome.reason
    assert elapsed < 1.5  # a per-read timeout would never fire: each read is quick
    partial = outcome.captures[0].raw
    assert 0 < len(partial) < len(peer.document("/domain/trickle.test"))


def test_a_huge_answer_is_cut_at_the_size_cap_and_the_start_kept(peer):
    peer.fault("/domain/huge.test", "huge")
    outcome, _ = lookup("huge.test", settings_for(peer, max_response_bytes=64 * 1024))
    assert outcome.status is LookupStatus.FAILED
    assert "larger than the 65536 byte cap" in outcome.reason
    assert len(outcome.captures[0].raw) == 64 * 1024
    assert outcome.captures[0].raw.startswith(b'{"objectClassName": "domain"')


def test_a_redirect_loop_stops_after_three_redirects(peer):
    peer.fault("/domain/loop.test", "redirect_loop")
    outcome, _ = lookup("loop.test", settings_for(peer))
    assert outcome.status is LookupStatus.FAILED
    assert "more than 3 redirects" in outcome.reason
    assert len(peer.requests_for("/domain/loop.test")) == 4  # the first ask and 3 redirects


def test_a_failing_registrar_document_leaves_the_registry_facts_and_says_why(peer):
    peer.fault("/rdap/domain/soundsbox.test", "500")
    outcome, facts = lookup("soundsbox.test", settings_for(peer))
    assert outcome.status is LookupStatus.OK
    assert "registrar's RDAP document" in outcome.reason and "HTTP 500" in outcome.reason
    assert facts.registrar.name == "Vienna Domains GmbH"
    assert not any(c.role == "registrant" for c in facts.contacts)
    assert outcome.captures[1].raw == b"internal error"


# -- nothing asked ------------------------------------------------------------------------------


def test_offline_mode_asks_nothing(peer):
    outcome, facts = lookup("soundsbox.test", settings_for(peer, offline=True))
    assert (outcome.status, facts, outcome.captures) == (LookupStatus.OFFLINE, None, [])
    assert peer.requests == []


def test_a_refused_connection_is_offline():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    from workbench.lookups.settings import LookupSettings

    settings = LookupSettings(
        rdap_base_url=f"http://127.0.0.1:{port}/", allow_private_addresses=True, timeout_s=1
    )
    outcome, _ = lookup("soundsbox.test", settings)
    assert outcome.status is LookupStatus.OFFLINE
    assert "cannot connect" in outcome.reason


def test_a_server_name_that_does_not_resolve_counts_as_offline():
    # Built by hand: a real failed lookup would query the machine's DNS server.
    key = SimpleNamespace(host="rdap.nic.invalid", port=443, ssl=True)
    error = aiohttp.ClientConnectorDNSError(key, socket.gaierror(-2, "Name or service not known"))
    status, reason = classify_connect_error(error)
    assert status is LookupStatus.OFFLINE and "cannot resolve" in reason


def test_a_tld_without_an_rdap_server_fails_without_asking_anyone():
    from workbench.lookups.settings import LookupSettings

    outcome, _ = lookup("soundsbox.test", LookupSettings())
    assert outcome.status is LookupStatus.FAILED
    assert "no RDAP server is known for .test" in outcome.reason
    outcome, _ = asyncio.run(rdap_ip("10.1.2.3", LookupSettings(), None, polite()))
    assert "no RDAP server is known for the address 10.1.2.3" in outcome.reason


def test_bad_queries_are_refused_before_any_lookup():
    from workbench.lookups.settings import LookupSettings

    with pytest.raises(InvalidInput):
        asyncio.run(rdap_ip("not-an-ip", LookupSettings(), None, polite()))
    with pytest.raises(InvalidInput):
        asyncio.run(rdap_autnum(2**32, LookupSettings(), None, polite()))


# -- private addresses, credentials, cookies, TLS ------------------------------------------------


def test_private_addresses_are_refused_by_default_and_nothing_is_sent(peer):
    outcome, _ = lookup("soundsbox.test", settings_for(peer, allow_private_addresses=False))
    assert outcome.status is LookupStatus.FAILED
    assert "127.0.0.1 is a private, loopback or link-local address" in outcome.reason
    by_name = settings_for(
        peer,
        allow_private_addresses=False,
        rdap_base_url=f"http://localhost:{peer.port}/",
    )
    outcome, _ = lookup("soundsbox.test", by_name)
    assert outcome.status is LookupStatus.FAILED
    assert "localhost resolves to 127.0.0.1" in outcome.reason
    assert peer.requests == []


def test_a_redirect_to_a_private_address_is_refused_before_connecting(peer):
    peer.fault("/domain/sneaky.test", "redirect_private")
    settings = settings_for(peer, allow_private_addresses=False)
    outcome, _ = lookup("sneaky.test", settings, allow_loopback=True)
    assert outcome.status is LookupStatus.FAILED
    assert f"refused {PRIVATE_TARGET}: 10.0.0.1" in outcome.reason


def test_a_related_link_to_a_private_address_is_not_followed(peer):
    document = fixture_bytes("domain-soundsbox.test-registry.json").replace(
        b"https://rdap.vienna-domains.test/rdap/domain/soundsbox.test",
        b"http://192.168.1.20/rdap/domain/soundsbox.test",
    )
    peer.add("/domain/soundsbox.test", document)
    settings = settings_for(peer, allow_private_addresses=False)
    outcome, facts = lookup("soundsbox.test", settings, allow_loopback=True)
    assert outcome.status is LookupStatus.OK
    assert len(outcome.captures) == 1
    assert "192.168.1.20 is a private" in outcome.reason
    assert facts.registrar.name == "Vienna Domains GmbH"


def test_no_credentials_or_cookies_are_ever_sent(peer):
    peer.add(
        "/domain/allofmp3.test",
        fixture_bytes("domain-allofmp3.test-registry.json"),
        headers={"Set-Cookie": "session=abc123; Path=/"},
    )
    settings = settings_for(peer)

    async def run():
        async with RdapSession(settings) as session:
            for _ in range(2):
                await rdap_domain(normalise_domain("allofmp3.test"), settings, session, polite())
            await rdap_domain(normalise_domain("soundsbox.test"), settings, session, polite())

    asyncio.run(run())
    assert len(peer.requests) == 4
    for request in peer.requests:
        names = {name.lower() for name in request.headers}
        assert not names & {"cookie", "authorization", "proxy-authorization"}
        assert "application/rdap+json" in request.headers["Accept"]
        assert request.headers["User-Agent"].startswith("RightsInvestigationWorkbench/")

    with_user = settings_for(peer, rdap_base_url=f"http://user:secret@127.0.0.1:{peer.port}/")
    outcome, _ = lookup("allofmp3.test", with_user)
    assert outcome.status is LookupStatus.FAILED and "carries credentials" in outcome.reason
    assert len(peer.requests) == 4


def test_https_certificates_are_verified():
    with RdapPeer(tls=True) as tls_peer:
        outcome, _ = lookup("allofmp3.test", settings_for(tls_peer))
        assert tls_peer.url.startswith("https://")
        assert outcome.status is LookupStatus.FAILED
        assert "TLS failure" in outcome.reason and "certificate" in outcome.reason.lower()


def test_the_politeness_key_is_host_and_port():
    assert server_key("https://rdap.verisign.com/com/v1/domain/x.com") == "rdap.verisign.com:443"
    assert server_key("http://127.0.0.1:8080/x") == "127.0.0.1:8080"
    assert server_key("http://[::1]/x") == "[::1]:80"
