"""Commands that take a case out of the store and bring bundles in: export, import, open,
and `verify FILE` for bundles (the FILE argument of `verify` dispatches here).

`export --json FILE` writes the JSON export; `--json` with no FILE (or `workbench --json
export ...`) prints the command's own result as JSON, as everywhere else.
"""

from __future__ import annotations

import argparse
import inspect
import time
from pathlib import Path

from sqlite_utils import Database

from workbench.cli.output import CommandResult
from workbench.domain.errors import InvalidInput, WorkbenchError

FORMATS = ("pdf", "bundle", "json_file", "csv", "graphml", "stix")


class JsonFileOrFlag(argparse.Action):
    """`--json FILE` names the JSON export's file; a bare `--json` asks for JSON output."""

    def __call__(self, parser, namespace, values, option_string=None):
        if values is None:
            namespace.json = True
        else:
            namespace.json_file = values


class BundleFileAction(argparse.Action):
    """`verify FILE` checks a bundle instead of the store (and opens no store)."""

    def __call__(self, parser, namespace, values, option_string=None):
        namespace.file = values
        if values:
            namespace.needs_store = False
            namespace.handler = verify_bundle_command


def register(
    subcommands: argparse._SubParsersAction, common: argparse.ArgumentParser, groups: dict
) -> None:
    # Not built on `common`: its --json is a flag and ours takes an optional FILE (and
    # argparse's conflict resolution would edit the shared parent's action).
    p = subcommands.add_parser(
        "export",
        help="write a case as a PDF case file, a sealed bundle, JSON, CSV, GraphML or STIX",
        description="Write one case in one format. The PDF case file and the bundle "
        "verify every evidence hash and the audit chain first.",
    )
    p.add_argument(
        "--store",
        metavar="PATH",
        default=argparse.SUPPRESS,
        help="store file (default: $WORKBENCH_STORE, else the user data dir)",
    )
    p.add_argument("--case", type=int, required=True, metavar="ID")
    p.add_argument("--pdf", metavar="FILE", help="the PDF case file")
    p.add_argument("--bundle", metavar="FILE", help="a sealed bundle (zip) for review")
    p.add_argument("--with-pdf", action="store_true", help="put the PDF case file in the bundle")
    p.add_argument(
        "--json",
        nargs="?",
        action=JsonFileOrFlag,
        metavar="FILE",
        default=argparse.SUPPRESS,
        help="the JSON export (docs/export-json.md); with no FILE: print the result as JSON",
    )
    p.add_argument("--csv", metavar="DIR", help="one CSV file per entity kind, into DIR")
    p.add_argument("--graphml", metavar="FILE", help="the link graph as GraphML")
    p.add_argument("--stix", metavar="FILE", help="a STIX 2.1 bundle")
    p.set_defaults(handler=export_command, json_file=None)

    p = subcommands.add_parser(
        "import",
        parents=[common],
        help="merge a case bundle into the store",
        description="Verify a bundle and merge its case into the store: entities "
        "deduplicate, evidence is never duplicated or lost, and importing the same bundle "
        "twice changes nothing.",
    )
    p.add_argument("file", metavar="FILE")
    p.set_defaults(handler=import_command)

    p = subcommands.add_parser(
        "open",
        parents=[common],
        help="open a case bundle read-only in the desktop app",
        description="Verify a bundle, load it into a temporary read-only store and open "
        "it in the desktop app, for review with no network and no way to change it.",
    )
    p.add_argument(
        "--read-only", action="store_true", required=True, help="required: bundles open read-only"
    )
    p.add_argument("file", metavar="FILE")
    p.set_defaults(handler=open_command, needs_store=False)


