"""The WHOIS lookup against a real WHOIS peer on 127.0.0.1: referrals, faults, politeness,
and the bundled server map it starts from."""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator

import pytest

from tests.peers.whois_server import WhoisPeer, fixture
from workbench.domain.normalise import normalise_domain
from workbench.lookups.politeness import Politeness
from workbench.lookups.results import LookupStatus
from workbench.lookups.settings import LookupSettings, ServerAddress
from workbench.lookups.whois_servers import (
    NoWhoisServer,
    load_server_map,
    query_for,
    server_for,
)
from workbench.lookups.whois_transport import (
    WhoisOffline,
    WhoisTimeout,
    WhoisTooLarge,
    fetch_whois,
    whois_lookup,
)

pytestmark = pytest.mark.peers

REGISTRAR = "whois.viennadomains.test"


@pytest.fixture
def registry() -> Iterator[WhoisPeer]:
    with WhoisPeer({"soundsbox.test": fixture("soundsbox_test_registry")}) as peer:
        yield peer


@pytest.fixture
def registrar() -> Iterator[WhoisPeer]:
    with WhoisPeer({"soundsbox.test": fixture("soundsbox_test_registrar")}) as peer:
        yield peer


def settings_for(
    registry: WhoisPeer, registrar: WhoisPeer | None = None, **changes
) -> LookupSettings:
    values = {
        "whois_server": registry.address,
        "whois_overrides": {REGISTRAR: registrar.address} if registrar else {},
        "allow_private_addresses": True,
        "timeout_s": 2.0,
        **changes,
    }
    return LookupSettings(**values)


def lookup(domain: str, settings: LookupSettings, politeness: Politeness | None = None):
    politeness = politeness or Politeness(max_in_flight=2, min_interval_s=0.0)
    return asyncio.run(whois_lookup(normalise_domain(domain), settings, politeness))


def timed_lookup(domain: str, settings: LookupSettings):
    start = time.monotonic()
    outcome, facts = lookup(domain, settings)
    return outcome, facts, time.monotonic() - start


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- the demo case --------------------------------------------------------------------


def test_lookup_follows_the_registrar_referral_and_keeps_both_answers(registry, registrar):
    outcome, facts = lookup("soundsbox.test", settings_for(registry, registrar))
    assert outcome.status is LookupStatus.OK
    assert outcome.reason is None
    assert [c.raw for c in outcome.captures] == [
        fixture("soundsbox_test_registry"),
        fixture("soundsbox_test_registrar"),
    ]
    assert [c.server for c in outcome.captures] == [str(registry.address), str(registrar.address)]
    assert all(c.protocol == "whois" and c.query == "soundsbox.test" for c in outcome.captures)
    registrant = next(c for c in facts.contacts if c.role == "registrant")
    assert (registrant.name, registrant.city, registrant.country) == (
        "Pedro Kresker",
        "Luxembourg",
        "LU",
    )
    assert registrant.phone == registrant.fax == "+35226480123"
    assert facts.registrar.name == "Vienna Domains GmbH"
    assert facts.registrar.abuse_email == "abuse@viennadomains.test"


def test_overrides_route_the_referral_name_to_the_registrar_peer(registry, registrar):
    lookup("soundsbox.test", settings_for(registry, registrar))
    assert registry.queries == ["soundsbox.test"]
    assert registrar.queries == ["soundsbox.test"]


def test_the_registry_is_found_in_the_bundled_map_and_asked_in_its_own_query_form(registrar):
    replies = {"domain melodymart-example.com": fixture("com_verisign_thin")}
    with WhoisPeer(replies) as verisign:
        settings = LookupSettings(
            whois_overrides={
                "whois.verisign-grs.com": verisign.address,
                "whois.harbournames.example": registrar.address,
            },
            allow_private_addresses=True,
            timeout_s=2.0,
        )
        registrar.serve("melodymart-example.com", fixture("com_registrar_thick_redacted"))
        outcome, facts = lookup("www.MelodyMart-Example.com", settings)
        assert verisign.queries == ["domain melodymart-example.com"]
    assert registrar.queries == ["melodymart-example.com"]
    assert outcome.status is LookupStatus.OK and len(outcome.captures) == 2
    registrant = next(c for c in facts.contacts if c.role == "registrant")
    assert registrant.organisation == "Melody Mart Ltd"
    assert "registrant.name" in facts.redacted


