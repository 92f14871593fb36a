"""Politeness per server: a cap on queries in flight, a minimum gap between them, and a
back-off after a server says we asked too often.

WHOIS servers in particular answer abuse with silence or bans, so every transport asks
the one `Politeness` of its run for a slot before it connects.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field


@dataclass
class _ServerState:
    slots: asyncio.Semaphore
    next_start: float = 0.0  # monotonic time before which no new query may start
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class Politeness:
    """Per-server limits for one asyncio loop.

    `max_in_flight` queries at once per server, starts at least `min_interval_s` apart,
    and after `back_off(server)` no start for `backoff_s`.
    """

    def __init__(
        self, max_in_flight: int = 2, min_interval_s: float = 1.0, backoff_s: float = 30.0
    ):
        self.max_in_flight = max(1, max_in_flight)
        self.min_interval_s = max(0.0, min_interval_s)
        self.backoff_s = backoff_s
        self._servers: dict[str, _ServerState] = {}

    def _state(self, server: str) -> _ServerState:
        state = self._servers.get(server)
        if state is None:
            state = _ServerState(asyncio.Semaphore(self.max_in_flight))
            self._servers[server] = state
        return state

    @contextlib.asynccontextmanager
    async def slot(self, server: str) -> AsyncIterator[None]:
        """Wait until a query to `server` may start, and hold a slot while it runs."""
        state = self._state(server)
        async with state.slots:
            async with state.lock:
                delay = state.next_start - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                state.next_start = time.monotonic() + self.min_interval_s
            yield

    def back_off(self, server: str, seconds: float | None = None) -> None:
        """Hold further queries to `server` after it rate-limited us."""
        state = self._state(server)
        wait = self.backoff_s if seconds is None else seconds
        state.next_start = max(state.next_start, time.monotonic() + wait)
