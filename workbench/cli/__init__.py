"""The `workbench` command: the same services as the desktop app, for scripts and people.

Every command takes `--store PATH` and `--json`; with `--json` it prints exactly one JSON
document on stdout. Errors the user can fix print one line on stderr and exit 2, leaving
the store unchanged; `verify` and `integrity` exit 1 when they find a problem.
"""

from __future__ import annotations

import argparse
import logging
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path

import platformdirs

from workbench import __version__
from workbench.cli import (
    backup_commands,
    casework_commands,
    demo_commands,
    export_commands,
    lookup_commands,
    store_commands,
)
from workbench.cli.output import CommandResult, emit
from workbench.domain.errors import WorkbenchError
from workbench.store.database import open_store, resolve_store_path

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 70

COMMAND_MODULES = (
    casework_commands,
    store_commands,
    lookup_commands,
    demo_commands,
    export_commands,
    backup_commands,
)


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line naming what was wrong, exit 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    # Options shared by every subcommand; SUPPRESS so a subcommand's default never
    # overwrites the same option given before the subcommand.
    common = _Parser(add_help=False)
    common.add_argument(
        "--store",
        metavar="PATH",
        default=argparse.SUPPRESS,
        help="store file (default: $WORKBENCH_STORE, else the user data dir)",
    )
    common.add_argument(
        "--json",
        action="store_true",
        default=argparse.SUPPRESS,
        help="print one JSON document on stdout",
    )
    parser = _Parser(
        prog="workbench",
        parents=[common],
        description="Investigate rights abuse online: cases, storefronts, "
        "lookups and hashed evidence. With no command, starts "
        "the desktop app.",
    )
    parser.add_argument("--version", action="version", version=f"workbench {__version__}")
    subcommands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    groups: dict = {}  # command groups later modules add to (e.g. `evidence import`)
    for module in COMMAND_MODULES:
        module.register(subcommands, common, groups)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    store_arg = getattr(args, "store", None)
    as_json = getattr(args, "json", False)
    if args.command is None:
        return _start_app(store_arg)
    try:
        if getattr(args, "needs_store", True):
            db = open_store(resolve_store_path(store_arg))
            try:
                result = args.handler(args, db)
            finally:
                db.close()
        else:
            result = args.handler(args)
    except WorkbenchError as exc:
        print(f"workbench: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("workbench: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: keep the traceback out of the user's way, but keep it
        log = _write_crash_log()
        print(
            f"workbench: internal error: {type(exc).__name__}: {exc} (details in {log})",
            file=sys.stderr,
        )
        return EXIT_INTERNAL
    return emit(result, as_json)


def _start_app(store_arg: str | None) -> int:
    from workbench.ui.app import run_app  # Qt only when the app is really started

    return run_app(resolve_store_path(store_arg))


def _write_crash_log() -> Path:
    folder = Path(platformdirs.user_log_dir("workbench", appauthor=False))
    try:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "crash.log"
        with path.open("a", encoding="utf-8") as handle:
            handle.write(traceback.format_exc() + "\n")
        return path
    except OSError:
        logging.exception("could not write the crash log")
        return Path("(stderr)")


__all__ = ["CommandResult", "build_parser", "main"]
