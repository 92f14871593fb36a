"""The audit chain and `workbench verify`: every change is chained to the one before, and a
store changed behind the workbench's back (the way an attacker with the file would do it:
drop the triggers, edit the rows) fails verification naming what changed."""

import hashlib
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from workbench.services import casework
from workbench.store.audit import GENESIS, chain_hash, verify_chain
from workbench.store.database import open_store
from workbench.store.verify import verify_store

WHOIS = b"Registrant Name: Pedro Kresker\r\nRegistrant Phone: +352.26480123\r\n"


@pytest.fixture
def recorded(store_path: Path) -> dict[str, int]:
    """A closed store holding a small case with two evidence items; returns their ids."""
    db = open_store(store_path)
    case = casework.new_case(db, "Soundsbox")
    person = casework.add_entity(db, case.id, "person", "Pedro Kresker")
    phone = casework.add_entity(db, case.id, "phone", "+352.26480123", {"line_type": "fax"})
    whois = casework.add_evidence_bytes(
        db, case.id, "whois", WHOIS, captured_at=datetime(2009, 11, 2, tzinfo=UTC)
    )
    page = casework.add_evidence_bytes(db, case.id, "page_capture", b"<html>ROMS</html>")
    casework.add_link(db, case.id, person.id, "contact_phone", phone.id, evidence_ids=[whois.id])
    casework.add_event(db, case.id, "contact_attempt", "Emailed the registrant; no reply.")
    db.close()
    return {"case": case.id, "whois": whois.id, "page": page.id, "person": person.id}


def _attacker(path: Path) -> sqlite3.Connection:
    """The file opened directly, the immutability triggers dropped."""
    conn = sqlite3.connect(path, isolation_level=None)
    for trigger in (
        "evidence_no_update",
        "evidence_no_delete",
        "audit_no_update",
        "audit_no_delete",
    ):
        conn.execute(f"DROP TRIGGER {trigger}")
    return conn


def _verify_fails_naming(run_cli, *names: str, as_json: bool = False) -> str:
    """Run `workbench verify`: it must exit 1 and name each of `names` in its report."""
    result = run_cli("verify", json=as_json)
    assert result.code == 1, result
    assert "Traceback" not in result.stderr
    if as_json:
        assert result.data["ok"] is False, result
        problems = result.data["problems"]
    else:
        assert result.stdout.startswith("VERIFY FAILED"), result
        problems = result.stdout.splitlines()[1:]
    for name in names:
        assert any(name in problem for problem in problems), result
    return "\n".join(problems)


def test_a_long_chain_of_changes_verifies(store):
    case = casework.new_case(store, "Soundsbox")
    for n in range(150):
        entity = casework.add_entity(store, case.id, "person", f"Person {n}")
        casework.add_entity(store, case.id, "person", f"Person {n}", {"note": f"seen {n}"})
        if n % 10 == 0:
            casework.add_evidence_bytes(store, case.id, "note", f"note {n}".encode())
            casework.add_event(store, case.id, "note", f"event {n}", entity_ids=[entity.id])
    report = verify_store(store)
    assert report.ok, report.problems
    assert report.checked_evidence == 15
    rows = store.execute("SELECT prev_hash, hash FROM audit ORDER BY id").fetchall()
    assert report.checked_audit_rows == len(rows) > 450
    assert rows[0][0] == GENESIS
    assert all(rows[i][0] == rows[i - 1][1] for i in range(1, len(rows)))


def test_a_row_hash_covers_the_previous_hash_and_the_change():
    base = chain_hash(GENESIS, "2009-11-02T00:00:00.000000Z", "case.create", "case", 1, "{}")
    assert len(base) == 64
    assert base != chain_hash(
        "1" * 64, "2009-11-02T00:00:00.000000Z", "case.create", "case", 1, "{}"
    )
    assert base != chain_hash(
        GENESIS, "2009-11-02T00:00:00.000000Z", "case.create", "case", 2, "{}"
    )
    assert base != chain_hash(
        GENESIS, "2009-11-02T00:00:00.000000Z", "case.create", "case", 1, "[]"
    )


def test_the_cli_reports_a_sound_store(recorded, run_cli):
    result = run_cli("verify", json=True)
    assert result.code == 0, result
    assert result.data["ok"] is True and result.data["problems"] == []
    assert result.data["checked_evidence"] == 2


def test_one_byte_changed_in_an_evidence_blob_is_named(recorded, store_path, run_cli):
    conn = _attacker(store_path)
    (content,) = conn.execute(
        "SELECT content FROM evidence WHERE id = ?", [recorded["whois"]]
    ).fetchone()
    changed = bytearray(content)
    changed[18] ^= 0x01  # "Pedro" becomes "Qedro"
    conn.execute(
        "UPDATE evidence SET content = ? WHERE id = ?", [bytes(changed), recorded["whois"]]
    )
    conn.close()
    out = _verify_fails_naming(run_cli, f"evidence {recorded['whois']}", as_json=True)
    assert f"evidence {recorded['page']}" not in out


def test_a_blob_changed_with_its_hash_rewritten_is_caught_by_the_audit_chain(
    recorded, store_path, run_cli
):
    forged = WHOIS.replace(b"Pedro Kresker", b"Someone Else!")
    conn = _attacker(store_path)
    conn.execute(
        "UPDATE evidence SET content = ?, sha256 = ? WHERE id = ?",
        [forged, hashlib.sha256(forged).hexdigest(), recorded["whois"]],
    )
    conn.close()
    out = _verify_fails_naming(run_cli, f"evidence {recorded['whois']}")
    assert "audit chain" in out


