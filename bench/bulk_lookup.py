"""Bulk lookups: the workbench against a bare client loop over the same servers, in one run.

DNS: N generated zones (A, AAAA, MX, NS, TXT, SOA, plus PTR in two reverse zones) served
by a local Knot, behind bench/dns_delay_proxy.py (in its own process) holding every
answer back by --delay-ms. The workbench runs its bulk lookup exactly as the CLI does
(`start_run` + `run_lookups`, DNS only) into a fresh store with a case, so the figure
includes parsing, evidence, entities, links, snapshots and the audit chain. The baseline is
a bare dnspython asyncio loop (`dns.asyncquery.udp`) asking the same record types of the
same names, then PTR of every address found, at the same concurrency (domains in flight).

RDAP: N generated domain documents (registrar with IANA id and abuse contact, registrant
redacted per RFC 9537 for most, real for some, nameservers, events, notices) served as
static files by nginx on 127.0.0.1. The workbench runs its bulk RDAP lookup (politeness
gate wide open) into a fresh store; the baseline is a bare aiohttp loop fetching the same
URLs and decoding the JSON, at the same concurrency.

Each round measures both, alternating which goes first (machines here are noisy). The
summary gives the median throughput of each and the median of the per-round ratios
workbench/bare; the last lines are `RESULT <name> <domains/s> domains/s ratio=<x>`.

    python bench/bulk_lookup.py                                # 1,000 domains, 20 ms, 5 rounds
    python bench/bulk_lookup.py --domains 20 --delay-ms 0 --rounds 1 --warmup 0   # smoke
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `bench` and `workbench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp
import dns.asyncquery
import dns.exception
import dns.message
import dns.rdatatype
import dns.reversename

from bench.nginx_static import running_nginx
from workbench.domain.normalise import normalise_domain
from workbench.lookups.dns_lookup import EDNS_PAYLOAD
from workbench.lookups.dns_parse import NAME_RECORD_TYPES
from workbench.lookups.settings import LookupSettings, ServerAddress
from workbench.services.lookup_runs import LookupPlan, run_lookups, start_run
from workbench.store.cases import create_case
from workbench.store.database import open_store, writing

REPO = Path(__file__).resolve().parent.parent
PROXY_SCRIPT = REPO / "bench" / "dns_delay_proxy.py"

# Addresses from the benchmarking ranges (RFC 2544, RFC 5180): never routed anywhere.
IPV4_BASE = ipaddress.IPv4Address("198.18.0.0")
IPV6_BASE = ipaddress.IPv6Address("2001:2::")
IPV4_REVERSE_ZONE = "18.198.in-addr.arpa"
IPV6_REVERSE_ZONE = "0.0.0.0.2.0.0.0.1.0.0.2.ip6.arpa"
MAX_DOMAINS = 65_000  # every IPv4 address stays inside 198.18.0.0/16, one reverse zone
HOSTING_GROUPS = 10  # nameserver pairs shared by many domains, as hosting companies do
REGISTRARS = 20
DNS_PLAN = LookupPlan(whois=False, rdap=False, dns=True, ip_rdap=False)
RDAP_PLAN = LookupPlan(whois=False, rdap=True, dns=False, ip_rdap=False)


# -- the data ----------------------------------------------------------------------------------


def bench_domains(count: int) -> list[str]:
    if not 0 < count <= MAX_DOMAINS:
        raise ValueError(f"between 1 and {MAX_DOMAINS} domains, not {count}")
    return [f"bulk{number:05d}.test" for number in range(count)]


def _addresses(number: int) -> tuple[str, str]:
    return str(IPV4_BASE + number + 1), str(IPV6_BASE + number + 1)


def write_dns_zones(directory: Path, domains: list[str]) -> list[str]:
    """One zone file per domain plus the two reverse zones; returns the zone names."""
    serial = "2025010101 7200 3600 1209600 3600"
    ptr4, ptr6 = [], []
    for number, domain in enumerate(domains):
        ipv4, ipv6 = _addresses(number)
        group = number % HOSTING_GROUPS
        (directory / f"{domain}.zone").write_text(
            f"$ORIGIN {domain}.\n$TTL 3600\n"
            f"@ SOA ns1.hosting{group}.test. hostmaster.{domain}. {serial}\n"
            f"@ NS ns1.hosting{group}.test.\n"
            f"@ NS ns2.hosting{group}.test.\n"
            f"@ A {ipv4}\n"
            f"@ AAAA {ipv6}\n"
            f"@ MX 10 mail.{domain}.\n"
            f'@ TXT "v=spf1 ip4:{ipv4} -all"\n'
            f"mail A {ipv4}\n"
        )
        ptr4.append(f"{dns.reversename.from_address(ipv4)} PTR {domain}.")
        ptr6.append(f"{dns.reversename.from_address(ipv6)} PTR {domain}.")
    for zone, records in ((IPV4_REVERSE_ZONE, ptr4), (IPV6_REVERSE_ZONE, ptr6)):
        (directory / f"{zone}.zone").write_text(
            f"$ORIGIN {zone}.\n$TTL 3600\n"
            f"@ SOA ns1.hosting0.test. hostmaster.hosting0.test. {serial}\n"
            f"@ NS ns1.hosting0.test.\n" + "\n".join(records) + "\n"
        )
    return [*domains, IPV4_REVERSE_ZONE, IPV6_REVERSE_ZONE]


def _vcard(*properties: list) -> list:
    return ["vcard", [["version", {}, "text", "4.0"], *properties]]


def rdap_document(number: int, domain: str) -> dict:
    """A registry's domain document shaped like those real RDAP servers return."""
    registrar = number % REGISTRARS
    group = number % HOSTING_GROUPS
    registrant: dict = {"objectClassName": "entity", "roles": ["registrant"]}
    redacted = []
    if number % 5:  # most registrants hide behind privacy redaction (RFC 9537)
        registrant["vcardArray"] = _vcard(
            ["fn", {}, "text", ""],
            ["org", {}, "text", "REDACTED FOR PRIVACY"],
            ["adr", {"cc": "PA"}, "text", ["", "", "", "", "", "", ""]],
        )
        for field in ("Name", "Street", "City", "Email", "Phone"):
            redacted.append(
                {
                    "name": {"type": f"Registrant {field}"},
                    "pathLang": "jsonpath",
                    "method": "emptyValue",
                    "reason": {"type": "Server policy"},
                }
            )
    else:
        registrant["handle"] = f"C{number:07d}"
        registrant["vcardArray"] = _vcard(
            ["fn", {}, "text", f"Holder {number} Example"],
            ["org", {}, "text", f"Bulk Media {number} Ltd"],
            ["adr", {"cc": "LU"}, "text", ["", "", f"{number} rue des Bains", "Luxembourg"]],
            ["tel", {"type": "voice"}, "uri", f"tel:+352.26{number:06d}"],
            ["tel", {"type": "fax"}, "uri", f"tel:+352.27{number:06d}"],
            ["email", {}, "text", f"owner{number}@{domain}"],
        )
    document = {
        "objectClassName": "domain",
        "handle": f"{number}_DOMAIN_TEST-REG",
        "ldhName": domain.upper(),
        "links": [
            {
                "value": f"https://rdap.nic.test/domain/{domain}",
                "rel": "self",
                "href": f"https://rdap.nic.test/domain/{domain}",
                "type": "application/rdap+json",
            }
        ],
        "status": ["client transfer prohibited", "client update prohibited"],
        "entities": [
            {
                "objectClassName": "entity",
                "handle": str(9000 + registrar),
                "roles": ["registrar"],
                "publicIds": [{"type": "IANA Registrar ID", "identifier": str(9000 + registrar)}],
                "vcardArray": _vcard(["fn", {}, "text", f"Bench Registrar {registrar} GmbH"]),
                "entities": [
                    {
                        "objectClassName": "entity",
                        "roles": ["abuse"],
                        "vcardArray": _vcard(
                            ["fn", {}, "text", f"Bench Registrar {registrar} Abuse Desk"],
                            ["tel", {"type": "voice"}, "uri", f"tel:+43.1526{registrar:04d}"],
                            ["email", {}, "text", f"abuse@registrar{registrar}.test"],
                        ),
                    }
                ],
            },
            registrant,
        ],
        "events": [
            {"eventAction": "registration", "eventDate": "2019-10-12T14:22:07Z"},
            {"eventAction": "expiration", "eventDate": "2026-10-12T14:22:07Z"},
            {"eventAction": "last changed", "eventDate": "2025-01-13T09:01:44Z"},
        ],
        "secureDNS": {"delegationSigned": False},
        "nameservers": [
            {"objectClassName": "nameserver", "ldhName": f"NS{n}.HOSTING{group}.TEST"}
            for n in (1, 2)
        ],
        "rdapConformance": ["rdap_level_0", "icann_rdap_response_profile_1", "redacted"],
        "notices": [
            {
                "title": "Terms of Use",
                "description": ["Service subject to Terms of Use."],
                "links": [{"href": "https://rdap.nic.test/terms", "type": "text/html"}],
            }
        ],
    }
    if redacted:
        document["redacted"] = redacted
    return document