def export_command(args, db: Database) -> CommandResult:
    chosen = [name for name in FORMATS if getattr(args, name, None)]
    if len(chosen) != 1:
        raise InvalidInput(
            "format",
            ", ".join(chosen) or "none",
            "give exactly one of --pdf, --bundle, --json FILE, --csv, --graphml, --stix",
        )
    if args.with_pdf and chosen[0] != "bundle":
        raise InvalidInput("--with-pdf", "", "only goes with --bundle")
    target = getattr(args, chosen[0])
    started = time.perf_counter()
    if chosen[0] == "pdf":
        from workbench.export.pdf import export_pdf

        result = export_pdf(db, args.case, target).as_dict()
        text = (
            f"wrote the case file {result['path']}: {result['pages']} pages, "
            f"{result['exhibits']} exhibits, {result['bytes']:,} bytes"
        )
        if result["uncited_facts"]:
            text += f" ({result['uncited_facts']} entries rest on no exhibit)"
    elif chosen[0] == "bundle":
        from workbench.export.bundle import export_bundle

        result = export_bundle(db, args.case, target, with_pdf=args.with_pdf)
        text = (
            f"wrote the bundle {result['path']}: {result['evidence']} evidence items, "
            f"{result['bytes']:,} bytes\nbundle hash sha256:{result['bundle_hash']}"
        )
    elif chosen[0] == "json_file":
        from workbench.export.json_export import export_json

        result = export_json(db, args.case, target)
        text = f"wrote {result['path']} ({result['bytes']:,} bytes)"
    elif chosen[0] == "csv":
        from workbench.export.csv_export import export_csv

        result = export_csv(db, args.case, target)
        text = f"wrote {len(result['files'])} CSV files into {result['path']}"
    elif chosen[0] == "graphml":
        from workbench.export.graphml import export_graphml

        result = export_graphml(db, args.case, target)
        text = f"wrote {result['path']}: {result['nodes']} nodes, {result['edges']} edges"
    else:
        from workbench.export.stix import export_stix

        result = export_stix(db, args.case, target)
        text = f"wrote {result['path']}: {result['objects']} STIX objects"
    result = {"format": chosen[0].replace("_file", ""), "case_id": args.case, **result}
    result["seconds"] = round(time.perf_counter() - started, 3)
    return CommandResult(result, text)


def verify_bundle_command(args) -> CommandResult:
    from workbench.export.bundle import verify_bundle

    report = verify_bundle(Path(args.file))
    if report.ok:
        text = (
            f"bundle verified: {report.members} members match the manifest"
            + (
                ", and every byte of the file is the bundle they make"
                if report.container_sealed
                else ""
            )
            + f"\nbundle hash sha256:{report.bundle_hash}"
            + "".join(f"\nnote: {note}" for note in report.notes)
        )
    else:
        text = "\n".join(["BUNDLE VERIFY FAILED:", *(f"  {p}" for p in report.problems)])
    return CommandResult(report.as_dict(), text, exit_code=0 if report.ok else 1)


def import_command(args, db: Database) -> CommandResult:
    from workbench.export.bundle import import_bundle

    result = import_bundle(db, Path(args.file))
    added = result["added"]
    if result["changed"]:
        text = (
            f"imported into case {result['case_id']}"
            + (" (new)" if result["created_case"] else "")
            + ": "
            + ", ".join(f"{count} {name}" for name, count in added.items())
            + " added"
        )
    else:
        text = f"nothing to import: case {result['case_id']} already holds everything in it"
    if result["kept_store_values"]:
        text += "\nkept the store's value for: " + "; ".join(result["kept_store_values"])
    return CommandResult(result, text)


def open_command(args) -> CommandResult:
    from workbench.export.bundle import prepare_review_store, refuse_unless_sound

    bundle = Path(args.file)
    refuse_unless_sound(bundle)  # a changed bundle is refused before anything starts
    try:
        from workbench.ui.app import run_app
    except ImportError as exc:  # no Qt widgets on this machine
        raise WorkbenchError(f"the desktop app cannot start here ({exc})") from None
    if "read_only" not in inspect.signature(run_app).parameters:
        raise WorkbenchError(
            "this version of the desktop app cannot open a store read-only yet; "
            "use `workbench verify FILE` to check the bundle"
        )
    store = prepare_review_store(bundle)
    code = run_app(store, read_only=True)
    return CommandResult({"store": str(store), "exit_code": code}, "", exit_code=code)