def test_debian_whois_client_understands_the_peer(registry):
    whois = shutil.which("whois")
    if whois is None:
        pytest.skip("the Debian whois client is not installed")
    result = subprocess.run(
        [whois, "-h", "127.0.0.1", "-p", str(registry.port), "soundsbox.test"],
        capture_output=True,
        timeout=20,
        check=False,
    )
    assert result.returncode == 0
    assert b"Registrar WHOIS Server: whois.viennadomains.test" in result.stdout
    assert registry.queries == ["soundsbox.test"]


# --- faults ---------------------------------------------------------------------------


def test_nothing_listening_means_offline_with_nothing_captured():
    settings = LookupSettings(whois_server=ServerAddress("127.0.0.1", free_port()), timeout_s=2.0)
    outcome, facts, elapsed = timed_lookup("soundsbox.test", settings)
    assert outcome.status is LookupStatus.OFFLINE
    assert "cannot connect" in outcome.reason
    assert outcome.captures == [] and facts is None
    assert elapsed < 1.0


def test_offline_mode_asks_nobody(registry):
    outcome, facts = lookup("soundsbox.test", settings_for(registry, offline=True))
    assert outcome.status is LookupStatus.OFFLINE
    assert registry.queries == [] and facts is None


def test_a_silent_server_fails_at_the_deadline(registry):
    registry.silent("soundsbox.test")
    outcome, facts, elapsed = timed_lookup("soundsbox.test", settings_for(registry, timeout_s=0.5))
    assert outcome.status is LookupStatus.FAILED
    assert "0.5 s deadline" in outcome.reason
    assert facts is None
    assert 0.45 <= elapsed < 1.5


def test_a_trickling_server_hits_the_overall_deadline_not_a_per_read_one(registry):
    registry.trickle("soundsbox.test", fixture("soundsbox_test_registry"), interval_s=0.05)
    outcome, _, elapsed = timed_lookup("soundsbox.test", settings_for(registry, timeout_s=0.5))
    assert outcome.status is LookupStatus.FAILED
    assert "deadline" in outcome.reason
    assert 0.45 <= elapsed < 1.5
    # What did arrive is kept as evidence of the failed lookup.
    [capture] = outcome.captures
    assert 3 <= len(capture.raw) < len(fixture("soundsbox_test_registry"))
    assert fixture("soundsbox_test_registry").startswith(capture.raw)


def test_a_truncated_answer_that_still_holds_the_record_is_parsed(registry):
    registry.truncated("soundsbox.test", fixture("soundsbox_test_registry"))
    outcome, facts = lookup("soundsbox.test", settings_for(registry))
    assert outcome.status is LookupStatus.OK
    assert facts.registrar.name == "Vienna Domains GmbH"
    assert len(outcome.captures[0].raw) == len(fixture("soundsbox_test_registry")) // 2


def test_a_truncated_answer_cut_inside_the_disclaimer_fails(registry):
    registry.truncated("klangarchiv-beispiel.at", fixture("at_nicat"))
    outcome, facts = lookup("klangarchiv-beispiel.at", settings_for(registry))
    assert outcome.status is LookupStatus.FAILED
    assert "no registration data" in outcome.reason
    assert facts is None
    assert len(outcome.captures) == 1  # the half that came is kept


def test_binary_garbage_fails_and_is_kept(registry):
    registry.garbage("soundsbox.test", size=4096)
    outcome, facts = lookup("soundsbox.test", settings_for(registry))
    assert outcome.status is LookupStatus.FAILED
    assert "binary" in outcome.reason
    assert len(outcome.captures[0].raw) == 4096 and facts is None


def test_a_five_megabyte_answer_fails_at_the_size_cap_keeping_the_first_bytes(registry):
    registry.huge("soundsbox.test")
    cap = 256 * 1024
    outcome, facts = lookup("soundsbox.test", settings_for(registry, max_response_bytes=cap))
    assert outcome.status is LookupStatus.FAILED and facts is None
    assert "size cap" in outcome.reason
    [capture] = outcome.captures
    assert len(capture.raw) == cap
    assert capture.raw.startswith(b"Remark: this registry answer goes on")


def test_a_rate_limit_reply_is_rate_limited_and_backs_off_that_server(registry):
    registry.rate_limited("soundsbox.test")
    politeness = Politeness(max_in_flight=2, min_interval_s=0.0, backoff_s=0.6)
    settings = settings_for(registry)

    async def twice():
        first = await whois_lookup(normalise_domain("soundsbox.test"), settings, politeness)
        start = time.monotonic()
        await whois_lookup(normalise_domain("soundsbox.test"), settings, politeness)
        return first, time.monotonic() - start

    (outcome, facts), second_waited = asyncio.run(twice())
    assert outcome.status is LookupStatus.RATE_LIMITED
    assert facts is None and len(outcome.captures) == 1
    assert second_waited >= 0.5  # the back-off held the next query to that server


