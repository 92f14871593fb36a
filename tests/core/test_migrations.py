"""Opening store files: an old one is migrated without loss, one from a newer version or one
that is not SQLite is refused and left byte-for-byte as it was, and every connection runs
in WAL mode with foreign keys enforced."""

import shutil
import sqlite3
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, file_state
from workbench.domain.errors import StoreError
from workbench.store.database import open_store, schema_version
from workbench.store.details import case_detail
from workbench.store.evidence import get_evidence
from workbench.store.migrations import MIGRATIONS
from workbench.store.search import search
from workbench.store.verify import verify_store

STORE_V1 = FIXTURES / "stores" / "store-v1.sqlite"


@pytest.fixture
def old_store(tmp_path: Path) -> Path:
    path = tmp_path / "store-v1.sqlite"
    shutil.copyfile(STORE_V1, path)
    return path


def _rows(path: Path, sql: str) -> list[tuple]:
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def test_a_store_written_by_the_first_version_opens_with_everything_it_held(old_store):
    tables = ("cases", "entities", "links", "events", "evidence", "audit", "case_entities")
    before = {table: _rows(old_store, f"SELECT * FROM {table} ORDER BY 1") for table in tables}  # noqa: S608
    assert before["cases"] and before["evidence"]
    db = open_store(old_store)
    try:
        assert schema_version(db) == [m.name for m in MIGRATIONS._migrations]
        for table in tables:
            after = db.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()  # noqa: S608
            assert [row[: len(before[table][0])] for row in after] == before[table], table
        soundsbox = case_detail(db, 1)
        assert soundsbox["case"]["title"] == "Soundsbox"
        assert soundsbox["case"]["investigator"] == "IFPI anti-piracy unit"
        storefront = next(e for e in soundsbox["entities"] if e["kind"] == "storefront")
        assert storefront["attrs"]["prices"] == [
            {"amount": "0.14", "currency": "USD", "unit": "track"},
            {"amount": "1.76", "currency": "USD", "unit": "album"},
        ]
        assert storefront["attrs"]["licence_number"] == "49/ZM-07"
        phone = next(e for e in soundsbox["entities"] if e["kind"] == "phone")
        assert (phone["key"], phone["attrs"]) == ("+35226480123", {"line_type": "fax"})
        assert [e["text"] for e in soundsbox["events"]] == ["Emailed the registrant; no reply."]
        (item,) = soundsbox["evidence"]
        assert b"Pedro Kresker" in get_evidence(db, item["id"], with_content=True).content
        assert {r["type"] for r in search(db, "кириллица")} == {"evidence"}
        report = verify_store(db)
        assert report.ok, report.problems
        assert report.checked_evidence == 1 and report.checked_audit_rows == len(before["audit"])
    finally:
        db.close()


def test_an_old_store_opened_twice_is_migrated_once(old_store):
    open_store(old_store).close()
    applied = _rows(old_store, "SELECT name FROM _sqlite_migrations ORDER BY id")
    open_store(old_store).close()
    assert _rows(old_store, "SELECT name FROM _sqlite_migrations ORDER BY id") == applied
    assert [name for (name,) in applied] == [m.name for m in MIGRATIONS._migrations]


def _from_a_newer_version(path: Path) -> None:
    open_store(path).close()
    conn = sqlite3.connect(path)
    conn.execute(
        "INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
        "VALUES ('workbench', '9999_from_the_future', '2031-01-01 00:00:00+00:00')"
    )
    conn.commit()
    conn.close()


def test_a_store_from_a_newer_version_is_refused_and_left_untouched(store_path, run_cli):
    _from_a_newer_version(store_path)
    before = file_state(store_path)
    with pytest.raises(StoreError) as caught:
        open_store(store_path)
    message = str(caught.value)
    assert "newer version" in message and "9999_from_the_future" in message
    assert "left untouched" in message
    assert file_state(store_path) == before
    result = run_cli("case", "list")
    assert result.code == 2, result
    assert result.stderr.count("\n") == 1 and "newer version" in result.stderr, result
    assert "Traceback" not in result.stderr
    assert file_state(store_path) == before


@pytest.mark.parametrize(
    "content",
    [
        b"Registrant Name: Pedro Kresker\n",
        b"PK\x03\x04 a zip archive",
        b"SQLite format 2\x00" + b"\x00" * 100,
        b"\x00" * 4096,
    ],
    ids=["text", "zip", "old-sqlite-header", "zeros"],
)
def test_a_file_that_is_not_sqlite_is_refused_and_left_untouched(tmp_path, content, run_cli):
    path = tmp_path / "notes.sqlite"
    path.write_bytes(content)
    with pytest.raises(StoreError, match="not a workbench store"):
        open_store(path)
    assert path.read_bytes() == content
    assert not Path(str(path) + "-wal").exists()


