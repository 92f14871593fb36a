"""Commands for case work: case, storefront, entity, link, event, evidence."""

from __future__ import annotations

import argparse
import stat
import sys
from pathlib import Path

from sqlite_utils import Database

from workbench.cli.output import CommandResult, table
from workbench.domain.attributes import parse_attribute_pairs
from workbench.domain.errors import InvalidInput
from workbench.domain.homoglyphs import value_warnings
from workbench.domain.prices import parse_price
from workbench.domain.times import parse_when
from workbench.services import casework
from workbench.services.storefronts import StorefrontForm, record_storefront
from workbench.store.cases import list_cases
from workbench.store.details import case_detail, entity_detail
from workbench.store.evidence import MAX_EVIDENCE_BYTES, get_evidence


def register(
    subcommands: argparse._SubParsersAction, common: argparse.ArgumentParser, groups: dict
) -> None:
    def command(group, name: str, handler, help_text: str) -> argparse.ArgumentParser:
        parser = group.add_parser(name, parents=[common], help=help_text, description=help_text)
        parser.set_defaults(handler=handler)
        return parser

    def group(name: str, help_text: str):
        parser = subcommands.add_parser(name, help=help_text, description=help_text)
        return parser.add_subparsers(
            dest=f"{name}_command", metavar="COMMAND", required=True, parser_class=type(parser)
        )

    cases = group("case", "create, list, show and change cases")
    p = command(cases, "new", case_new, "open a new case")
    p.add_argument("title")
    p.add_argument("--investigator")
    p.add_argument("--summary")
    p = command(cases, "list", case_list, "list cases, most recently changed first")
    p.add_argument("--all", action="store_true", help="include archived cases")
    p = command(cases, "show", case_show, "a case with its entities, links, events, evidence")
    p.add_argument("id", type=int)
    p = command(cases, "status", case_status, "set a case's status")
    p.add_argument("id", type=int)
    p.add_argument("status", help="open, referred or closed")
    p = command(cases, "rename", case_rename, "change a case's title")
    p.add_argument("id", type=int)
    p.add_argument("title")
    p = command(cases, "archive", case_archive, "archive a case (or --undo)")
    p.add_argument("id", type=int)
    p.add_argument("--undo", action="store_true")

    storefronts = group("storefront", "record storefronts")
    p = command(storefronts, "add", storefront_add, "record a storefront in a case")
    p.add_argument("--case", type=int, required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--url", action="append", default=[], help="repeat for several")
    p.add_argument("--operator")
    p.add_argument("--licence-claim", help="the claim, quoted as the site words it")
    p.add_argument("--licence-number", help="default: read from the claim")
    p.add_argument(
        "--society",
        action="append",
        default=[],
        help="collecting society named by the claim (default: read from it)",
    )
    p.add_argument("--price", action="append", default=[], metavar="AMOUNT:CURRENCY:UNIT")
    p.add_argument("--catalogue-size", type=int)
    p.add_argument("--language", action="append", default=[])
    p.add_argument("--market-notes")
    p.add_argument("--note")

    entities = group("entity", "add and show entities")
    p = command(entities, "add", entity_add, "add an entity to a case")
    p.add_argument("--case", type=int, required=True)
    p.add_argument("kind")
    p.add_argument("value")
    p.add_argument("--attr", action="append", default=[], metavar="NAME=VALUE")
    p = command(entities, "show", entity_show, "an entity, its links, evidence and cases")
    p.add_argument("id", type=int)

    link_group = group("link", "link entities")
    p = command(link_group, "add", link_add, "link two entities in a case")
    p.add_argument("--case", type=int, required=True)
    p.add_argument("from_id", type=int, metavar="FROM_ID")
    p.add_argument("type", metavar="TYPE")
    p.add_argument("to_id", type=int, metavar="TO_ID")
    p.add_argument("--evidence", type=int, action="append", default=[], metavar="EID")
    p.add_argument("--confidence", type=float, default=1.0)

    event_group = group("event", "the case timeline")
    p = command(event_group, "add", event_add, "add an event to a case's timeline")
    p.add_argument("--case", type=int, required=True)
    p.add_argument("kind")
    p.add_argument("text")
    p.add_argument("--at", help="ISO 8601; default now")
    p.add_argument("--deadline", help="ISO 8601")
    p.add_argument("--outcome")
    p.add_argument("--entity", type=int, action="append", default=[], metavar="EID")

    evidence_group = group("evidence", "store, show and import evidence")
    groups["evidence"] = evidence_group
    p = command(
        evidence_group,
        "add",
        evidence_add,
        "hash and store a file (or - for stdin, or --text) as evidence",
    )
    p.add_argument("--case", type=int, required=True)
    p.add_argument("--kind", required=True)
    p.add_argument("file", nargs="?", metavar="FILE")
    p.add_argument("--text", help="pasted text instead of a file")
    p.add_argument("--captured-at", help="when it was captured, if not now (marks it imported)")
    p.add_argument("--source", help="where it came from (URL, mailbox, person)")
    p.add_argument("--note")
    p = command(evidence_group, "show", evidence_show, "an evidence item's record")
    p.add_argument("id", type=int)
    p.add_argument("--content", action="store_true", help="print the raw content too")


def case_new(args, db: Database) -> CommandResult:
    case = casework.new_case(db, args.title, investigator=args.investigator, summary=args.summary)
    return CommandResult(case.as_dict(), f"case {case.id} opened: {case.title}")


def case_list(args, db: Database) -> CommandResult:
    rows = list_cases(db, include_archived=args.all)
    text = table(
        [
            [
                r["id"],
                r["status"],
                r["title"],
                r["counts"]["entities"],
                r["counts"]["evidence"],
                r["counts"]["events"],
                r["updated_at"][:16],
            ]
            for r in rows
        ],
        ["ID", "STATUS", "TITLE", "ENTITIES", "EVIDENCE", "EVENTS", "CHANGED (UTC)"],
    )
    return CommandResult(rows, text if rows else "no cases yet: workbench case new TITLE")


def case_show(args, db: Database) -> CommandResult:
    detail = case_detail(db, args.id)
    case = detail["case"]
    lines = [f"case {case['id']}: {case['title']} [{case['status']}]"]
    if case["investigator"]:
        lines.append(f"investigator: {case['investigator']}")
    if case["summary"]:
        lines.append(case["summary"])
    lines.append("")
    lines.append(
        table(
            [[e["id"], e["kind"], e["value"]] for e in detail["entities"]], ["ID", "KIND", "VALUE"]
        )
    )
    names = {e["id"]: e["value"] for e in detail["entities"]}
    if detail["links"]:
        lines.append("")
        lines.append(
            table(
                [
                    [
                        lk["id"],
                        names.get(lk["src_id"]),
                        lk["label"] or lk["type"],
                        names.get(lk["dst_id"]),
                        ",".join(map(str, lk["evidence_ids"])),
                    ]
                    for lk in detail["links"]
                ],
                ["LINK", "FROM", "TYPE", "TO", "EVIDENCE"],
            )
        )
    if detail["events"]:
        lines.append("")
        lines.append(
            table(
                [
                    [ev["at"][:16], ev["kind"], ev["text"], (ev["deadline"] or "")[:10]]
                    for ev in detail["events"]
                ],
                ["AT (UTC)", "KIND", "TEXT", "DEADLINE"],
            )
        )
    return CommandResult(detail, "\n".join(lines))


def case_status(args, db: Database) -> CommandResult:
    case = casework.update_case(db, args.id, status=args.status)
    return CommandResult(case.as_dict(), f"case {case.id} is now {case.status}")


def case_rename(args, db: Database) -> CommandResult:
    case = casework.update_case(db, args.id, title=args.title)
    return CommandResult(case.as_dict(), f"case {case.id} is now titled {case.title}")


def case_archive(args, db: Database) -> CommandResult:
    case = casework.archive_case(db, args.id, archived=not args.undo)
    state = "archived" if case.archived_at else "back in the case list"
    return CommandResult(case.as_dict(), f"case {case.id} {state}")


def storefront_add(args, db: Database) -> CommandResult:
    form = StorefrontForm(
        name=args.name,
        urls=args.url,
        operator=args.operator,
        licence_claim=args.licence_claim,
        licence_number=args.licence_number,
        societies=args.society,
        prices=[parse_price(p, "--price") for p in args.price],
        catalogue_size=args.catalogue_size,
        languages=args.language,
        market_notes=args.market_notes,
        note=args.note,
    )
    result = record_storefront(db, args.case, form)
    store = result["storefront"]
    result["id"] = store["id"]
    warnings = [warning for url in args.url for warning in value_warnings("url", url)]
    result["warnings"] = warnings
    return CommandResult(
        result,
        f"storefront {store['id']} recorded: {store['value']} "
        f"({len(result['entities'])} related entities, "
        f"{len(result['links'])} links)",
        warnings=warnings,
    )


def entity_add(args, db: Database) -> CommandResult:
    entity = casework.add_entity(
        db, args.case, args.kind, args.value, parse_attribute_pairs(args.attr)
    )
    # Accepted, but said out loud: a lookalike name is evidence, and a trap for the reader.
    warnings = value_warnings(entity.kind, entity.value, args.value)
    data = {**entity.as_dict(), "warnings": warnings}
    return CommandResult(
        data, f"entity {entity.id}: {entity.kind} {entity.value}", warnings=warnings
    )


def entity_show(args, db: Database) -> CommandResult:
    detail = entity_detail(db, args.id)
    entity = detail["entity"]
    lines = [f"entity {entity['id']}: {entity['kind']} {entity['value']}"]
    lines += [f"  {name}: {value}" for name, value in entity["attrs"].items()]
    for link in detail["links_out"]:
        lines.append(
            f"  -> {link['label'] or link['type']} {link['other']['kind']} "
            f"{link['other']['value']} (evidence {link['evidence_ids'] or 'none'})"
        )
    for link in detail["links_in"]:
        lines.append(
            f"  <- {link['label'] or link['type']} from {link['other']['kind']} "
            f"{link['other']['value']} (evidence {link['evidence_ids'] or 'none'})"
        )
    lines.append("  cases: " + ", ".join(f"{c['id']} {c['title']}" for c in detail["cases"]))
    return CommandResult(detail, "\n".join(lines))


def link_add(args, db: Database) -> CommandResult:
    link = casework.add_link(
        db,
        args.case,
        args.from_id,
        args.type,
        args.to_id,
        evidence_ids=args.evidence,
        confidence=args.confidence,
    )
    return CommandResult(
        link.as_dict(), f"link {link.id}: {link.src_id} {link.label or link.type} {link.dst_id}"
    )


def event_add(args, db: Database) -> CommandResult:
    event = casework.add_event(
        db,
        args.case,
        args.kind,
        args.text,
        # `is not None`: an empty `--at ''` is a mistake to report, not "now".
        at=parse_when(args.at, "--at") if args.at is not None else None,
        deadline=parse_when(args.deadline, "--deadline") if args.deadline is not None else None,
        outcome=args.outcome,
        entity_ids=args.entity,
    )
    return CommandResult(
        event.as_dict(), f"event {event.id} on case {event.case_id}: {event.kind} at {event.at}"
    )


def evidence_add(args, db: Database) -> CommandResult:
    captured_at = (
        parse_when(args.captured_at, "--captured-at") if args.captured_at is not None else None
    )
    options = {"captured_at": captured_at, "source": args.source, "note": args.note}
    if args.text is not None and args.file:
        raise InvalidInput("evidence", args.file, "give a FILE or --text, not both")
    if args.text is not None:
        if not args.text.strip():
            raise InvalidInput("--text", args.text, "is empty")
        try:
            # surrogateescape: text that was not UTF-8 on the command line is kept as the
            # exact bytes given, as evidence should be.
            content = args.text.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:
            raise InvalidInput("--text", args.text, "contains invalid Unicode") from None
        item = casework.add_evidence_bytes(
            db, args.case, args.kind, content, media_type="text/plain", **options
        )
    elif args.file == "-":
        item = casework.add_evidence_bytes(db, args.case, args.kind, _read_stdin(), **options)
    elif args.file:
        _check_evidence_file(args.file)
        item = casework.add_evidence_file(db, args.case, args.kind, Path(args.file), **options)
    else:
        raise InvalidInput("evidence", "", "give a FILE, - for standard input, or --text")
    return CommandResult(
        item.as_dict(),
        f"evidence {item.id} stored: sha256 {item.sha256}, "
        f"{item.size} bytes, captured {item.captured_at}",
    )


def _read_stdin() -> bytes:
    # Bounded: `- < /dev/zero` must end in a message, not in all the memory there is.
    content = sys.stdin.buffer.read(MAX_EVIDENCE_BYTES + 1)
    if not content:
        raise InvalidInput("file", "-", "standard input is empty")
    if len(content) > MAX_EVIDENCE_BYTES:
        raise InvalidInput("file", "-", f"is larger than {MAX_EVIDENCE_BYTES // 2**20} MiB")
    return content


def _check_evidence_file(name: str) -> None:
    """Refuse, before reading it, what cannot be an evidence file: an empty file, one over
    the size cap, or a device or pipe (`/dev/zero` would be read forever)."""
    try:
        info = Path(name).stat()
    except OSError:
        return  # missing or unreadable: add_evidence_file says which
    if stat.S_ISDIR(info.st_mode):
        return  # add_evidence_file: "is a directory"
    if not stat.S_ISREG(info.st_mode):
        raise InvalidInput(
            "file", name, "is not a regular file (a device, pipe or socket; use - for stdin)"
        )
    if info.st_size == 0:
        raise InvalidInput("file", name, "is empty")
    if info.st_size > MAX_EVIDENCE_BYTES:
        raise InvalidInput("file", name, f"is larger than {MAX_EVIDENCE_BYTES // 2**20} MiB")


def evidence_show(args, db: Database) -> CommandResult:
    item = get_evidence(db, args.id, with_content=args.content)
    data = item.as_dict()
    lines = [
        f"evidence {item.id}: {item.kind} {item.media_type}, {item.size} bytes",
        f"  sha256: {item.sha256}",
        f"  captured: {item.captured_at}" + (" (claimed by the supplier)" if item.imported else ""),
        f"  source: {item.source or '-'}",
        f"  query: {item.query or '-'}",
    ]
    if args.content and item.content is not None:
        data["content_text"] = item.content.decode("utf-8", errors="replace")
        lines += ["", data["content_text"]]
    return CommandResult(data, "\n".join(lines))