def test_an_unregistered_domain_is_not_found(registry):
    outcome, facts = lookup("nosuchname.test", settings_for(registry))
    assert outcome.status is LookupStatus.NOT_FOUND
    assert facts is None and len(outcome.captures) == 1


# --- referrals ------------------------------------------------------------------------


def test_a_referral_loop_is_followed_once_only(registry, registrar):
    registry.refer("loop.test", REGISTRAR)
    registrar.refer("loop.test", str(registry.address))  # the registrar points back
    outcome, facts = lookup("loop.test", settings_for(registry, registrar))
    assert registry.queries == ["loop.test"]
    assert registrar.queries == ["loop.test"]
    assert outcome.status is LookupStatus.OK and len(outcome.captures) == 2
    assert "back to the registry" in outcome.reason and "not followed" in outcome.reason
    assert facts.registrar.name == "Loop Names Ltd"


def test_a_registry_referring_to_itself_is_asked_once(registry):
    registry.refer("self.test", str(registry.address))
    outcome, _ = lookup("self.test", settings_for(registry))
    assert registry.queries == ["self.test"]
    assert outcome.status is LookupStatus.OK and len(outcome.captures) == 1


def test_a_second_referral_from_the_registrar_is_not_followed(registry, registrar):
    with WhoisPeer() as third:
        registry.refer("chain.test", REGISTRAR)
        registrar.refer("chain.test", "whois.third.test")
        settings = settings_for(
            registry,
            registrar,
            whois_overrides={REGISTRAR: registrar.address, "whois.third.test": third.address},
        )
        outcome, _ = lookup("chain.test", settings)
        assert third.queries == []
    assert "whois.third.test" in outcome.reason and "one referral per lookup" in outcome.reason


def test_a_referral_to_a_loopback_address_is_refused_by_default(registry, registrar):
    settings = settings_for(registry, registrar, allow_private_addresses=False)
    outcome, facts = lookup("soundsbox.test", settings)
    assert registrar.queries == []
    assert outcome.status is LookupStatus.OK  # the registry's facts stand
    assert "not followed" in outcome.reason and "127.0.0.1" in outcome.reason
    assert len(outcome.captures) == 1
    assert facts.registrar.name == "Vienna Domains GmbH"
    assert not [c for c in facts.contacts if c.role == "registrant"]


def test_a_referral_to_a_loopback_address_is_followed_when_allowed(registry, registrar):
    outcome, _ = lookup("soundsbox.test", settings_for(registry, registrar))
    assert registrar.queries == ["soundsbox.test"] and len(outcome.captures) == 2


def test_a_literal_private_address_in_a_referral_is_refused_without_connecting(registry):
    registry.refer("lan.test", "10.20.30.40")
    settings = settings_for(registry, allow_private_addresses=False)
    outcome, _, elapsed = timed_lookup("lan.test", settings)
    assert "10.20.30.40" in outcome.reason and "not followed" in outcome.reason
    assert len(outcome.captures) == 1 and elapsed < 1.0


def test_a_referral_name_that_resolves_to_loopback_is_refused(registry, registrar):
    registry.refer("local.test", f"localhost:{registrar.port}")
    outcome, _ = lookup("local.test", settings_for(registry, allow_private_addresses=False))
    assert registrar.queries == []
    assert "localhost" in outcome.reason and "not followed" in outcome.reason


def test_a_referral_to_a_reserved_name_without_an_override_is_not_looked_up(registry):
    outcome, facts, elapsed = timed_lookup(
        "soundsbox.test", settings_for(registry, allow_private_addresses=False)
    )
    assert outcome.status is LookupStatus.OK and facts is not None
    assert "whois.viennadomains.test is a reserved name" in outcome.reason
    assert elapsed < 0.5


def test_a_silent_registrar_leaves_the_registry_facts_and_says_why(registry, registrar):
    registrar.silent("soundsbox.test")
    outcome, facts, elapsed = timed_lookup(
        "soundsbox.test", settings_for(registry, registrar, timeout_s=0.5)
    )
    assert outcome.status is LookupStatus.OK
    assert "registrar referral" in outcome.reason and "deadline" in outcome.reason
    assert facts.registrar.name == "Vienna Domains GmbH"
    assert elapsed < 1.5


