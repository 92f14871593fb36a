"""Bad input (issue 2): an invalid value or unknown id gets exactly one line on stderr naming
the field and the value, exit code 2, no traceback, and the store file is byte-for-byte
what it was."""

from pathlib import Path

import pytest

from tests.conftest import dump_tables, file_state
from workbench.services import casework
from workbench.store.database import open_store

# (what is wrong, the command, words the one line on stderr must hold: field, then value)
BAD = [
    ("domain", ("entity", "add", "--case", "1", "domain", "exa mple..test"), "domain", "exa mple"),
    (
        "url",
        ("storefront", "add", "--case", "1", "--name", "New", "--url", "ftp://shop.test/"),
        "url",
        "ftp://shop.test/",
    ),
    ("email", ("entity", "add", "--case", "1", "email", "pedro@"), "email", "pedro@"),
    ("phone", ("entity", "add", "--case", "1", "phone", "+352."), "phone", "+352."),
    (
        "price",
        ("storefront", "add", "--case", "1", "--name", "New", "--price", "0.14:dollars:track"),
        "--price",
        "0.14:dollars:track",
    ),
    (
        "date",
        ("event", "add", "--case", "1", "note", "x", "--at", "2009-13-45"),
        "--at",
        "2009-13-45",
    ),
    (
        "deadline",
        ("event", "add", "--case", "1", "note", "x", "--deadline", "tomorrow"),
        "--deadline",
        "tomorrow",
    ),
    ("entity kind", ("entity", "add", "--case", "1", "spaceship", "X"), "kind", "spaceship"),
    ("link type", ("link", "add", "--case", "1", "1", " ", "2"), "link type", "' '"),
    (
        "evidence kind",
        ("evidence", "add", "--case", "1", "--kind", "rumour", "--text", "x"),
        "evidence kind",
        "rumour",
    ),
    ("status", ("case", "status", "1", "pending"), "status", "pending"),
    (
        "attribute",
        ("entity", "add", "--case", "1", "person", "X", "--attr", "country=Luxembourg"),
        "country",
        "Luxembourg",
    ),
    (
        "placeholder",
        ("entity", "add", "--case", "1", "person", "REDACTED FOR PRIVACY"),
        "person",
        "REDACTED",
    ),
    ("unknown case", ("entity", "add", "--case", "999", "person", "Someone"), "case", "999"),
    (
        "unknown case",
        ("storefront", "add", "--case", "999", "--name", "New"),
        "case",
        "999",
    ),
    ("unknown entity", ("link", "add", "--case", "1", "1", "operates", "999"), "entity", "999"),
    ("unknown entity", ("entity", "show", "999"), "entity", "999"),
    (
        "unknown evidence",
        ("link", "add", "--case", "1", "1", "operates", "2", "--evidence", "999"),
        "evidence",
        "999",
    ),
    ("unknown evidence", ("evidence", "show", "999"), "evidence", "999"),
    ("id not a number", ("entity", "add", "--case", "abc", "person", "X"), "--case", "abc"),
    (
        "missing file",
        ("evidence", "add", "--case", "1", "--kind", "note", "absent.txt"),
        "file",
        "absent.txt",
    ),
    ("empty search", ("search", " "), "search query", "' '"),
    (
        "operator placeholder half way through a storefront",
        ("storefront", "add", "--case", "1", "--name", "New", "--operator", "REDACTED FOR PRIVACY"),
        "organisation",
        "REDACTED FOR PRIVACY",
    ),
]


@pytest.fixture
def recorded_store(store_path: Path) -> Path:
    """A closed store with case 1 holding entities 1 and 2 and evidence 1."""
    db = open_store(store_path)
    case = casework.new_case(db, "Soundsbox")
    casework.add_entity(db, case.id, "person", "Pedro Kresker")
    casework.add_entity(db, case.id, "phone", "+352.26480123")
    casework.add_evidence_bytes(db, case.id, "whois", b"Registrant Name: Pedro Kresker\n")
    db.close()
    return store_path


def test_each_bad_value_is_one_line_naming_it_exit_2_and_the_store_unchanged(
    recorded_store, run_cli
):
    before_bytes = file_state(recorded_store)
    before_rows = dump_tables(recorded_store)
    results = run_cli.many(*(command for _, command, _, _ in BAD))
    failures = []
    for (what, command, field, value), result in zip(BAD, results, strict=True):
        line = result.stderr
        problems = [
            problem
            for problem, bad in (
                (f"exit {result.code}, not 2", result.code != 2),
                (
                    "not exactly one line on stderr",
                    line.count("\n") != 1 or not line.endswith("\n"),
                ),
                ("a traceback", "Traceback" in line),
                (f"does not name the field {field!r}", field not in line),
                (f"does not name the value {value!r}", value not in line),
                ("printed on stdout", result.stdout != ""),
            )
            if bad
        ]
        if problems:
            failures.append(f"{what}: {command}: {', '.join(problems)}\n  stderr: {line!r}")
    assert not failures, "\n".join(failures)
    assert file_state(recorded_store) == before_bytes
    assert dump_tables(recorded_store) == before_rows


def test_a_refused_json_command_prints_nothing_on_stdout(recorded_store, run_cli):
    before = file_state(recorded_store)
    result = run_cli("entity", "add", "--case", "1", "email", "pedro@", json=True)
    assert result.code == 2 and result.stdout == "", result
    assert result.stderr == (
        "workbench: error: invalid email 'pedro@': is not of the form name@domain\n"
    )
    assert file_state(recorded_store) == before


def test_an_unknown_command_or_option_is_a_usage_error_in_one_line(recorded_store, run_cli):
    before = file_state(recorded_store)
    for result in run_cli.many(("frobnicate",), ("case", "list", "--colour")):
        assert result.code == 2, result
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr, result
    assert file_state(recorded_store) == before