def write_rdap_documents(docroot: Path, domains: list[str]) -> None:
    """docroot/domain/<name>: where a base URL of http://HOST:PORT puts each document."""
    folder = docroot / "domain"
    folder.mkdir(parents=True, exist_ok=True)
    for number, domain in enumerate(domains):
        (folder / domain).write_text(json.dumps(rdap_document(number, domain), indent=1))


# -- peers -------------------------------------------------------------------------------------


@contextlib.contextmanager
def delay_proxy(upstream: ServerAddress, delay_ms: float) -> Iterator[ServerAddress]:
    """bench/dns_delay_proxy.py in its own process (so its work is not charged to the
    clients measured here); yields where to send queries."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-u",
            str(PROXY_SCRIPT),
            "--upstream",
            str(upstream),
            "--delay-ms",
            str(delay_ms),
            "--duration-s",
            "7200",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    try:
        line = process.stdout.readline() if process.stdout else ""
        if not line.startswith("listening on "):
            process.kill()
            errors = process.stderr.read() if process.stderr else ""
            raise RuntimeError(f"the delay proxy did not start: {line}{errors}")
        host, _, port = line.split()[2].rstrip(",").rpartition(":")
        yield ServerAddress(host.strip("[]"), int(port))
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for stream in (process.stdout, process.stderr):
            if stream:
                stream.close()


# -- the two sides -----------------------------------------------------------------------------


@dataclass
class Measured:
    """One side of one round: how long N domains took (wall clock, and CPU time of this
    process's threads and of the run's network process, not the servers) and how many
    did not come back whole."""

    domains: int
    seconds: float
    cpu_seconds: float
    failed: int
    child_cpu_seconds: float = 0.0  # of cpu_seconds: the run's network process

    def split(self) -> str:
        """Where the CPU went, when a child process did part of the work."""
        if not self.child_cpu_seconds:
            return ""
        own = (self.cpu_seconds - self.child_cpu_seconds) / self.domains * 1000
        child = self.child_cpu_seconds / self.domains * 1000
        return f" = {own:.2f} storing + {child:.2f} network process"

    @property
    def rate(self) -> float:
        return self.domains / self.seconds

    @property
    def cpu_ms(self) -> float:
        """CPU milliseconds per domain: what a loaded machine distorts least."""
        return self.cpu_seconds / self.domains * 1000


async def _bare_dns(
    domains: list[str], server: ServerAddress, concurrency: int, timeout_s: float
) -> int:
    """Ask every record type of every domain, then PTR of each address; returns how many
    domains had any query fail."""
    slots = asyncio.Semaphore(concurrency)

    async def ask(name: str, rdtype: str) -> dns.message.Message | None:
        query = dns.message.make_query(name, rdtype, use_edns=0, payload=EDNS_PAYLOAD)
        try:
            return await dns.asyncquery.udp(query, server.host, port=server.port, timeout=timeout_s)
        except (dns.exception.DNSException, OSError):
            return None

    async def one(domain: str) -> bool:
        async with slots:
            answers = await asyncio.gather(*(ask(domain, t) for t in NAME_RECORD_TYPES))
            addresses = [
                rdata.address
                for answer in answers
                if answer is not None
                for rrset in answer.answer
                if rrset.rdtype in (dns.rdatatype.A, dns.rdatatype.AAAA)
                for rdata in rrset
            ]
            reverse = [dns.reversename.from_address(a).to_text() for a in addresses]
            answers += await asyncio.gather(*(ask(name, "PTR") for name in reverse))
            return all(answer is not None for answer in answers) and bool(addresses)

    results = await asyncio.gather(*(one(domain) for domain in domains))
    return results.count(False)


async def _bare_rdap(urls: list[str], concurrency: int) -> int:
    """GET every URL and decode its JSON; returns how many did not come back as 200 JSON."""
    slots = asyncio.Semaphore(concurrency)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as http:

        async def one(url: str) -> bool:
            async with slots:
                try:
                    async with http.get(url) as response:
                        body = await response.read()
                        json.loads(body)
                        return response.status == 200
                except (aiohttp.ClientError, ValueError, OSError):
                    return False

        results = await asyncio.gather(*(one(url) for url in urls))
    return results.count(False)


def measure_bare(run: Callable[[], Awaitable[int]], count: int) -> Measured:
    start, cpu = time.perf_counter(), time.process_time()
    failed = asyncio.run(run())
    return Measured(count, time.perf_counter() - start, time.process_time() - cpu, failed)


def _children_cpu() -> float:
    """CPU seconds of this process's children that have ended: a bulk run's network half
    runs in a child process, whose time counts as the workbench's."""
    times = os.times()
    return times.children_user + times.children_system