def test_a_rate_limited_registrar_leaves_the_registry_facts_and_both_captures(registry, registrar):
    registrar.rate_limited("soundsbox.test")
    outcome, facts = lookup("soundsbox.test", settings_for(registry, registrar))
    assert outcome.status is LookupStatus.OK
    assert "rate_limited" in outcome.reason
    assert len(outcome.captures) == 2
    assert facts.created is not None


def test_referrals_are_not_followed_when_the_setting_is_off(registry, registrar):
    outcome, _ = lookup(
        "soundsbox.test", settings_for(registry, registrar, whois_follow_referral=False)
    )
    assert registrar.queries == [] and len(outcome.captures) == 1


# --- politeness -----------------------------------------------------------------------


def test_politeness_keeps_at_most_two_queries_in_flight_to_one_server(registry):
    names = [f"shop{i}.test" for i in range(6)]
    for name in names:
        registry.slow(name, fixture("soundsbox_test_registry"), delay_s=0.15)
    politeness = Politeness(max_in_flight=2, min_interval_s=0.0)
    settings = settings_for(registry)

    async def all_at_once():
        return await asyncio.gather(
            *(whois_lookup(normalise_domain(n), settings, politeness) for n in names)
        )

    results = asyncio.run(all_at_once())
    assert all(outcome.ok for outcome, _ in results)
    assert sorted(registry.queries) == sorted(names)
    assert registry.max_in_flight == 2


# --- the transport alone --------------------------------------------------------------


def test_fetch_whois_raises_typed_errors_that_keep_what_arrived(registry):
    registry.trickle("slow.test", b"Domain Name: SLOW.TEST\r\n", interval_s=0.05)
    registry.huge("big.test", size=200_000)

    async def run():
        with pytest.raises(WhoisTimeout) as timeout:
            await fetch_whois(registry.address, "slow.test", deadline_s=0.3, max_bytes=1000)
        with pytest.raises(WhoisTooLarge) as too_large:
            await fetch_whois(registry.address, "big.test", deadline_s=2, max_bytes=1000)
        with pytest.raises(WhoisOffline):
            await fetch_whois(
                ServerAddress("127.0.0.1", free_port()), "x.test", deadline_s=1, max_bytes=1000
            )
        return timeout.value, too_large.value

    timeout, too_large = asyncio.run(run())
    assert timeout.capture.raw and b"Domain Name: SLOW.TEST".startswith(timeout.capture.raw)
    assert len(too_large.capture.raw) == 1000


# --- the bundled server map -----------------------------------------------------------


def test_the_server_map_says_where_it_came_from():
    meta = load_server_map().meta
    assert "IANA" in meta["source"] and meta["published"].startswith("2024-09-20")
    assert len(load_server_map().servers) > 1000


def test_server_for_uses_the_map_then_overrides_then_the_explicit_server():
    com = normalise_domain("soundsbox.com")
    assert server_for(com, LookupSettings()) == ServerAddress("whois.verisign-grs.com", 43)
    assert server_for(normalise_domain("x.lu"), LookupSettings()).host == "whois.dns.lu"
    assert server_for(normalise_domain("x.рф"), LookupSettings()).host == "whois.tcinet.ru"
    routed = LookupSettings(
        whois_overrides={"whois.verisign-grs.com": ServerAddress("127.0.0.1", 4343)}
    )
    assert server_for(com, routed) == ServerAddress("127.0.0.1", 4343)
    explicit = LookupSettings(
        whois_server=ServerAddress("127.0.0.1", 4444), whois_overrides=routed.whois_overrides
    )
    assert server_for(com, explicit) == ServerAddress("127.0.0.1", 4444)


def test_query_forms_follow_what_each_registry_expects():
    assert (
        query_for("whois.verisign-grs.com", normalise_domain("soundsbox.com"))
        == "domain soundsbox.com"
    )
    assert (
        query_for("whois.denic.de", normalise_domain("müller.de")) == "-T dn,ace xn--mller-kva.de"
    )
    assert query_for("whois.dns.lu", normalise_domain("soundsbox.lu")) == "soundsbox.lu"


def test_a_tld_without_a_whois_server_is_said_plainly():
    with pytest.raises(NoWhoisServer, match="IANA lists no WHOIS server"):
        server_for(normalise_domain("example.az"), LookupSettings())
    outcome, facts = lookup("soundsbox.test", LookupSettings())
    assert outcome.status is LookupStatus.FAILED and "no WHOIS server" in outcome.reason
    assert facts is None and outcome.captures == []
