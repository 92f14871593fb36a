"""Tamper evidence (issue 7, part 5): one byte changed at every position of a small store's
evidence rows and audit rows, the way an attacker with the file would do it (triggers
dropped, rows edited), and at every position of a small bundle: `verify` finds each one.

test_audit.py has the named cases (a blob, a rehashed row, a deleted row...); this walks
every position. The counts are quoted in docs/reliability.md (pytest -s prints them).
"""

from __future__ import annotations

import io
import sqlite3
import struct
import zipfile
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlite_utils import Database

from workbench.export.bundle import export_bundle, verify_bundle
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


def _zip(members: dict[str, bytes], comment: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
        archive.comment = comment
    return buffer.getvalue()


def test_every_one_byte_change_to_what_a_bundle_holds_is_found_naming_the_member(small_bundle):
    """Each member's content (case.json, the evidence, the manifest) changed at every
    position and zipped up again as a sender would: verify names that member."""
    members = _members(small_bundle)
    comment = zipfile.ZipFile(io.BytesIO(small_bundle)).comment
    tried, missed = 0, []
    for name, content in members.items():
        for changed in _changed(content):
            tried += 1
            report = verify_bundle(io.BytesIO(_zip({**members, name: changed}, comment)))
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


@pytest.fixture(scope="module")
def every_file_position(small_bundle) -> dict[str, Counter]:
    """Flip the low bit of every byte of the bundle file, one at a time, and verify."""
    original = _members(small_bundle)
    regions = _regions(small_bundle)
    outcomes: dict[str, Counter] = {}
    for position in range(len(small_bundle)):
        damaged = bytearray(small_bundle)
        damaged[position] ^= 1
        region = regions.get(position, "other")
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
    print(f"bundle file: {len(small_bundle)} positions: {outcomes}")
    return outcomes


def test_no_one_byte_change_to_a_bundle_file_passes_verify_with_different_content(
    every_file_position, small_bundle
):
    total = sum(sum(counter.values()) for counter in every_file_position.values())
    assert total == len(small_bundle)
    accepted = {
        region: counter["ACCEPTED CHANGED CONTENT"]
        for region, counter in every_file_position.items()
        if counter["ACCEPTED CHANGED CONTENT"]
    }
    assert not accepted, every_file_position
    # Every change to the compressed member data that changes what it inflates to is found.
    data = every_file_position["member data"]
    assert data["found"] + data["accepted, content unchanged"] == sum(data.values()), data


@pytest.mark.xfail(
    strict=True,
    reason="bundle.verify_bundle: a one-byte change in the zip container outside what the "
    "hashes cover (local header fields that Python reads from the central directory, "
    "attributes, the end record, the comment around the hash, unused deflate bits) passes "
    "verify; a few raise ValueError or NotImplementedError (exit 70) instead of a report",
)
def test_every_one_byte_change_anywhere_in_a_bundle_file_is_reported(every_file_position):
    not_found = {
        region: {k: v for k, v in counter.items() if k != "found"}
        for region, counter in every_file_position.items()
        if set(counter) != {"found"}
    }
    assert not not_found, not_found