def test_one_changed_audit_row_is_named(recorded, store_path, run_cli):
    conn = _attacker(store_path)
    audit_id, payload = conn.execute(
        "SELECT id, payload FROM audit WHERE action = 'entity.create' ORDER BY id LIMIT 1"
    ).fetchone()
    conn.execute(
        "UPDATE audit SET payload = ? WHERE id = ?",
        [payload.replace("Pedro Kresker", "Pedro Kreskor"), audit_id],
    )
    conn.close()
    _verify_fails_naming(run_cli, f"audit row {audit_id}")


def test_a_rehashed_audit_row_breaks_the_link_to_the_next_row(recorded, store_path):
    conn = _attacker(store_path)
    row = conn.execute(
        "SELECT id, at, action, subject, subject_id, payload, prev_hash FROM audit WHERE id = 2"
    ).fetchone()
    payload = row[5].replace("Pedro", "Pablo")
    new_hash = chain_hash(row[6], row[1], row[2], row[3], row[4], payload)
    conn.execute("UPDATE audit SET payload = ?, hash = ? WHERE id = 2", [payload, new_hash])
    conn.close()
    db = open_store(store_path)
    try:
        problems = verify_chain(db)
    finally:
        db.close()
    assert [p.audit_id for p in problems] == [3]
    assert "audit row 3 does not follow" in problems[0].message


def test_a_deleted_evidence_row_is_named(recorded, store_path, run_cli):
    conn = _attacker(store_path)
    conn.execute("DELETE FROM link_evidence WHERE evidence_id = ?", [recorded["whois"]])
    conn.execute("DELETE FROM case_evidence WHERE evidence_id = ?", [recorded["whois"]])
    conn.execute("DELETE FROM evidence WHERE id = ?", [recorded["whois"]])
    conn.close()
    _verify_fails_naming(run_cli, f"evidence {recorded['whois']}", "missing")


def test_a_deleted_audit_row_is_named(recorded, store_path, run_cli):
    conn = _attacker(store_path)
    conn.execute("DELETE FROM audit WHERE id = 3")
    conn.close()
    _verify_fails_naming(run_cli, "audit rows 3-3 are missing")


def test_an_entity_inserted_behind_the_apps_back_is_named(recorded, store_path, run_cli):
    conn = sqlite3.connect(store_path, isolation_level=None)
    cursor = conn.execute(
        "INSERT INTO entities (kind, key, value, attrs, created_at, updated_at) VALUES "
        "('person', 'someone else', 'Someone Else', '{}', "
        "'2009-11-02T00:00:00.000000Z', '2009-11-02T00:00:00.000000Z')"
    )
    entity_id = cursor.lastrowid
    conn.close()
    _verify_fails_naming(run_cli, f"entity {entity_id}: not in the audit chain")


def test_evidence_inserted_behind_the_apps_back_is_named(recorded, store_path):
    conn = sqlite3.connect(store_path, isolation_level=None)
    cursor = conn.execute(
        "INSERT INTO evidence (kind, sha256, size, media_type, content, captured_at, "
        "recorded_at) VALUES ('note', ?, 1, 'text/plain', x'41', "
        "'2009-11-02T00:00:00.000000Z', '2009-11-02T00:00:00.000000Z')",
        ["559aead08264d5795d3909718cdd05abd49572e84fe55590eef31a88a08fdffd"],
    )
    conn.close()
    db = open_store(store_path)
    try:
        report = verify_store(db)
    finally:
        db.close()
    assert report.problems == [
        f"evidence {cursor.lastrowid}: not in the audit chain (added behind the workbench's back)"
    ]


@pytest.mark.parametrize(
    ("statement", "named"),
    [
        ("UPDATE entities SET value = 'Someone Else' WHERE id = 1", "entity 1: value"),
        (
            "UPDATE entities SET attrs = '{\"line_type\": \"voice\"}' WHERE kind = 'phone'",
            "entity 2: attrs",
        ),
        ("UPDATE cases SET title = 'Nothing to see' WHERE id = 1", "case 1: title"),
        ("UPDATE links SET dst_id = 1, src_id = 2", "link 1: src_id, dst_id"),
        ("UPDATE events SET text = 'They replied.'", "event 1: text"),
        (
            "DELETE FROM link_cases; DELETE FROM link_evidence; DELETE FROM links",
            "link 1: recorded",
        ),
    ],
    ids=["entity-value", "entity-attrs", "case-title", "link-ends", "event-text", "link-deleted"],
)
def test_a_record_changed_or_deleted_behind_the_apps_back_is_named(
    recorded, store_path, statement, named
):
    conn = sqlite3.connect(store_path, isolation_level=None)
    conn.executescript(statement)
    conn.close()
    db = open_store(store_path)
    try:
        problems = verify_store(db).problems
    finally:
        db.close()
    assert len(problems) == 1 and problems[0].startswith(named), problems


def test_changes_made_through_the_workbench_replay_to_what_the_store_holds(store):
    case = casework.new_case(store, "Soundsbox")
    casework.update_case(store, case.id, title="Soundsbox.test", status="referred")
    casework.add_entity(store, case.id, "phone", "+352.26480123", {"line_type": "voice"})
    casework.add_entity(store, case.id, "phone", "+352 26480123", {"line_type": "fax"})
    casework.add_entity(store, case.id, "phone", "+352 26480123", {"note": "a fax line"})
    casework.archive_case(store, case.id)
    assert verify_store(store).ok, verify_store(store).problems
