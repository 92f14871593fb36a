"""`workbench demo`: fill a store with the AllofMP3 and Soundsbox cases."""

from __future__ import annotations

import argparse

from sqlite_utils import Database

from workbench.cli.output import CommandResult


def register(
    subcommands: argparse._SubParsersAction, common: argparse.ArgumentParser, groups: dict
) -> None:
    p = subcommands.add_parser(
        "demo",
        parents=[common],
        help="build the demo cases (AllofMP3 and Soundsbox)",
        description="Build the AllofMP3 (2006-2007) and Soundsbox cases from recorded "
        "responses, through the same pipeline as live lookups.",
    )
    p.add_argument(
        "--force", action="store_true", help="add the demo even if the store already holds cases"
    )
    p.set_defaults(handler=demo_command)


def demo_command(args, db: Database) -> CommandResult:
    from workbench.services.demo import build_demo  # the lookup parsers: only when needed

    result = build_demo(db, force=args.force)
    cases = result["cases"]
    return CommandResult(
        result,
        "demo built: "
        + ", ".join(f"case {cid} {title}" for title, cid in cases.items())
        + f"\ntry: workbench related --case {cases['Soundsbox']}",
    )
