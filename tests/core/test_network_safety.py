"""Network safety across the transports (issue 7, part 7). The servers under
investigation write the referrals, links and redirects the workbench follows, so none of
them may steer it into the investigator's own network, make it send credentials, or
downgrade its TLS. Each transport's own tests hold its basics; this module holds what cuts
across them:

- one table of address classes that the WHOIS and the RDAP policy must both refuse by
  default (private, loopback, link-local, cloud metadata, unique-local, carrier-grade NAT,
  unspecified, multicast, broadcast, documentation and benchmark ranges, IPv4-mapped IPv6)
  and allow only with `allow_private_addresses`, which the tests use for their loopback
  peers;
- the spellings of a loopback address a referral or link can hide behind (`127.1`,
  `0x7f000001`, `2130706433`, `[::ffff:127.0.0.1]`, `localhost`), refused after resolution;
- credentials in a link or redirect, proxies and .netrc from the environment, non-HTTP
  redirect targets: refused or ignored;
- the DNS resolver: a resolver on a private or loopback address is the investigator's own
  explicit choice (`--dns-server`, or the settings), never something a server chose, so
  it is allowed without `allow_private_addresses`. DNS answers holding private addresses
  are recorded as what the server said; nothing connects to them.
"""

from __future__ import annotations

import asyncio
import dataclasses
import ipaddress
import ssl
import time
from collections.abc import Iterator

import pytest

from tests.core.test_dns_lookup import ScriptedDnsServer, empty_answer, uncompressed_a_answer
from tests.peers.rdap_server import SELF_SIGNED_CERT, RdapPeer, fixture_bytes
from tests.peers.whois_server import WhoisPeer, fixture
from workbench.domain.normalise import normalise_domain, normalise_hostname
from workbench.lookups import rdap_client
from workbench.lookups.dns_lookup import dns_lookup
from workbench.lookups.politeness import Politeness
from workbench.lookups.rdap_client import (
    AddressRefused,
    RdapSession,
    _GuardedResolver,
    address_allowed,
    rdap_domain,
)
from workbench.lookups.results import LookupStatus
from workbench.lookups.settings import LookupSettings
from workbench.lookups.whois_transport import _is_public, whois_lookup

pytestmark = pytest.mark.peers

# Addresses no referral, link or redirect may reach unless the settings allow it.
NOT_PUBLIC = [
    ("10.0.0.1", "private (RFC 1918)"),
    ("172.16.5.4", "private (RFC 1918)"),
    ("192.168.1.20", "private (RFC 1918)"),
    ("127.0.0.1", "loopback"),
    ("127.255.255.254", "loopback"),
    ("::1", "IPv6 loopback"),
    ("169.254.169.254", "link-local: cloud instance metadata"),
    ("fe80::1", "IPv6 link-local"),
    ("fc00::1", "IPv6 unique local"),
    ("fd12:3456::1", "IPv6 unique local"),
    ("100.64.0.1", "carrier-grade NAT"),
    ("0.0.0.0", "unspecified"),
    ("::", "IPv6 unspecified"),
    ("224.0.0.1", "multicast"),
    ("ff02::1", "IPv6 multicast"),
    ("255.255.255.255", "broadcast"),
    ("192.0.2.10", "documentation (TEST-NET-1)"),
    ("2001:db8::10", "IPv6 documentation"),
    ("198.18.0.1", "benchmarking"),
    ("::ffff:127.0.0.1", "IPv4-mapped loopback"),
    ("::ffff:10.0.0.1", "IPv4-mapped private"),
    ("::ffff:169.254.169.254", "IPv4-mapped link-local"),
]
PUBLIC = ["1.1.1.1", "8.8.8.8", "193.0.6.139", "2606:4700:4700::1111", "2001:67c:2e8::2"]


@pytest.mark.parametrize(("address", "what"), NOT_PUBLIC, ids=[a for a, _ in NOT_PUBLIC])
def test_whois_and_rdap_refuse_the_same_non_public_addresses_unless_allowed(address, what):
    ip = ipaddress.ip_address(address)
    assert not _is_public(address), f"WHOIS would follow a referral to {what}"
    assert not address_allowed(ip, allow_private=False), f"RDAP would fetch from {what}"
    assert address_allowed(ip, allow_private=True)


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_are_allowed_by_both(address):
    assert _is_public(address)
    assert address_allowed(ipaddress.ip_address(address), allow_private=False)


