"""Refresh the TLD -> WHOIS server map from IANA, on a machine that is online.

IANA's own WHOIS server (whois.iana.org) answers a query for a TLD with a record whose
`whois:` line names that TLD's registry server (absent when it has none). Asking it for
every TLD is the authoritative way to rebuild the map; it takes a few minutes because the
queries are paced politely. The new map goes to the user's data folder (the app's own
folder may be read-only) and replaces the old one only when every TLD was answered.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import tempfile
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path

from workbench.domain.errors import WorkbenchError
from workbench.lookups.politeness import Politeness
from workbench.lookups.settings import ServerAddress
from workbench.lookups.whois_transport import WhoisTransportError, fetch_whois

IANA_WHOIS = ServerAddress("whois.iana.org", 43)
_WHOIS_LINE = re.compile(r"^whois:\s*(\S*)\s*$", re.IGNORECASE | re.MULTILINE)
_DOMAIN_LINE = re.compile(r"^domain:\s*(\S+)\s*$", re.IGNORECASE | re.MULTILINE)


class WhoisRefreshError(WorkbenchError):
    """IANA could not be asked about every TLD; the old map was kept."""


def server_from_iana_record(tld: str, text: str) -> str | None:
    """The registry WHOIS server an IANA TLD record names, or None when it names none.

    Raises WhoisRefreshError when the text is not IANA's record for `tld`."""
    domain = _DOMAIN_LINE.search(text)
    if domain is None or domain.group(1).strip(".").lower() != tld.lower():
        raise WhoisRefreshError(f"IANA's answer for .{tld} is not a record of that TLD")
    found = _WHOIS_LINE.search(text)
    server = found.group(1).strip().rstrip(".").lower() if found else ""
    return server or None


async def ask_iana(
    tlds: Iterable[str],
    *,
    server: ServerAddress = IANA_WHOIS,
    interval_s: float = 0.2,
    deadline_s: float = 15.0,
    on_progress: Callable[[int, int], None] | None = None,
) -> dict[str, str | None]:
    """{tld: server or None} for every TLD, asked one at a time, `interval_s` apart."""
    names = sorted(set(tlds))
    politeness = Politeness(max_in_flight=1, min_interval_s=interval_s)
    answers: dict[str, str | None] = {}
    for done, tld in enumerate(names, 1):
        async with politeness.slot(str(server)):
            try:
                capture = await fetch_whois(
                    server, tld, deadline_s=deadline_s, max_bytes=256 * 1024
                )
            except WhoisTransportError as exc:
                raise WhoisRefreshError(f"asking {server} about .{tld} failed: {exc}") from None
        text = capture.raw.decode("utf-8", errors="replace")
        answers[tld] = server_from_iana_record(tld, text)
        if on_progress:
            on_progress(done, len(names))
    return answers


def write_server_map(
    dest: Path, servers: dict[str, str | None], query_forms: dict[str, str], source: str
) -> Path:
    """Write servers.json atomically into `dest`, keeping the query forms."""
    document = {
        "_meta": {
            "description": "Top-level domain -> registry WHOIS server (port 43). null: IANA "
            "lists no WHOIS server for that TLD.",
            "source": source,
            "published": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "tlds": len(servers),
            "tlds_without_server": sum(1 for s in servers.values() if s is None),
        },
        "query_forms": query_forms,
        "servers": dict(sorted(servers.items())),
    }
    dest.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".servers.", suffix=".tmp", dir=dest)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(document, handle, indent=1, ensure_ascii=False)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, dest / "servers.json")
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return dest / "servers.json"


def refresh_server_map(
    dest: Path,
    tlds: Iterable[str],
    query_forms: dict[str, str],
    *,
    server: ServerAddress = IANA_WHOIS,
    interval_s: float = 0.2,
    deadline_s: float = 15.0,
    on_progress: Callable[[int, int], None] | None = None,
) -> Path:
    """Ask IANA about every TLD in `tlds` and write the new map; the old one stays on any
    failure."""
    servers = asyncio.run(
        ask_iana(
            tlds,
            server=server,
            interval_s=interval_s,
            deadline_s=deadline_s,
            on_progress=on_progress,
        )
    )
    return write_server_map(dest, servers, query_forms, f"{server} (IANA), asked per TLD")
