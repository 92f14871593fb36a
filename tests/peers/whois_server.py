"""A real WHOIS responder for tests: an asyncio TCP server on 127.0.0.1, in its own thread.

It speaks RFC 3912 (read one query line, answer, close) and serves canned answers per
exact query line, with fault modes per query: silent, trickle, truncated, garbage, huge,
slow, rate-limited and referral answers. It records every query it received, and how
many connections it held at once, so tests assert on what the client really did.

    with WhoisPeer({"soundsbox.test": fixture("soundsbox_test_registry")}) as peer:
        peer.silent("slow.test")
        settings = LookupSettings(whois_server=peer.address, ...)

An unknown query gets a Verisign-style `No match for "QUERY".` answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from workbench.lookups.settings import ServerAddress

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "whois"


def fixture(name: str) -> bytes:
    """The bytes of tests/fixtures/whois/NAME.txt."""
    return (FIXTURES / f"{name}.txt").read_bytes()


@dataclass(frozen=True)
class Reply:
    """How the peer answers one query."""

    body: bytes = b""
    mode: str = "answer"  # answer | silent | trickle | truncated | garbage | huge | slow
    interval_s: float = 1.0  # trickle: seconds between bytes
    delay_s: float = 0.0  # slow: seconds before the answer
    size: int = 0  # garbage, huge: bytes to send


def _as_reply(value: bytes | str | Reply) -> Reply:
    if isinstance(value, Reply):
        return value
    return Reply(value.encode("utf-8") if isinstance(value, str) else value)


class WhoisPeer:
    """A WHOIS server on 127.0.0.1 (a free port), started and stopped by the test."""

    def __init__(self, replies: Mapping[str, bytes | str | Reply] | None = None):
        self._replies: dict[str, Reply] = {q: _as_reply(r) for q, r in (replies or {}).items()}
        self._queries: list[str] = []
        self._lock = threading.Lock()
        self._in_flight = 0
        self.max_in_flight = 0
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task] = set()

    # --- what to answer ---------------------------------------------------------------

    def serve(self, query: str, reply: bytes | str | Reply) -> None:
        self._replies[query] = _as_reply(reply)

    def silent(self, query: str) -> None:
        """Accept the query and never answer (until the client gives up)."""
        self.serve(query, Reply(mode="silent"))

    def trickle(self, query: str, body: bytes, interval_s: float = 1.0) -> None:
        """Send `body` one byte every `interval_s` seconds."""
        self.serve(query, Reply(body, mode="trickle", interval_s=interval_s))

    def truncated(self, query: str, body: bytes) -> None:
        """Send the first half of `body`, then close as if that were all."""
        self.serve(query, Reply(body, mode="truncated"))

    def garbage(self, query: str, size: int = 4096) -> None:
        """Send `size` random binary bytes (seeded: the same bytes every run)."""
        self.serve(query, Reply(mode="garbage", size=size))

    def huge(self, query: str, size: int = 5 * 1024 * 1024) -> None:
        """Send `size` bytes of text (5 MB by default), as fast as the client reads."""
        self.serve(query, Reply(mode="huge", size=size))

    def slow(self, query: str, body: bytes, delay_s: float) -> None:
        """Wait `delay_s`, then answer `body`."""
        self.serve(query, Reply(body, mode="slow", delay_s=delay_s))

    def rate_limited(self, query: str) -> None:
        """Answer as PIR does when a client asks too often."""
        self.serve(query, fixture("rate_limited_pir"))

    def refer(self, query: str, server: str, domain: str | None = None) -> None:
        """Answer with a thin record whose only referral is to `server` (host or host:port):
        point it back at this peer's own name to make a referral loop."""
        name = (domain or query.split()[-1]).upper()
        body = (
            f"   Domain Name: {name}\r\n"
            f"   Registrar WHOIS Server: {server}\r\n"
            "   Registrar: Loop Names Ltd\r\n"
            "   Creation Date: 2009-10-12T14:03:27Z\r\n"
            f"   Name Server: NS1.{name}\r\n"
        )
        self.serve(query, body)

    # --- what happened ----------------------------------------------------------------

    @property
    def queries(self) -> list[str]:
        """Every query line received, in order (without CRLF)."""
        with self._lock:
            return list(self._queries)

    @property
    def address(self) -> ServerAddress:
        return ServerAddress("127.0.0.1", self.port)

    # --- life cycle -------------------------------------------------------------------

    def start(self) -> WhoisPeer:
        ready = threading.Event()
        loop = asyncio.new_event_loop()
        self._loop = loop

        def run() -> None:
            asyncio.set_event_loop(loop)
            self._server = loop.run_until_complete(
                asyncio.start_server(self._handle, "127.0.0.1", 0, backlog=128)
            )
            self.port = self._server.sockets[0].getsockname()[1]
            ready.set()
            loop.run_forever()

        self._thread = threading.Thread(target=run, name="whois-peer", daemon=True)
        self._thread.start()
        if not ready.wait(5):
            raise RuntimeError("the WHOIS peer did not start within 5 s")
        return self

    def stop(self) -> None:
        if self._loop is None or self._thread is None:
            return
        future = asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop)
        with contextlib.suppress(Exception):
            future.result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()
        self._loop = self._thread = None

    def __enter__(self) -> WhoisPeer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def _shutdown(self) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    # --- one connection ---------------------------------------------------------------

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self._in_flight)
        try:
            line = await asyncio.wait_for(reader.readline(), 5)
            query = line.decode("utf-8", "replace").rstrip("\r\n")
            with self._lock:
                self._queries.append(query)
            reply = self._replies.get(query) or Reply(
                f'No match for "{query.upper()}".\r\n'.encode()
            )
            await self._send(reply, reader, writer)
        except (ConnectionError, TimeoutError, asyncio.CancelledError):
            pass  # the client left or the peer is stopping: nothing to answer
        finally:
            self._in_flight -= 1
            writer.close()
            self._tasks.discard(task)

    async def _send(
        self, reply: Reply, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        if reply.mode == "silent":
            await reader.read()  # returns when the client closes
            return
        if reply.mode == "slow":
            await asyncio.sleep(reply.delay_s)
        if reply.mode == "trickle":
            for byte in reply.body:
                writer.write(bytes([byte]))
                await writer.drain()
                await asyncio.sleep(reply.interval_s)
            return
        if reply.mode == "truncated":
            writer.write(reply.body[: len(reply.body) // 2])
        elif reply.mode == "garbage":
            writer.write(random.Random(43).randbytes(reply.size))
        elif reply.mode == "huge":
            line = b"Remark: this registry answer goes on and on and on and on.\r\n"
            chunk = line * (65536 // len(line))
            sent = 0
            while sent < reply.size:
                piece = chunk[: reply.size - sent]
                writer.write(piece)
                await writer.drain()
                sent += len(piece)
        else:
            writer.write(reply.body)
        await writer.drain()
