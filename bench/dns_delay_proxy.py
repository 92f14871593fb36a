"""A UDP DNS proxy on loopback that holds every answer back by a fixed delay.

Real resolvers are tens of milliseconds away; a Knot server on 127.0.0.1 answers in
microseconds. Putting this proxy between the workbench and Knot lets the bulk lookup
benchmark see how concurrency copes with real latency, on one machine.

One UDP socket faces the clients and one faces the upstream server. Query ids are
rewritten on the way up (two clients may pick the same id) and restored on the way back,
so the proxy costs a dictionary lookup per query rather than a socket. UDP only: an
answer truncated by the upstream reaches the client with its TC flag, and the client's
TCP retry to the proxy port is refused.

    async with DnsDelayProxy(ServerAddress("127.0.0.1", knot_port), delay_s=0.05) as proxy:
        settings = LookupSettings(dns_server=proxy.address)

As a program (stops by itself after --duration-s):
    python bench/dns_delay_proxy.py --upstream 127.0.0.1:5300 --delay-ms 50
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import itertools
import socket
import struct
import time
from types import TracebackType

from workbench.lookups.settings import ServerAddress, parse_server

LOOPBACK_ANY_PORT = ServerAddress("127.0.0.1", 0)
RECEIVE_BUFFER_BYTES = 8 * 1024 * 1024
# An upstream query not answered within this long is forgotten and its id reused.
PENDING_TTL_S = 30.0


def _require_loopback(address: ServerAddress, what: str) -> None:
    # A benchmark tool must never send traffic off this machine.
    try:
        loopback = ipaddress.ip_address(address.host).is_loopback
    except ValueError:
        loopback = address.host == "localhost"
    if not loopback:
        raise ValueError(f"{what} {address} is not a loopback address; this proxy is for tests")


def _enlarge_receive_buffer(sock) -> None:
    # A bulk run sends hundreds of queries in one burst, all to this one socket (and all
    # answers come back to one socket): with the default buffer (208 KiB, about 300
    # small datagrams) the kernel drops the rest and the benchmark measures timeouts.
    # The kernel caps the size at net.core.rmem_max.
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER_BYTES)


class _Side(asyncio.DatagramProtocol):
    def __init__(self, on_datagram) -> None:
        self.on_datagram = on_datagram

    def datagram_received(self, data: bytes, addr) -> None:
        self.on_datagram(data, addr)

    def error_received(self, exc: Exception) -> None:
        # An ICMP error for one client or one query must not stop the proxy.
        pass


class DnsDelayProxy:
    """Forward DNS over UDP from `listen` to `upstream`, delaying each answer by `delay_s`.

    `forwarded` and `answered` count queries sent upstream and answers sent back.
    """

    def __init__(
        self,
        upstream: ServerAddress,
        delay_s: float,
        listen: ServerAddress = LOOPBACK_ANY_PORT,
    ):
        _require_loopback(upstream, "upstream")
        _require_loopback(listen, "listen address")
        if delay_s < 0:
            raise ValueError(f"delay must not be negative, got {delay_s}")
        self.upstream = upstream
        self.delay_s = delay_s
        self._listen = listen
        self._clients: asyncio.DatagramTransport | None = None
        self._upstream: asyncio.DatagramTransport | None = None
        # proxy id -> (client address, client's id bytes, when sent)
        self._pending: dict[int, tuple[object, bytes, float]] = {}
        self._ids = itertools.cycle(range(65536))
        self._timers: set[asyncio.TimerHandle] = set()
        self.forwarded = 0
        self.answered = 0

    @property
    def address(self) -> ServerAddress:
        """Where clients send their queries."""
        if self._clients is None:
            raise RuntimeError("the proxy is not started")
        host, port = self._clients.get_extra_info("sockname")[:2]
        return ServerAddress(host, port)

    async def start(self) -> ServerAddress:
        loop = asyncio.get_running_loop()
        self._upstream, _ = await loop.create_datagram_endpoint(
            lambda: _Side(self._from_upstream),
            remote_addr=(self.upstream.host, self.upstream.port),
        )
        self._clients, _ = await loop.create_datagram_endpoint(
            lambda: _Side(self._from_client),
            local_addr=(self._listen.host, self._listen.port),
        )
        for transport in (self._upstream, self._clients):
            _enlarge_receive_buffer(transport.get_extra_info("socket"))
        return self.address

    def close(self) -> None:
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()
        for transport in (self._clients, self._upstream):
            if transport is not None:
                transport.close()

    async def __aenter__(self) -> DnsDelayProxy:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _allocate_id(self) -> int | None:
        now = time.monotonic()
        for _ in range(65536):
            candidate = next(self._ids)
            entry = self._pending.get(candidate)
            if entry is None or now - entry[2] > PENDING_TTL_S:
                return candidate
        return None  # 65,536 queries in flight: drop this one, as a busy server would

    def _from_client(self, data: bytes, addr: object) -> None:
        if len(data) < 12 or self._upstream is None:
            return
        proxy_id = self._allocate_id()
        if proxy_id is None:
            return
        self._pending[proxy_id] = (addr, data[:2], time.monotonic())
        self._upstream.sendto(struct.pack("!H", proxy_id) + data[2:])
        self.forwarded += 1

    def _from_upstream(self, data: bytes, addr: object) -> None:
        if len(data) < 12:
            return
        (proxy_id,) = struct.unpack("!H", data[:2])
        entry = self._pending.pop(proxy_id, None)
        if entry is None:
            return
        client, client_id, _sent = entry
        answer = client_id + data[2:]
        loop = asyncio.get_running_loop()
        timer: asyncio.TimerHandle

        def send() -> None:
            self._timers.discard(timer)
            if self._clients is not None and not self._clients.is_closing():
                self._clients.sendto(answer, client)
                self.answered += 1

        timer = loop.call_later(self.delay_s, send)
        self._timers.add(timer)


async def _serve(upstream: ServerAddress, listen: ServerAddress, delay_s: float, duration_s: float):
    async with DnsDelayProxy(upstream, delay_s, listen) as proxy:
        print(
            f"listening on {proxy.address}, forwarding to {upstream}, delay {delay_s * 1000:g} ms"
        )
        await asyncio.sleep(duration_s)
        print(f"forwarded {proxy.forwarded}, answered {proxy.answered}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--upstream", required=True, help="HOST:PORT of the DNS server")
    parser.add_argument("--delay-ms", type=float, required=True)
    parser.add_argument("--listen-host", default="127.0.0.1")
    parser.add_argument("--listen-port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--duration-s", type=float, default=600.0, help="stop after this long")
    args = parser.parse_args(argv)
    upstream = parse_server(args.upstream, 53, "--upstream")
    listen = ServerAddress(args.listen_host, args.listen_port)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(upstream, listen, args.delay_ms / 1000, args.duration_s))


if __name__ == "__main__":
    main()
