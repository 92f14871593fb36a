"""Commands that reach servers: lookup, evidence import, data refresh."""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from workbench.cli.output import CommandResult, table, warn
from workbench.domain.errors import InvalidInput, NotFound
from workbench.domain.homoglyphs import value_warnings
from workbench.domain.times import parse_when
from workbench.lookups.settings import LookupSettings, parse_server

# The lookup machinery (aiohttp, dnspython, python-whois) is imported by the handlers, not
# here, so that every other command starts without it.
IMPORT_KINDS = ("whois", "rdap", "rdap_ip", "dns")


def register(
    subcommands: argparse._SubParsersAction, common: argparse.ArgumentParser, groups: dict
) -> None:
    p = subcommands.add_parser(
        "lookup",
        parents=[common],
        help="WHOIS, RDAP and DNS lookups of domains or URLs",
        description="Look up domains (or URLs: the registrable domain is used) and store "
        "every response as evidence, linked into the case. An IP address, or a URL served at "
        "one (a storefront on a bare address), has no domain: its WHOIS, RDAP and DNS "
        "lookups are skipped and RDAP of the address's network is asked instead.",
    )
    p.add_argument("queries", nargs="*", metavar="DOMAIN_OR_URL")
    p.add_argument("--case", type=int)
    p.add_argument("--from-file", metavar="F", help="one domain per line; - for stdin")
    p.add_argument(
        "--resume",
        type=int,
        metavar="RUN_ID",
        help="finish an interrupted run (its domains not yet stored)",
    )
    p.add_argument(
        "--whois-server",
        metavar="HOST:PORT",
        help="ask this server instead of the registry the TLD map names",
    )
    p.add_argument(
        "--whois-override",
        action="append",
        default=[],
        metavar="NAME=HOST:PORT",
        help="reach the server called NAME (in the map or a referral) at HOST:PORT",
    )
    p.add_argument("--rdap-url", metavar="URL", help="RDAP base URL instead of the bootstrap's")
    p.add_argument("--rdap-ip-url", metavar="URL", help="RDAP base URL for addresses")
    p.add_argument("--dns-server", metavar="HOST:PORT", help="resolver (default 1.1.1.1:53)")
    p.add_argument("--no-whois", action="store_true")
    p.add_argument("--no-rdap", action="store_true")
    p.add_argument("--no-dns", action="store_true")
    p.add_argument("--no-ip-rdap", action="store_true", help="skip RDAP of the addresses")
    p.add_argument(
        "--timeout",
        type=float,
        default=15.0,
        metavar="S",
        help="overall deadline per lookup (default 15)",
    )
    p.add_argument("--concurrency", type=int, default=20, help="domains in flight (default 20)")
    p.add_argument(
        "--polite-interval",
        type=float,
        default=1.0,
        metavar="S",
        help="minimum gap between queries to one server (default 1)",
    )
    p.add_argument(
        "--allow-private-addresses",
        action="store_true",
        help="allow servers and referrals on private or loopback addresses",
    )
    p.add_argument("--offline", action="store_true", help="record every lookup as offline")
    p.set_defaults(handler=lookup_command)

    p = groups["evidence"].add_parser(
        "import",
        parents=[common],
        help="import a recorded WHOIS, RDAP or DNS response",
        description="Run a recorded response through the same parsers and linking as a "
        "live lookup, marked as imported with its claimed capture time.",
    )
    p.add_argument("--case", type=int, required=True)
    p.add_argument("--kind", required=True, help=", ".join(IMPORT_KINDS))
    p.add_argument("--domain", help="the domain the response is about")
    p.add_argument("--ip", help="the address (for --kind rdap_ip)")
    p.add_argument("--captured-at", required=True, metavar="ISO")
    p.add_argument("--source", help="the server it came from, if known")
    p.add_argument(
        "files",
        nargs="+",
        metavar="FILE",
        help="one response, or several making one lookup (registry, registrar)",
    )
    p.set_defaults(handler=evidence_import_command)

    data = subcommands.add_parser("data", help="the data the app ships")
    data_commands = data.add_subparsers(
        dest="data_command", metavar="COMMAND", required=True, parser_class=type(data)
    )
    p = data_commands.add_parser(
        "refresh",
        parents=[common],
        help="update the RDAP bootstrap files and the TLD -> WHOIS server map from IANA "
        "(needs network)",
    )
    p.add_argument(
        "--what",
        choices=("all", "rdap", "whois"),
        default="all",
        help="rdap: the four bootstrap files (seconds); whois: ask IANA's WHOIS about every "
        "TLD (a few minutes, paced politely); all (default): both",
    )
    p.add_argument(
        "--dest",
        type=Path,
        default=None,
        help="folder for the new copies (rdap/ and whois/ inside it); default: the user data "
        "folder, which lookups then prefer to the bundled copies",
    )
    p.add_argument(
        "--iana-whois",
        default="whois.iana.org:43",
        metavar="HOST:PORT",
        help="IANA's WHOIS server (default whois.iana.org:43)",
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=15.0,
        metavar="S",
        help="give up on a file after this many seconds (default 15)",
    )
    p.set_defaults(handler=data_refresh_command, needs_store=False)


