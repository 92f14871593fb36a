"""A real Knot DNS server on 127.0.0.1 for tests and benchmarks.

`running_knot()` starts `knotd` in the foreground with a generated configuration in a
temporary directory, serving every `*.zone` file of tests/fixtures/dns (the zone name is
the file name without `.zone`) on a free UDP+TCP port, waits until each zone answers,
and stops the server with SIGTERM (SIGKILL if it lingers) when the block ends. When
knotd is not installed, the test using it is skipped with a message saying so.

    with running_knot() as knot:
        settings = LookupSettings(dns_server=knot.server, allow_private_addresses=True)

What the fixture zones hold (all illustrative: the real case gives no DNS data):
- soundsbox.test: SOA, NS ns1/ns2, A 192.0.2.10, AAAA 2001:db8::10, MX 10 mail, TXT
  (SPF), CAA 0 issue "letsencrypt.org"; www is a CNAME to the apex; shop has an A
  (192.0.2.11) but no MX and no PTR.
- allofmp3.test: A 198.51.100.20, NS ns1, MX 10 mail.
- reverse zones 2.0.192.in-addr.arpa, 100.51.198.in-addr.arpa, 8.b.d.0.1.0.0.2.ip6.arpa.
- broken.test: a zone file without SOA. Knot refuses to load it and answers SERVFAIL for
  every name in the zone (checked with Knot 3.2; a missing zone file does the same).
- any name outside these zones: Knot answers REFUSED (it is not a resolver).
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import dns.exception
import dns.message
import dns.query
import dns.rcode
import pytest

from workbench.lookups.settings import ServerAddress

ZONES_DIR = Path(__file__).resolve().parent.parent / "fixtures" / "dns"
# Zones that are configured on purpose so that Knot cannot load them (SERVFAIL).
SERVFAIL_ZONES: tuple[str, ...] = ("broken.test",)
HOST = "127.0.0.1"


@dataclass(frozen=True)
class KnotPeer:
    """A running knotd: where it listens and where its files are."""

    host: str
    port: int
    config: Path
    log: Path
    zones: tuple[str, ...]
    pid: int

    @property
    def server(self) -> ServerAddress:
        return ServerAddress(self.host, self.port)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def knot_binaries() -> tuple[str, str] | None:
    """Paths of knotd and knotc, or None when Knot is not installed.

    Debian installs both in /usr/sbin, which is not on every user's PATH.
    """
    found = []
    for name in ("knotd", "knotc"):
        path = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/local/sbin")
        if path is None:
            return None
        found.append(path)
    return found[0], found[1]


def free_udp_tcp_port(host: str = HOST) -> int:
    """A port that is free for both TCP and UDP on `host` right now."""
    for _ in range(100):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
            tcp.bind((host, 0))
            port = tcp.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
                try:
                    udp.bind((host, port))
                except OSError:
                    continue
            return port
    raise RuntimeError(f"no port free for both TCP and UDP on {host}")


def zone_names(zones_dir: Path = ZONES_DIR) -> tuple[str, ...]:
    """The zones in `zones_dir`: one per `NAME.zone` file."""
    return tuple(sorted(p.name.removesuffix(".zone") for p in zones_dir.glob("*.zone")))


def knot_config(
    workdir: Path,
    port: int,
    zones_dir: Path,
    zones: Iterable[str],
    host: str = HOST,
    workers: int = 1,
) -> str:
    """The knotd configuration: zone files read in place and never written back,
    no journal, every state file under `workdir`."""
    zone_lines = "\n".join(f"  - domain: {zone}" for zone in zones)
    return f"""\
server:
    rundir: "{workdir / "run"}"
    listen: {host}@{port}
    udp-workers: {workers}
    tcp-workers: {workers}
    background-workers: 1
log:
  - target: stderr
    any: info
database:
    storage: "{workdir / "db"}"
template:
  - id: default
    storage: "{zones_dir}"
    file: "%s.zone"
    zonefile-sync: -1
    zonefile-load: whole
    journal-content: none
zone:
{zone_lines}
"""


def _answers(host: str, port: int, zone: str) -> bool:
    query = dns.message.make_query(zone, "SOA")
    try:
        response = dns.query.udp(query, host, port=port, timeout=0.2)
    except (dns.exception.DNSException, OSError):
        return False
    return response.rcode() == dns.rcode.NOERROR and bool(response.answer)


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


@contextlib.contextmanager
def running_knot(
    zones_dir: Path = ZONES_DIR,
    zones: Iterable[str] | None = None,
    *,
    workers: int = 1,
    start_timeout_s: float = 10.0,
) -> Iterator[KnotPeer]:
    """Run knotd on 127.0.0.1 for the duration of the block (see the module docstring).

    `zones` defaults to every zone file in `zones_dir`; `workers` sets Knot's UDP and TCP
    worker threads (1 is plenty for tests; benchmarks may want more).
    """
    binaries = knot_binaries()
    if binaries is None:
        pytest.skip("Knot DNS is not installed (apt-get install knot): no DNS test peer")
    knotd, knotc = binaries
    zones_dir = zones_dir.resolve()
    zone_list = tuple(zones) if zones is not None else zone_names(zones_dir)
    must_answer = [zone for zone in zone_list if zone not in SERVFAIL_ZONES]
    with tempfile.TemporaryDirectory(prefix="knot-") as tmp:
        workdir = Path(tmp)
        (workdir / "run").mkdir()
        (workdir / "db").mkdir()
        config = workdir / "knot.conf"
        log = workdir / "knotd.log"
        failures: list[str] = []
        # Another process may take the port between our probe and knotd's bind; knotd then
        # exits at once and we try again on another port.
        for _attempt in range(3):
            port = free_udp_tcp_port()
            config.write_text(knot_config(workdir, port, zones_dir, zone_list, workers=workers))
            check = subprocess.run(
                [knotc, "-c", str(config), "conf-check"],
                capture_output=True,
                text=True,
                timeout=30,
                check=False,
            )
            if check.returncode != 0:
                raise RuntimeError(f"knotc conf-check refused {config}: {check.stderr.strip()}")
            with log.open("wb") as log_file:
                process = subprocess.Popen(
                    [knotd, "-c", str(config)],
                    stdin=subprocess.DEVNULL,
                    stdout=log_file,
                    stderr=subprocess.STDOUT,
                )
            try:
                deadline = time.monotonic() + start_timeout_s
                pending = list(must_answer)
                while pending and process.poll() is None and time.monotonic() < deadline:
                    pending = [zone for zone in pending if not _answers(HOST, port, zone)]
                    if pending:
                        time.sleep(0.02)
                if process.poll() is not None:
                    failures.append(f"knotd exited with {process.returncode}:\n{_tail(log)}")
                    continue
                if pending:
                    raise RuntimeError(
                        f"knotd did not serve {', '.join(pending)} within {start_timeout_s} s:"
                        f"\n{_tail(log)}"
                    )
                yield KnotPeer(HOST, port, config, log, zone_list, process.pid)
                return
            finally:
                _stop(process)
        raise RuntimeError("knotd would not start:\n" + "\n".join(failures))


def _tail(log: Path, lines: int = 20) -> str:
    text = log.read_text(errors="replace") if log.exists() else ""
    return "\n".join(text.splitlines()[-lines:])