def test_the_cli_refuses_a_file_that_is_not_sqlite_in_one_line(tmp_path, run_cli):
    path = tmp_path / "case-notes.txt"
    path.write_bytes(b"Registrant Name: Pedro Kresker\n")
    result = run_cli("case", "new", "Soundsbox", store=path)
    assert result.code == 2, result
    assert result.stderr.count("\n") == 1 and str(path) in result.stderr, result
    assert "not a workbench store" in result.stderr
    assert path.read_bytes() == b"Registrant Name: Pedro Kresker\n"
    folder = tmp_path / "folder"
    folder.mkdir()
    result = run_cli("case", "list", store=folder)
    assert result.code == 2 and "directory" in result.stderr, result


def test_a_damaged_store_is_refused_with_a_message_not_a_traceback(tmp_path, run_cli):
    path = tmp_path / "damaged.sqlite"
    open_store(path).close()
    content = bytearray(path.read_bytes())
    content[100:4096] = b"\xa5" * (4096 - 100)  # the schema page, overwritten
    path.write_bytes(bytes(content))
    with pytest.raises(StoreError, match="cannot be used as a store"):
        open_store(path)
    result = run_cli("case", "list", store=path)
    assert result.code == 2, result
    assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1, result
    assert path.read_bytes() == bytes(content)


def test_every_connection_is_in_wal_mode_with_foreign_keys_on(store_path, old_store):
    for path in (store_path, old_store):
        for read_only in (False, False, True):
            db = open_store(path, read_only=read_only)
            try:
                assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
                assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
                assert db.execute("PRAGMA busy_timeout").fetchone()[0] >= 5000
                if not read_only:
                    with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
                        db.execute(
                            "INSERT INTO case_entities (case_id, entity_id, added_at) "
                            "VALUES (999, 999, '2009-11-02T00:00:00.000000Z')"
                        )
            finally:
                db.close()


def test_a_missing_store_is_created_with_its_folder_but_never_when_opened_read_only(tmp_path):
    with pytest.raises(StoreError, match="no store"):
        open_store(tmp_path / "absent.sqlite", read_only=True)
    assert not (tmp_path / "absent.sqlite").exists()
    nested = tmp_path / "a" / "b" / "store.sqlite"
    open_store(nested).close()
    assert nested.read_bytes().startswith(b"SQLite format 3\x00")


def test_an_upgraded_store_relates_its_cases_through_what_they_held_before(old_store):
    """Migration 0005 builds the case lists that `related_cases` reads from the
    memberships an old store already holds; new memberships extend them."""
    from workbench.services import casework
    from workbench.store.pivots import related_cases

    db = open_store(old_store)
    try:
        assert related_cases(db, 1) == []
        roms = db.execute(
            "SELECT id FROM entities WHERE kind = 'collecting_society' AND value = 'ROMS'"
        ).fetchone()[0]
        casework.add_entity(db, 2, "collecting_society", "ROMS")
        casework.add_entity(db, 2, "storefront", "Mp3Sparks", {"licence_number": "49/ZM-07"})
        (related,) = related_cases(db, 1)
        assert related["case"]["id"] == 2
        shared = {(s["via"], s.get("name"), s["entity"]["id"]) for s in related["shared"]}
        soundsbox = db.execute("SELECT id FROM entities WHERE value = 'Soundsbox'").fetchone()[0]
        assert shared == {("entity", None, roms), ("value", "licence_number", soundsbox)}
    finally:
        db.close()


def test_an_upgraded_store_walks_a_name_index_to_sort_a_large_case_by_name(old_store):
    """Migration 0006 indexes entities in the entity table's name order; a page of a
    case holding much of the store is then read along the index, not sorted."""
    from workbench.services.ui_queries import EntityQuery, entity_rows, entity_rows_sql

    db = open_store(old_store)
    try:
        (index_sql,) = db.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = 'entities_by_name'"
        ).fetchone()
        assert "(value COLLATE NOCASE, id)" in index_sql
        # Case 1 holds every entity of this store: with pages of 2 rows it counts as large.
        expected = [
            row[0]
            for row in db.execute(
                "SELECT e.id FROM entities e NOT INDEXED JOIN case_entities ce "
                "ON ce.entity_id = e.id WHERE ce.case_id = 1 "
                "ORDER BY e.value COLLATE NOCASE, e.id"
            )
        ]
        assert len(expected) >= 5
        for descending in (False, True):
            query = EntityQuery(case_id=1, order="name", descending=descending)
            first = entity_rows(db, query, limit=2)
            for cursors in ({}, {"after": first[-1][0]}, {"before": first[-1][0]}):
                sql, params = entity_rows_sql(db, query, limit=2, **cursors)
                plan = " | ".join(row[3] for row in db.execute(f"EXPLAIN QUERY PLAN {sql}", params))
                assert "INDEX entities_by_name" in plan, plan
                assert "TEMP B-TREE" not in plan, plan
            # Paged along the index, the rows come in the sorted order, every one once.
            ids, after = [], None
            while page := entity_rows(db, query, after=after, limit=2):
                ids += [entity.id for _, entity in page]
                after = page[-1][0]
            assert ids == (expected[::-1] if descending else expected)
    finally:
        db.close()