def settings_from_args(args) -> LookupSettings:
    overrides = {}
    for item in args.whois_override:
        name, sep, address = item.partition("=")
        if not sep or not name.strip():
            raise InvalidInput("--whois-override", item, "must be NAME=HOST:PORT")
        overrides[name.strip().lower().rstrip(".")] = parse_server(address, 43, "--whois-override")
    if not 0 < args.timeout <= 600:
        raise InvalidInput("--timeout", args.timeout, "must be between 0 and 600 seconds")
    if not 1 <= args.concurrency <= 1000:
        raise InvalidInput("--concurrency", args.concurrency, "must be 1-1000")
    for name in ("rdap_url", "rdap_ip_url"):
        url = getattr(args, name)
        if url and not url.startswith(("http://", "https://")):
            raise InvalidInput("--" + name.replace("_", "-"), url, "must be an http(s) URL")
    return LookupSettings(
        whois_server=parse_server(args.whois_server, 43, "--whois-server")
        if args.whois_server
        else None,
        whois_overrides=overrides,
        rdap_base_url=args.rdap_url,
        rdap_ip_base_url=args.rdap_ip_url or args.rdap_url,
        dns_server=parse_server(args.dns_server, 53, "--dns-server")
        if args.dns_server
        else LookupSettings().dns_server,
        timeout_s=args.timeout,
        dns_lifetime_s=min(args.timeout, LookupSettings().dns_lifetime_s),
        concurrency=args.concurrency,
        per_server_interval_s=max(0.0, args.polite_interval),
        allow_private_addresses=args.allow_private_addresses,
        offline=args.offline,
    )