# -- WHOIS referrals --------------------------------------------------------------------


@pytest.fixture
def registry() -> Iterator[WhoisPeer]:
    with WhoisPeer({"soundsbox.test": fixture("soundsbox_test_registry")}) as peer:
        yield peer


def whois(domain: str, registry: WhoisPeer):
    settings = LookupSettings(
        whois_server=registry.address, allow_private_addresses=False, timeout_s=2.0
    )
    politeness = Politeness(max_in_flight=2, min_interval_s=0.0)
    started = time.monotonic()
    outcome, facts = asyncio.run(whois_lookup(normalise_domain(domain), settings, politeness))
    return outcome, facts, time.monotonic() - started


@pytest.mark.parametrize(
    "referral",
    [
        "169.254.169.254",
        "[::1]:43",
        "[::ffff:127.0.0.1]:43",
        "[fe80::1]:43",
        "0.0.0.0",
        "127.1",
        "0x7f000001",
        "2130706433",
        "localhost",
    ],
)
def test_a_registry_referral_to_a_non_public_address_in_any_spelling_is_refused(registry, referral):
    registry.refer("lan.test", referral)
    outcome, facts, elapsed = whois("lan.test", registry)
    assert outcome.status is LookupStatus.OK  # the registry's own answer stands
    assert "not followed" in outcome.reason, outcome.reason
    assert len(outcome.captures) == 1 and facts.registrar.name == "Loop Names Ltd"
    assert elapsed < 1.5


# -- RDAP links and redirects -----------------------------------------------------------


@pytest.fixture
def peer() -> Iterator[RdapPeer]:
    with RdapPeer() as running:
        yield running


def rdap(peer: RdapPeer, domain: str = "soundsbox.test", **changes):
    settings = dataclasses.replace(
        LookupSettings(rdap_base_url=peer.url + "/", allow_private_addresses=False, timeout_s=2.0),
        **changes,
    )

    async def run():
        # allow_loopback: the registry peer itself is on 127.0.0.1; everything else that
        # is not public stays refused.
        async with RdapSession(settings, allow_loopback=True) as session:
            politeness = Politeness(max_in_flight=8, min_interval_s=0.0, backoff_s=0.0)
            return await rdap_domain(normalise_domain(domain), settings, session, politeness)

    return asyncio.run(run())


REGISTRAR_LINK = b"https://rdap.vienna-domains.test/rdap/domain/soundsbox.test"


@pytest.mark.parametrize(
    "link",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://[fe80::1]/rdap/domain/soundsbox.test",
        "http://[fd00::5]/rdap/domain/soundsbox.test",
        "http://100.64.0.1/rdap/domain/soundsbox.test",
        "http://0.0.0.0/rdap/domain/soundsbox.test",
    ],
)
def test_a_related_link_to_a_non_public_address_is_not_followed(peer, link):
    document = fixture_bytes("domain-soundsbox.test-registry.json")
    peer.add("/domain/soundsbox.test", document.replace(REGISTRAR_LINK, link.encode()))
    outcome, facts = rdap(peer)
    assert outcome.status is LookupStatus.OK and len(outcome.captures) == 1
    assert "private, loopback or link-local" in outcome.reason, outcome.reason
    assert facts.registrar.name == "Vienna Domains GmbH"
    assert len(peer.requests) == 1


@pytest.mark.parametrize(
    ("location", "why"),
    [
        ("file:///etc/passwd", "only http and https"),
        ("ftp://127.0.0.1/rdap", "only http and https"),
        ("http://user:secret@{host}/domain/soundsbox.test", "carries credentials"),
        ("http://169.254.169.254/latest/meta-data/", "private, loopback or link-local"),
        ("http://[::ffff:a00:1]/rdap", "private, loopback or link-local"),
    ],
    ids=["file", "ftp", "credentials", "metadata", "mapped-private"],
)
def test_a_redirect_the_server_chose_is_refused_before_anything_is_sent(peer, location, why):
    host = peer.url.split("//", 1)[1]
    peer.fault("/domain/sneaky.test", "redirect", location=location.format(host=host))
    outcome, _ = rdap(peer, "sneaky.test")
    assert outcome.status is LookupStatus.FAILED
    assert why in outcome.reason, outcome.reason
    assert [r.path for r in peer.requests] == ["/domain/sneaky.test"]
    assert not any("authorization" in {k.lower() for k in r.headers} for r in peer.requests)


