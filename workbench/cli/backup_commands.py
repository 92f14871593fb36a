"""`workbench backup DEST`: a checked copy of the store, safe while the app writes to it."""

from __future__ import annotations

import argparse

from workbench.cli.output import CommandResult
from workbench.store.backup import backup_store
from workbench.store.database import resolve_store_path


def register(
    subcommands: argparse._SubParsersAction, common: argparse.ArgumentParser, groups: dict
) -> None:
    p = subcommands.add_parser(
        "backup",
        parents=[common],
        help="copy the store to DEST, safely while the app runs, and check the copy",
        description="Copy the store through SQLite's online backup API (a consistent "
        "copy as of one commit, even while the desktop app or another command writes), "
        "check the copy's integrity and verify its evidence and audit chain, then move "
        "it into place. To restore, open the copy with --store DEST (or copy it back "
        "while nothing has the store open).",
    )
    p.add_argument("dest", metavar="DEST", help="the backup file to write")
    p.add_argument("--overwrite", action="store_true", help="replace DEST if it exists")
    # The backup opens the source itself, only to read it: never created, never upgraded.
    p.set_defaults(handler=backup_command, needs_store=False)


def backup_command(args) -> CommandResult:
    source = resolve_store_path(getattr(args, "store", None))
    result = backup_store(source, args.dest, overwrite=args.overwrite)
    verify = result["verify"]
    text = (
        f"backed up {result['source']} to {result['dest']}: {result['cases']} cases, "
        f"{result['bytes']:,} bytes in {result['seconds']:.1f} s"
    )
    if verify is None:
        text += "\nthe store is from an older version: open it once to upgrade, then verify"
        return CommandResult(result, text)
    if verify["ok"]:
        text += (
            f"\ncopy verified: {verify['checked_evidence']} evidence items and "
            f"{verify['checked_audit_rows']} audit rows match"
        )
        return CommandResult(result, text)
    # The copy is faithful; the store it copies has problems: say so, as verify does.
    text += "\nthe store (and so its copy) FAILS VERIFY:\n" + "\n".join(
        f"  {problem}" for problem in verify["problems"]
    )
    return CommandResult(result, text, exit_code=1)