def _read_lines(source: str) -> list[str]:
    if source == "-":
        return sys.stdin.read().splitlines()
    try:
        return Path(source).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise InvalidInput("--from-file", source, "does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput("--from-file", source, f"cannot be read as text ({exc})") from None


def lookup_command(args, db: Database) -> CommandResult:
    from workbench.services.address_lookups import address_in
    from workbench.services.lookup_runs import LookupPlan, parse_queries, run_lookups, start_run

    settings = settings_from_args(args)
    if args.resume is not None:
        if args.queries or args.from_file:
            raise InvalidInput("--resume", args.resume, "takes no domains: it finishes a run")
        run_id = args.resume
        addresses, warnings = [], []
        if db.execute("SELECT 1 FROM lookup_runs WHERE id = ?", [run_id]).fetchone() is None:
            raise NotFound("lookup run", run_id)
    else:
        lines = list(args.queries) + (_read_lines(args.from_file) if args.from_file else [])
        if not lines:
            raise InvalidInput("domain", "", "give at least one DOMAIN_OR_URL or --from-file")
        # A storefront on a bare address (http://203.0.113.7/shop/) has no domain: its
        # address is looked up on its own, after the run, and the domain lookups skipped.
        _refuse_bad_urls(lines)
        addresses = [a for a in map(address_in, lines) if a]
        # Address lines become blank ones, which parse_queries skips: a bad line is still
        # named by its number in the file.
        names = ["" if address_in(line) else line for line in lines]
        warnings = _lookalike_warnings(names)
        plan = LookupPlan(
            whois=not args.no_whois,
            rdap=not args.no_rdap,
            dns=not args.no_dns,
            ip_rdap=not args.no_ip_rdap,
        )
        has_names = any(n.strip() and not n.strip().startswith("#") for n in names)
        domains = parse_queries(names) if has_names or not addresses else []
        if not domains:
            return _address_lookups(args, db, settings, addresses, [], warnings, shown=False)
        run_id = start_run(db, domains, case_id=args.case, plan=plan)
        warn(warnings)  # now that the run is accepted: a run of thousands takes a while
    # Said before any lookup: after a kill -9 nothing else would tell the user which run
    # to resume.
    print(
        f"workbench: lookup run {run_id} (if interrupted: workbench lookup --resume {run_id})",
        file=sys.stderr,
        flush=True,
    )
    reporter = None if getattr(args, "json", False) else _ProgressLine()
    report = run_lookups(db, run_id, settings, on_progress=reporter)
    if reporter:
        reporter.finish()
    if getattr(args, "json", False):
        _describe_found(db, report.results)
    rows = []
    for result in report.results:
        statuses = {}
        for lookup in result["lookups"]:
            if lookup["protocol"] == "rdap_ip":
                continue
            statuses[lookup["protocol"]] = lookup["status"] + (
                f" ({lookup['reason']})" if lookup["status"] != "ok" and lookup["reason"] else ""
            )
        rows.append(
            [
                result["display"],
                statuses.get("whois", "-"),
                statuses.get("rdap", "-"),
                statuses.get("dns", "-"),
            ]
        )
    text = table(rows, ["DOMAIN", "WHOIS", "RDAP", "DNS"])
    text += f"\nrun {report.run_id}: {report.done} of {report.total} domains stored"
    if report.cancelled:
        text += f" (interrupted: workbench lookup --resume {report.run_id})"
        return CommandResult(report.as_dict(), text, warnings=warnings, warnings_shown=True)
    if args.resume is None and addresses:
        run = [report.as_dict(), text]
        return _address_lookups(args, db, settings, addresses, run, warnings)
    return CommandResult(report.as_dict(), text, warnings=warnings, warnings_shown=True)


def _refuse_bad_urls(lines: list[str]) -> None:
    """A URL given to look up must be a web URL a storefront could have, as `storefront
    add --url` requires (not ftp:, not a port past 65535), though only its domain is asked
    about. Every bad line is named in one error, as for bad domains."""
    from workbench.domain.normalise import normalise_url

    bad = []
    for number, line in enumerate(lines, 1):
        text = line.strip()
        if "://" not in text or text.startswith("#"):
            continue
        try:
            normalise_url(text, "url")
        except InvalidInput as exc:
            bad.append(f"line {number}: {exc.value!r} {exc.reason}")
    if bad:
        shown = "; ".join(bad[:5]) + (f"; and {len(bad) - 5} more" if len(bad) > 5 else "")
        raise InvalidInput("domain list", f"{len(bad)} bad entries", shown)


def _lookalike_warnings(lines: list[str]) -> list[str]:
    """Warnings for lookup targets that are not the names they look like (a Cyrillic 'а'
    in 'pаypal.com', mixed scripts, invisible characters): they are looked up all the
    same, as given, and the warning goes on stderr and into `--json`."""
    warnings: list[str] = []
    for line in lines:
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        kind = "url" if "://" in text or "/" in text or "@" in text else "domain"
        warnings.extend(value_warnings(kind, text))
    return list(dict.fromkeys(warnings))


def _address_lookups(
    args,
    db: Database,
    settings,
    addresses: list[str],
    run: list,
    warnings: list[str],
    *,
    shown: bool = True,
) -> CommandResult:
    """Look up `addresses` (storefronts on bare IPs) and report them after the domain run
    given as `run` ([its dict, its text], or [] when there was none)."""
    from workbench.services.address_lookups import look_up_addresses

    found = look_up_addresses(
        db, addresses, settings, case_id=args.case, ip_rdap=not args.no_ip_rdap
    )
    rows = []
    for result in found:
        rdap = "skipped (--no-ip-rdap)"
        for lookup in result.lookups:
            rdap = f"{lookup.status} (the address's network)"
            if lookup.status != "ok" and lookup.reason:
                rdap = f"{lookup.status} ({lookup.reason})"
        rows.append([result.address, "skipped (an address)", rdap, "skipped (an address)"])
    text = table(rows, ["ADDRESS", "WHOIS", "RDAP", "DNS"])
    text += f"\n{len(found)} addresses: no domain to ask WHOIS, domain RDAP or DNS about"
    data = (
        run[0]
        if run
        else {"run_id": None, "total": 0, "done": 0, "cancelled": False, "results": []}
    )
    data["addresses"] = [result.as_dict() for result in found]
    text_shown = f"{run[1]}\n{text}" if run else text
    return CommandResult(data, text_shown, warnings=warnings, warnings_shown=shown)


def _describe_found(db: Database, results: list[dict]) -> None:
    """Add to each lookup of `results` the entities and links it found, not just their ids,
    so a script reading `--json` needs no second query."""
    lookups = [lookup for result in results for lookup in result["lookups"]]
    entity_ids = sorted({i for lookup in lookups for i in lookup["entity_ids"]})
    link_ids = sorted({i for lookup in lookups for i in lookup["link_ids"]})
    entities, links = {}, {}
    for start in range(0, len(entity_ids), 500):
        chunk = entity_ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        for entity_id, kind, value, attrs in db.execute(
            f"SELECT id, kind, value, attrs FROM entities WHERE id IN ({marks})",  # noqa: S608
            chunk,
        ):
            entities[entity_id] = {
                "id": entity_id,
                "kind": kind,
                "value": value,
                "attrs": json.loads(attrs),
            }
    for start in range(0, len(link_ids), 500):
        chunk = link_ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        for link_id, src_id, link_type, label, dst_id in db.execute(
            f"SELECT id, src_id, type, label, dst_id FROM links WHERE id IN ({marks})",  # noqa: S608
            chunk,
        ):
            links[link_id] = {
                "id": link_id,
                "src_id": src_id,
                "type": link_type,
                "label": label,
                "dst_id": dst_id,
                "evidence_ids": [],
            }
        for link_id, evidence_id in db.execute(
            f"SELECT link_id, evidence_id FROM link_evidence WHERE link_id IN ({marks}) "  # noqa: S608
            "ORDER BY evidence_id",
            chunk,
        ):
            links[link_id]["evidence_ids"].append(evidence_id)
    for lookup in lookups:
        lookup["entities"] = [entities[i] for i in lookup["entity_ids"]]
        lookup["links"] = [links[i] for i in lookup["link_ids"]]


class _ProgressLine:
    """Progress on stderr for people: done/total, failures, rate, time left."""

    def __init__(self) -> None:
        self.last = 0.0
        self.tty = sys.stderr.isatty()

    def __call__(self, progress) -> None:
        now = time.monotonic()
        if now - self.last < (0.2 if self.tty else 2.0) and progress.done < progress.total:
            return
        self.last = now
        eta = f", {progress.eta_s:.0f} s left" if progress.eta_s is not None else ""
        line = (
            f"{progress.done}/{progress.total} done, {progress.failed} with failures, "
            f"{progress.rate:.1f}/s{eta}"
        )
        sys.stderr.write(("\r" + line + "   ") if self.tty else line + "\n")
        sys.stderr.flush()

    def finish(self) -> None:
        if self.tty:
            sys.stderr.write("\n")


def evidence_import_command(args, db: Database) -> CommandResult:
    from workbench.services.imports import import_recording

    captured_at = parse_when(args.captured_at, "--captured-at")
    subject = args.ip if args.kind == "rdap_ip" else args.domain
    if not subject:
        raise InvalidInput(
            "--ip" if args.kind == "rdap_ip" else "--domain", "", "is required for this kind"
        )
    from workbench.services.imports import MAX_IMPORT_BYTES

    raws = []
    for name in args.files:
        try:
            if name == "-":
                raws.append(sys.stdin.buffer.read(MAX_IMPORT_BYTES + 1))
                continue
            path = Path(name)
            if path.is_dir():
                raise InvalidInput("file", name, "is a directory, not a file")
            with path.open("rb") as handle:
                # One byte past the cap is enough for the import to refuse it by size.
                raws.append(handle.read(MAX_IMPORT_BYTES + 1))
        except FileNotFoundError:
            raise InvalidInput("file", name, "does not exist") from None
        except OSError as exc:
            raise InvalidInput("file", name, f"cannot be read ({exc.strerror})") from None
    warnings: list[str] = []
    recorded = import_recording(
        db,
        case_id=args.case,
        kind=args.kind,
        subject=subject,
        raws=raws,
        captured_at=captured_at,
        source=args.source,
        filenames=[Path(name).name for name in args.files],
        warnings=warnings,
    )
    if args.kind != "rdap_ip":
        warnings[:0] = value_warnings("domain", recorded.query, subject)
    data = {**recorded.as_dict(), "warnings": warnings}
    return CommandResult(
        data,
        f"imported {args.kind} of {recorded.query}: {recorded.status}; "
        f"evidence {recorded.evidence_ids}, "
        f"{len(recorded.entity_ids)} entities, "
        f"{len(recorded.link_ids)} links",
        warnings=warnings,
    )


def _fetch(url: str, timeout_s: float) -> bytes:
    if not url.startswith("https://"):
        raise InvalidInput("url", url, "bootstrap data is only fetched over https")
    request = urllib.request.Request(url, headers={"User-Agent": "workbench data refresh"})  # noqa: S310
    with urllib.request.urlopen(request, timeout=timeout_s) as response:  # noqa: S310
        return response.read(8 * 1024 * 1024 + 1)


def _fetch_within(timeout_s: float):
    """`_fetch` with an overall deadline: urllib's timeout is per socket operation and does
    not cover resolving the name, so a silent proxy, a resolver that never answers or a
    server sending a byte at a time would otherwise hold the command for minutes."""

    def fetch(url: str) -> bytes:
        outcome: dict[str, Any] = {}

        def work() -> None:
            try:
                outcome["raw"] = _fetch(url, timeout_s)
            except BaseException as exc:  # handed back to the waiting thread
                outcome["error"] = exc

        # A daemon thread: one stuck in the resolver must not keep the command alive.
        worker = threading.Thread(target=work, name="data-refresh", daemon=True)
        worker.start()
        worker.join(timeout_s)
        if worker.is_alive():
            raise TimeoutError(f"no complete answer within {timeout_s:g} s")
        if "error" in outcome:
            raise outcome["error"]
        return outcome["raw"]

    return fetch


def data_refresh_command(args) -> CommandResult:
    from workbench.lookups.rdap_bootstrap import (
        load_bootstrap,
        refresh_bootstrap,
        refreshed_bootstrap_dir,
    )
    from workbench.lookups.whois_refresh import refresh_server_map
    from workbench.lookups.whois_servers import load_server_map, refreshed_server_map_dir

    if not 0 < args.timeout <= 600:
        raise InvalidInput("--timeout", args.timeout, "must be between 0 and 600 seconds")
    data: dict = {}
    lines: list[str] = []
    if args.what in ("all", "rdap"):
        dest = args.dest / "rdap" if args.dest else refreshed_bootstrap_dir()
        publications = refresh_bootstrap(dest, _fetch_within(args.timeout))
        data["rdap_bootstrap"] = {"dest": str(dest), "publications": publications}
        lines.append(f"RDAP bootstrap refreshed in {dest}")
        lines += [f"  {name}: published {date}" for name, date in sorted(publications.items())]
    if args.what in ("all", "whois"):
        dest = args.dest / "whois" if args.dest else refreshed_server_map_dir()
        current = load_server_map()
        tlds = set(current.servers) | set(load_bootstrap().tlds)
        tlds = {tld for tld in tlds if "." not in tld}
        path = refresh_server_map(
            dest,
            tlds,
            current.query_forms,
            server=parse_server(args.iana_whois, 43, "--iana-whois"),
            on_progress=None if getattr(args, "json", False) else _count_on_stderr,
        )
        data["whois_servers"] = {"dest": str(path), "tlds": len(tlds)}
        lines.append(f"WHOIS server map rebuilt from IANA for {len(tlds)} TLDs: {path}")
    return CommandResult(data, "\n".join(lines))


def _count_on_stderr(done: int, total: int) -> None:
    if done == total or done % 50 == 0:
        sys.stderr.write(f"asked IANA about {done}/{total} TLDs\n")
        sys.stderr.flush()
