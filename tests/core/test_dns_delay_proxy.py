"""The benchmark's delaying DNS proxy, in front of a real Knot on 127.0.0.1."""

from __future__ import annotations

import asyncio
import time

import dns.asyncquery
import dns.message
import dns.rcode
import pytest

from bench.dns_delay_proxy import DnsDelayProxy
from tests.peers.knot import running_knot
from workbench.lookups.settings import ServerAddress

pytestmark = pytest.mark.peers


@pytest.fixture(scope="module")
def knot():
    with running_knot() as peer:
        yield peer


async def ask(server: ServerAddress, name: str, rdtype: str, query_id: int | None = None):
    query = dns.message.make_query(name, rdtype)
    if query_id is not None:
        query.id = query_id
    start = time.perf_counter()
    response = await dns.asyncquery.udp(query, server.host, port=server.port, timeout=2)
    return response, time.perf_counter() - start


def test_a_query_through_the_proxy_is_answered_after_at_least_the_delay(knot):
    async def run():
        async with DnsDelayProxy(knot.server, delay_s=0.15) as proxy:
            direct, direct_s = await ask(knot.server, "soundsbox.test", "A")
            proxied, proxied_s = await ask(proxy.address, "soundsbox.test", "A")
            return direct, direct_s, proxied, proxied_s, proxy.forwarded, proxy.answered

    direct, direct_s, proxied, proxied_s, forwarded, answered = asyncio.run(run())
    assert proxied.rcode() == dns.rcode.NOERROR
    assert proxied.answer == direct.answer
    assert proxied_s >= 0.15
    assert direct_s < 0.1
    assert (forwarded, answered) == (1, 1)


def test_two_clients_using_the_same_query_id_each_get_their_own_answer(knot):
    async def run():
        async with DnsDelayProxy(knot.server, delay_s=0.05) as proxy:
            return await asyncio.gather(
                ask(proxy.address, "soundsbox.test", "A", query_id=4242),
                ask(proxy.address, "allofmp3.test", "A", query_id=4242),
            )

    (first, _), (second, _) = asyncio.run(run())
    assert first.id == second.id == 4242
    assert [rr.to_text() for rr in first.answer[0]] == ["192.0.2.10"]
    assert [rr.to_text() for rr in second.answer[0]] == ["198.51.100.20"]


def test_many_queries_in_flight_take_one_delay_not_one_each(knot):
    async def run():
        async with DnsDelayProxy(knot.server, delay_s=0.2) as proxy:
            start = time.perf_counter()
            results = await asyncio.gather(
                *(ask(proxy.address, "soundsbox.test", "MX") for _ in range(50))
            )
            return results, time.perf_counter() - start

    results, elapsed = asyncio.run(run())
    assert all(response.rcode() == dns.rcode.NOERROR for response, _ in results)
    assert 0.2 <= elapsed < 0.8


def test_the_proxy_refuses_to_forward_off_this_machine():
    with pytest.raises(ValueError, match="not a loopback address"):
        DnsDelayProxy(ServerAddress("192.0.2.1", 53), delay_s=0.01)