def measure_workbench(
    store_dir: Path, domains: list[str], settings: LookupSettings, plan: LookupPlan
) -> Measured:
    """A bulk run into a fresh store with one case, as `workbench lookup --case` does it:
    from recording the run to the last domain stored."""
    hostnames = [normalise_domain(d) for d in domains]
    with tempfile.TemporaryDirectory(dir=store_dir, prefix="bulk-store-") as tmp:
        db = open_store(Path(tmp) / "store.sqlite")
        try:
            with writing(db):
                case = create_case(db, "Bulk lookup benchmark")
            start, cpu, child = time.perf_counter(), time.process_time(), _children_cpu()
            run_id = start_run(db, hostnames, case_id=case.id, plan=plan)
            report = run_lookups(db, run_id, settings)
            seconds, own = time.perf_counter() - start, time.process_time() - cpu
            child = _children_cpu() - child
        finally:
            db.close()
    failed = sum(
        1 for result in report.results if any(part["status"] != "ok" for part in result["lookups"])
    )
    return Measured(
        len(domains), seconds, own + child, failed + (len(domains) - report.done), child
    )


# -- rounds ------------------------------------------------------------------------------------


@dataclass
class Comparison:
    name: str
    bare: list[Measured]
    workbench: list[Measured]

    @property
    def ratios(self) -> list[float]:
        return [w.rate / b.rate for b, w in zip(self.bare, self.workbench, strict=True)]

    def summary(self) -> str:
        bare = statistics.median(m.rate for m in self.bare)
        wb = statistics.median(m.rate for m in self.workbench)
        spread = ", ".join(f"{r:.2f}" for r in self.ratios)
        bare_cpu = statistics.median(m.cpu_ms for m in self.bare)
        wb_cpu = statistics.median(m.cpu_ms for m in self.workbench)
        return (
            f"{self.name}: median bare {bare:.1f} domains/s, workbench {wb:.1f} domains/s, "
            f"ratio {statistics.median(self.ratios):.2f} (per round: {spread}); "
            f"CPU per domain: bare {bare_cpu:.2f} ms, workbench {wb_cpu:.2f} ms "
            f"(ratio {bare_cpu / wb_cpu:.2f})"
        )

    def result_line(self) -> str:
        wb = statistics.median(m.rate for m in self.workbench)
        return f"RESULT {self.name} {wb:.1f} domains/s ratio={statistics.median(self.ratios):.2f}"


