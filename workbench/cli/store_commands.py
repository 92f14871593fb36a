"""Commands over the whole store: search, related (pivots), verify, integrity."""

from __future__ import annotations

import argparse

from sqlite_utils import Database

from workbench.cli.export_commands import BundleFileAction
from workbench.cli.output import CommandResult, table
from workbench.domain.errors import InvalidInput
from workbench.store.database import integrity_check, schema_version
from workbench.store.pivots import pivot_entity, related_cases
from workbench.store.search import search
from workbench.store.verify import verify_store


def register(
    subcommands: argparse._SubParsersAction, common: argparse.ArgumentParser, groups: dict
) -> None:
    p = subcommands.add_parser("search", parents=[common], help="full-text search the store")
    p.add_argument("query")
    p.add_argument("--limit", type=int, default=50)
    p.set_defaults(handler=search_command)

    p = subcommands.add_parser(
        "related", parents=[common], help="cross-case links (--case) or pivots (--entity)"
    )
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--case", type=int, help="other cases sharing anything with this one")
    which.add_argument("--entity", type=int, help="everything sharing this entity")
    p.set_defaults(handler=related_command)

    p = subcommands.add_parser(
        "verify", parents=[common], help="re-check every evidence hash and the audit chain"
    )
    p.add_argument(
        "file",
        nargs="?",
        metavar="FILE",
        action=BundleFileAction,
        help="a case bundle to check instead of the store",
    )
    p.set_defaults(handler=verify_command)

    p = subcommands.add_parser(
        "integrity", parents=[common], help="SQLite's integrity and foreign key checks"
    )
    p.set_defaults(handler=integrity_command)


def search_command(args, db: Database) -> CommandResult:
    if not 1 <= args.limit <= 1000:
        raise InvalidInput("--limit", args.limit, "must be 1-1000")
    results = search(db, args.query, limit=args.limit)
    text = table(
        [[r["type"], r["id"], r["title"], r["snippet"]] for r in results],
        ["TYPE", "ID", "TITLE", "MATCH"],
    )
    return CommandResult(results, text if results else "nothing found")


def related_command(args, db: Database) -> CommandResult:
    if args.case is not None:
        related = related_cases(db, args.case)
        lines = []
        for item in related:
            lines.append(
                f"case {item['case']['id']}: {item['case']['title']} [{item['case']['status']}]"
            )
            for shared in item["shared"]:
                entity = shared["entity"]
                if shared["via"] == "entity":
                    lines.append(f"  shares {entity['kind']} {entity['value']}")
                else:
                    lines.append(
                        f"  same {shared['name']} {shared['value']!r} "
                        f"({entity['value']} / {shared['other_entity']['value']})"
                    )
        return CommandResult(
            {"case_id": args.case, "related": related},
            "\n".join(lines) or "no other case shares anything with it",
        )
    pivot = pivot_entity(db, args.entity)
    entity = pivot["entity"]
    lines = [f"{entity['kind']} {entity['value']}"]
    for n in pivot["neighbours"]:
        arrow = "->" if n["direction"] == "out" else "<-"
        lines.append(
            f"  {arrow} {n['label'] or n['type']} {n['entity']['kind']} {n['entity']['value']}"
        )
    for same in pivot["same_values"]:
        lines.append(f"  same {same['name']}: {same['entity']['kind']} {same['entity']['value']}")
    lines.append(
        "  cases: " + (", ".join(f"{c['id']} {c['title']}" for c in pivot["cases"]) or "none")
    )
    return CommandResult(pivot, "\n".join(lines))


def verify_command(args, db: Database) -> CommandResult:
    report = verify_store(db)
    if report.ok:
        text = (
            f"verified: {report.checked_evidence} evidence items and "
            f"{report.checked_audit_rows} audit rows match"
        )
    else:
        text = "\n".join(["VERIFY FAILED:", *(f"  {p}" for p in report.problems)])
    return CommandResult(report.as_dict(), text, exit_code=0 if report.ok else 1)


def integrity_command(args, db: Database) -> CommandResult:
    problems = integrity_check(db)
    data = {"ok": not problems, "problems": problems, "schema": schema_version(db)}
    text = "integrity ok" if not problems else "\n".join(["INTEGRITY FAILED:", *problems])
    return CommandResult(data, text, exit_code=0 if not problems else 1)
