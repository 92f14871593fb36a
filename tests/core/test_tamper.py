"""Tamper evidence (issue 7, part 5): one byte changed at every position of a small store's
evidence rows and audit rows, the way an attacker with the file would do it (triggers
dropped, rows edited), and at every position of a small bundle: `verify` finds each one.
A bundle is written canonically (workbench/export/bundle.py), so a change to its zip
container that leaves every member's content as it was is found too.

test_audit.py has the named cases (a blob, a rehashed row, a deleted row...); this walks
every position. The counts are quoted in docs/reliability.md (pytest -s prints them).
"""

from __future__ import annotations

import io
import json
import sqlite3
import struct
import zipfile
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlite_utils import Database

from workbench.export.bundle import export_bundle, verify_bundle, write_container
from workbench.services import casework
from workbench.store.database import open_store
from workbench.store.verify import verify_store

TRIGGERS = ("evidence_no_update", "evidence_no_delete", "audit_no_update", "audit_no_delete")


@pytest.fixture(scope="module")
def small_store(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("tamper") / "store.sqlite"
    db = open_store(path)
    case = casework.new_case(db, "Soundsbox")
    person = casework.add_entity(db, case.id, "person", "Pedro Kresker")
    phone = casework.add_entity(db, case.id, "phone", "+352.26480123")
    whois = casework.add_evidence_bytes(
        db,
        case.id,
        "whois",
        b"Registrant Name: Pedro\r\n",
        captured_at=datetime(2009, 11, 2, tzinfo=UTC),
        source="whois.test",
    )
    casework.add_evidence_bytes(
        db, case.id, "page_capture", b"<p>ROMS</p>", filename="page.html", note="front page"
    )
    casework.add_link(db, case.id, person.id, "contact_phone", phone.id, evidence_ids=[whois.id])
    casework.add_event(db, case.id, "note", "Emailed.")
    db.close()
    return path


def _changed(value):
    """Every one-byte (one-character) change of a value: each position, low bit flipped;
    a number is changed by one."""
    if value is None:
        return ["x"]
    if isinstance(value, int):
        return [value + 1]
    if isinstance(value, bytes):
        return [value[:i] + bytes([value[i] ^ 1]) + value[i + 1 :] for i in range(len(value))]
    return [value[:i] + chr(ord(value[i]) ^ 1) + value[i + 1 :] for i in range(len(value))]


def _walk(conn: sqlite3.Connection, table: str, skip: tuple[str, ...] = ()) -> Counter:
    """Change every position of every column of every row of `table`, one at a time, and
    verify after each; returns how many changes were tried and missed, by column."""
    db = Database(conn)
    columns = [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]
    counts: Counter = Counter()
    for row in conn.execute(f"SELECT * FROM {table} ORDER BY id").fetchall():  # noqa: S608
        row_id = row[0]
        for column, value in zip(columns, row, strict=True):
            if column in skip:
                continue
            # An id moved onto another row's would be refused by SQLite: move it past them.
            for changed in [value + 1000] if column == "id" else _changed(value):
                conn.execute("SAVEPOINT change")
                # Table and column names come from this store's own schema.
                update = f"UPDATE {table} SET {column} = ? WHERE id = ?"  # noqa: S608
                conn.execute(update, [changed, row_id])
                counts["tried"] += 1
                if verify_store(db).ok:
                    counts[f"missed {column}"] += 1
                conn.execute("ROLLBACK TO change")
                conn.execute("RELEASE change")
    return counts


def test_every_one_byte_change_to_evidence_rows_and_audit_rows_is_found(small_store):
    conn = sqlite3.connect(small_store, isolation_level=None)
    try:
        for trigger in TRIGGERS:
            conn.execute(f"DROP TRIGGER {trigger}")
        assert verify_store(Database(conn)).ok  # sound before any change
        evidence = _walk(conn, "evidence")
        audit = _walk(conn, "audit")
    finally:
        conn.close()
    print(f"evidence rows: {evidence['tried']} one-byte changes; audit rows: {audit['tried']}")
    assert evidence["tried"] > 350 and audit["tried"] > 3000
    missed = {k: v for k, v in {**evidence, **audit}.items() if k != "tried"}
    assert not missed, missed


# -- bundles ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_bundle(small_store, tmp_path_factory) -> bytes:
    path = tmp_path_factory.mktemp("tamper-bundle") / "case.zip"
    db = open_store(small_store)
    try:
        export_bundle(db, 1, path)
    finally:
        db.close()
    data = path.read_bytes()
    assert verify_bundle(io.BytesIO(data)).ok
    return data


def _members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def _zip(members: dict[str, bytes], seal: dict) -> bytes:
    """The members laid out as export_bundle lays out a bundle (its time and hash kept)."""
    return write_container(members, created_at=seal["created_at"], bundle_hash=seal["bundle_hash"])


def test_every_one_byte_change_to_what_a_bundle_holds_is_found_naming_the_member(small_bundle):
    """Each member's content (case.json, the evidence, the manifest) changed at every
    position and zipped up again as a sender would: verify names that member."""
    members = _members(small_bundle)
    seal = json.loads(members["manifest.json"])
    tried, missed = 0, []
    for name, content in members.items():
        for changed in _changed(content):
            tried += 1
            report = verify_bundle(io.BytesIO(_zip({**members, name: changed}, seal)))
            named = name in " ".join(report.problems) or name == "manifest.json"
            if report.ok or not named:
                missed.append((name, report.problems[:2]))
    print(f"bundle members: {tried} one-byte changes of their content")
    assert tried == sum(len(content) for content in members.values())
    assert not missed, missed[:5]


def _regions(data: bytes) -> dict[int, str]:
    """Which part of the zip container each byte position belongs to."""
    regions: dict[int, str] = {}
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for info in archive.infolist():
            start = info.header_offset
            name_len, extra_len = struct.unpack("<HH", data[start + 26 : start + 30])
            header_end = start + 30 + name_len + extra_len
            regions.update(dict.fromkeys(range(start, header_end), "local header"))
            end = header_end + info.compress_size
            regions.update(dict.fromkeys(range(header_end, end), "member data"))
    end_record = data.rfind(b"PK\x05\x06")
    size, offset = struct.unpack("<II", data[end_record + 12 : end_record + 20])
    regions.update(dict.fromkeys(range(offset, offset + size), "central directory"))
    regions.update(dict.fromkeys(range(end_record, end_record + 22), "end record"))
    regions.update(dict.fromkeys(range(end_record + 22, len(data)), "comment"))
    return regions


CHANGES = {"low bit": 0x01, "every bit": 0xFF}  # two different changes of each byte


@pytest.fixture(scope="module")
def every_file_position(small_bundle) -> dict[str, Counter]:
    """Change every byte of the bundle file, one at a time (its low bit flipped, then all
    its bits), and verify after each."""
    original = _members(small_bundle)
    regions = _regions(small_bundle)
    outcomes: dict[str, Counter] = {}
    for position in range(len(small_bundle)):
        region = regions.get(position, "other")
        for mask in CHANGES.values():
            damaged = bytearray(small_bundle)
            damaged[position] ^= mask
            try:
                report = verify_bundle(io.BytesIO(bytes(damaged)))
            except Exception as exc:  # counted: verify should report, not raise
                outcome = f"raised {type(exc).__name__}"
            else:
                if not report.ok:
                    outcome = "found"
                else:
                    try:
                        same = _members(bytes(damaged)) == original
                    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
                        same = False
                    outcome = "accepted, content unchanged" if same else "ACCEPTED CHANGED CONTENT"
            outcomes.setdefault(region, Counter())[outcome] += 1
    print(f"bundle file: {len(small_bundle)} positions, {len(CHANGES)} changes each: {outcomes}")
    return outcomes


def test_no_one_byte_change_to_a_bundle_file_passes_verify_with_different_content(
    every_file_position, small_bundle
):
    total = sum(sum(counter.values()) for counter in every_file_position.values())
    assert total == len(small_bundle) * len(CHANGES)
    accepted = {
        region: counter["ACCEPTED CHANGED CONTENT"]
        for region, counter in every_file_position.items()
        if counter["ACCEPTED CHANGED CONTENT"]
    }
    assert not accepted, every_file_position


def test_every_one_byte_change_anywhere_in_a_bundle_file_is_reported(every_file_position):
    """Headers, member data, central directory, end record and comment alike."""
    assert {"local header", "member data", "central directory", "end record", "comment"} <= set(
        every_file_position
    )
    not_found = {
        region: {k: v for k, v in counter.items() if k != "found"}
        for region, counter in every_file_position.items()
        if set(counter) != {"found"}
    }
    assert not not_found, not_found


def test_a_bundle_file_is_exactly_the_container_its_members_make(small_bundle):
    """The property verify rests on: the file is a function of its members alone."""
    members = _members(small_bundle)
    assert _zip(members, json.loads(members["manifest.json"])) == small_bundle


def _rezipped(data: bytes, method: int, **changes) -> bytes:
    """The same members written again by Python's zipfile, as an unzip-and-zip would."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as old, zipfile.ZipFile(buffer, "w", method) as new:
        new.comment = changes.get("comment", old.comment)
        for info in old.infolist():
            copy = zipfile.ZipInfo(info.filename, changes.get("date_time", info.date_time))
            copy.external_attr = info.external_attr
            new.writestr(copy, old.read(info), compress_type=method)
    return buffer.getvalue()


def _comment(data: bytes) -> bytes:
    return zipfile.ZipFile(io.BytesIO(data)).comment


def _recommented(data: bytes, comment: bytes) -> bytes:
    """The same bytes with another zip comment (its length in the end record set to match)."""
    end = len(data) - len(_comment(data)) - 22
    return data[: end + 20] + struct.pack("<H", len(comment)) + comment


@pytest.mark.parametrize(
    ("how", "change", "said"),
    [
        ("a byte appended", lambda d: d + b"\0", "bytes were added"),
        ("junk after the comment", lambda d: d + b" signed: X", "bytes were added"),
        ("the zip comment rewritten", lambda d: _recommented(d, b"fine"), "the end record"),
        ("a note added to the comment", lambda d: _recommented(d, _comment(d) + b" ok"), "end"),
        (
            "the comment's hash altered",
            lambda d: _recommented(d, _comment(d)[:-1] + (b"1" if d.endswith(b"0") else b"0")),
            "zip comment",
        ),
        ("rezipped with deflate", lambda d: _rezipped(d, zipfile.ZIP_DEFLATED), "local header"),
        ("time stamps moved", lambda d: _rezipped(d, 0, date_time=(2020, 1, 1, 0, 0, 0)), "header"),
        (
            "the manifest re-indented",
            lambda d: _zip(
                {
                    **_members(d),
                    "manifest.json": json.dumps(json.loads(_members(d)["manifest.json"])).encode(),
                },
                json.loads(_members(d)["manifest.json"]),
            ),
            "manifest.json",
        ),
    ],
)
def test_a_container_changed_around_unchanged_content_is_reported(small_bundle, how, change, said):
    report = verify_bundle(io.BytesIO(change(small_bundle)))
    assert not report.ok, how
    assert said in " ".join(report.problems), report.problems
    assert report.changed == [] or how == "the manifest re-indented"


def test_a_bundle_cut_short_by_a_byte_is_reported(small_bundle):
    report = verify_bundle(io.BytesIO(small_bundle[:-1]))
    assert not report.ok and report.problems