def compare(
    name: str,
    rounds: int,
    bare: Callable[[], Measured],
    workbench: Callable[[], Measured],
) -> Comparison:
    """`rounds` rounds of both sides, alternating which goes first."""
    comparison = Comparison(name, [], [])
    for number in range(rounds):
        sides = [("bare", bare), ("workbench", workbench)]
        if number % 2:
            sides.reverse()
        measured = {label: side() for label, side in sides}
        comparison.bare.append(measured["bare"])
        comparison.workbench.append(measured["workbench"])
        b, w = measured["bare"], measured["workbench"]
        note = ""
        if b.failed or w.failed:
            note = f"  NOT LIKE FOR LIKE: failed domains bare {b.failed}, workbench {w.failed}"
        print(
            f"{name} round {number + 1}: bare {b.rate:.1f}/s ({b.seconds:.2f} s, "
            f"{b.cpu_ms:.2f} ms CPU/domain), workbench {w.rate:.1f}/s ({w.seconds:.2f} s, "
            f"{w.cpu_ms:.2f} ms CPU/domain{w.split()}), ratio {w.rate / b.rate:.2f}{note}",
            flush=True,
        )
    return comparison


def run_dns(args: argparse.Namespace, domains: list[str], workdir: Path) -> Comparison:
    # Imported here: it skips through pytest when Knot is missing, which a plain program
    # must report instead.
    from tests.peers.knot import knot_binaries, running_knot

    if knot_binaries() is None:
        raise SystemExit("Knot DNS is not installed (apt-get install knot): no DNS benchmark")
    zones_dir = workdir / "zones"
    zones_dir.mkdir()
    zones = write_dns_zones(zones_dir, domains)
    with contextlib.ExitStack() as stack:
        knot = stack.enter_context(running_knot(zones_dir, zones, workers=args.knot_workers))
        server = knot.server
        if args.delay_ms > 0:
            server = stack.enter_context(delay_proxy(knot.server, args.delay_ms))
        settings = LookupSettings(
            dns_server=server,
            concurrency=args.concurrency,
            timeout_s=30.0,
            dns_lifetime_s=args.timeout_s,
            allow_private_addresses=True,
        )
        warm = domains[: args.warmup]
        if warm:
            _bare_dns_side(warm, server, args)()
            measure_workbench(workdir, warm, settings, DNS_PLAN)
        return compare(
            "bulk_lookup_dns",
            args.rounds,
            _bare_dns_side(domains, server, args),
            lambda: measure_workbench(workdir, domains, settings, DNS_PLAN),
        )