def test_a_related_link_carrying_credentials_is_not_followed(peer):
    host = peer.url.split("//", 1)[1]
    link = f"http://registrar:secret@{host}/domain/soundsbox.test".encode()
    document = fixture_bytes("domain-soundsbox.test-registry.json")
    peer.add("/domain/soundsbox.test", document.replace(REGISTRAR_LINK, link))
    outcome, _ = rdap(peer)
    assert "carries credentials" in outcome.reason, outcome.reason
    assert len(peer.requests) == 1
    assert all("Authorization" not in r.headers for r in peer.requests)


@pytest.mark.parametrize("spelling", ["2130706433", "0x7f000001", "127.1", "localhost"])
def test_a_host_spelling_loopback_as_a_number_or_name_is_refused_once_resolved(spelling):
    """What the RDAP client connects through: names (and the number forms the system
    resolver reads as addresses) are judged on the addresses they resolve to."""

    async def resolve():
        # Made inside the loop, as the client's session makes it.
        resolver = _GuardedResolver(lambda address: address_allowed(address, False))
        try:
            return await resolver.resolve(spelling, 80)
        finally:
            await resolver.close()

    with pytest.raises(AddressRefused, match=r"127\.0\.0\.1|::1"):
        asyncio.run(resolve())


def test_proxies_and_netrc_from_the_environment_are_ignored(peer, tmp_path, monkeypatch):
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login investigator password hunter2\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.setenv(name, "http://127.0.0.1:9/")  # the discard port: nothing there
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    outcome, _ = rdap(peer, allow_private_addresses=True)
    assert outcome.status is LookupStatus.OK, outcome.reason  # direct, not via the proxy
    assert peer.requests
    for request in peer.requests:
        names = {name.lower() for name in request.headers}
        assert not names & {"authorization", "proxy-authorization", "cookie"}


def test_a_redirect_from_https_to_plain_http_is_refused(monkeypatch):
    # Trust the test peer's certificate (only here), so that the redirect is reached.
    trusting = ssl.create_default_context(cadata=SELF_SIGNED_CERT)
    monkeypatch.setattr(rdap_client, "_ssl_context", lambda: trusting)
    with RdapPeer(tls=True) as tls_peer, RdapPeer() as plain:
        assert rdap(tls_peer, "allofmp3.test")[0].status is LookupStatus.OK  # trusted
        tls_peer.fault(
            "/domain/sneaky.test", "redirect", location=f"{plain.url}/domain/allofmp3.test"
        )
        outcome, _ = rdap(tls_peer, "sneaky.test")
        assert outcome.status is LookupStatus.FAILED
        assert "from https to plain http" in outcome.reason, outcome.reason
        assert plain.requests == []


# -- DNS --------------------------------------------------------------------------------


def test_a_resolver_on_a_loopback_address_is_the_users_choice_and_is_asked(tmp_path):
    def answer(query):
        if query.question[0].rdtype == 1:  # A: an address on a private network
            return [uncompressed_a_answer(query, bytes([10, 0, 0, 7]))]
        return [empty_answer(query)]

    server = ScriptedDnsServer(answer)
    settings = LookupSettings(allow_private_addresses=False, timeout_s=3.0, dns_lifetime_s=1.0)

    async def run():
        async with server:
            chosen = dataclasses.replace(settings, dns_server=server.server)
            return await dns_lookup(normalise_hostname("soundsbox.test"), chosen)

    outcome, facts = asyncio.run(run())
    assert outcome.status is LookupStatus.OK, outcome.reason
    # The private address is recorded as what the server said; nothing connects to it.
    assert facts.addresses == ["10.0.0.7"]


def test_the_command_line_accepts_a_private_resolver_without_allowing_private_referrals():
    from workbench.cli import build_parser
    from workbench.cli.lookup_commands import settings_from_args

    args = build_parser().parse_args(["lookup", "x.test", "--dns-server", "10.0.0.53:5353"])
    settings = settings_from_args(args)
    assert (settings.dns_server.host, settings.dns_server.port) == ("10.0.0.53", 5353)
    assert settings.allow_private_addresses is False