def _bare_dns_side(domains: list[str], server: ServerAddress, args) -> Callable[[], Measured]:
    return lambda: measure_bare(
        lambda: _bare_dns(domains, server, args.concurrency, args.timeout_s), len(domains)
    )


def run_rdap(args: argparse.Namespace, domains: list[str], workdir: Path) -> Comparison:
    docroot = workdir / "rdap"
    write_rdap_documents(docroot, domains)
    # nginx's workers drop root privileges: they must be able to read the documents.
    for folder in (workdir, docroot, docroot / "domain"):
        folder.chmod(0o755)
    with running_nginx(docroot, f"/domain/{domains[0]}", workers=args.nginx_workers) as base:
        settings = LookupSettings(
            rdap_base_url=base,
            concurrency=args.concurrency,
            per_server_concurrency=args.concurrency,
            per_server_interval_s=0.0,
            timeout_s=30.0,
            allow_private_addresses=True,
        )
        urls = [f"{base}/domain/{domain}" for domain in domains]

        def bare(count: int) -> Callable[[], Measured]:
            return lambda: measure_bare(lambda: _bare_rdap(urls[:count], args.concurrency), count)

        if args.warmup:
            bare(args.warmup)()
            measure_workbench(workdir, domains[: args.warmup], settings, RDAP_PLAN)
        return compare(
            "bulk_lookup_rdap",
            args.rounds,
            bare(len(domains)),
            lambda: measure_workbench(workdir, domains, settings, RDAP_PLAN),
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--domains", type=int, default=1000)
    parser.add_argument("--delay-ms", type=float, default=20.0, help="0: no proxy at all")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=50, help="domains of an untimed round")
    parser.add_argument(
        "--concurrency",
        type=int,
        default=LookupSettings().concurrency,
        help="domains in flight, both sides (default: the app's)",
    )
    parser.add_argument("--timeout-s", type=float, default=5.0, help="per DNS query")
    parser.add_argument("--only", choices=("dns", "rdap"), help="run one of the two")
    parser.add_argument("--knot-workers", type=int, default=1)
    parser.add_argument("--nginx-workers", type=int, default=1)
    parser.add_argument(
        "--store-dir", type=Path, default=None, help="where the fresh stores go (default: tmp)"
    )
    args = parser.parse_args(argv)
    domains = bench_domains(args.domains)
    args.warmup = min(args.warmup, args.domains)
    print(
        f"bulk_lookup: {args.domains} domains, {args.rounds} rounds, concurrency "
        f"{args.concurrency}, DNS delay {args.delay_ms:g} ms, pid {os.getpid()}",
        flush=True,
    )
    comparisons = []
    with tempfile.TemporaryDirectory(prefix="bulk-lookup-", dir=args.store_dir) as tmp:
        workdir = Path(tmp)
        if args.only in (None, "dns"):
            comparisons.append(run_dns(args, domains, workdir))
        if args.only in (None, "rdap"):
            comparisons.append(run_rdap(args, domains, workdir))
    for comparison in comparisons:
        print(comparison.summary())
    for comparison in comparisons:
        print(comparison.result_line())
    return 0


if __name__ == "__main__":
    sys.exit(main())
