"""Sealed bundles: a round trip into a fresh store keeps the case whole, importing twice
changes nothing, and a bundle changed by one byte, or built to escape its folder, is
refused with a message naming the member."""

from __future__ import annotations

import json
import os
import shutil
import stat
import zipfile
from pathlib import Path

import pytest

from tests.conftest import dump_tables
from tests.core.test_export_scenario import build_scenario
from workbench.cli import main
from workbench.export.bundle import (
    BundleRefused,
    export_bundle,
    import_bundle,
    open_bundle_read_only,
    verify_bundle,
    write_container,
)
from workbench.store.database import open_store
from workbench.store.details import case_detail
from workbench.store.entities import case_entities
from workbench.store.verify import verify_store


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """The scenario's store and the Soundsbox bundle (made once for the module)."""
    folder = tmp_path_factory.mktemp("bundle")
    db = open_store(folder / "source.sqlite")
    scenario = build_scenario(db)
    result = export_bundle(db, scenario.soundsbox, folder / "soundsbox.zip")
    picture = case_picture(db, scenario.soundsbox)
    db.close()
    return folder, scenario, result, picture


def case_picture(db, case_id: int) -> dict:
    """A case as store-independent facts: entities by kind and key, links by their ends,
    events, and evidence by hash and capture (ids differ from store to store)."""
    detail = case_detail(db, case_id)
    keys = {e["id"]: (e["kind"], e["key"]) for e in detail["entities"]}
    evidence = {e["id"]: (e["sha256"], e["captured_at"]) for e in detail["evidence"]}
    return {
        "title": detail["case"]["title"],
        "status": detail["case"]["status"],
        "entities": sorted(
            (e["kind"], e["key"], e["value"], json.dumps(e["attrs"], sort_keys=True))
            for e in detail["entities"]
        ),
        "links": sorted(
            (
                keys[link["src_id"]],
                link["type"],
                link["label"],
                keys[link["dst_id"]],
                link["confidence"],
                tuple(sorted(evidence[e] for e in link["evidence_ids"])),
            )
            for link in detail["links"]
        ),
        "events": sorted(
            (
                ev["at"],
                ev["kind"],
                ev["text"],
                ev["deadline"] or "",
                ev["outcome"] or "",
                tuple(sorted(keys[i] for i in ev["entity_ids"])),
            )
            for ev in detail["events"]
        ),
        "evidence": sorted(
            (e["sha256"], e["captured_at"], e["source"] or "", e["query"] or "", e["kind"])
            for e in detail["evidence"]
        ),
    }


def rewrite(source: Path, target: Path, change) -> None:
    """Copy a zip member by member, letting `change(name, data)` return new bytes (or
    None to drop the member)."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        new.comment = old.comment
        for info in old.infolist():
            data = change(info.filename, old.read(info))
            if data is not None:
                new.writestr(info, data)


def test_a_bundle_imported_into_a_fresh_store_holds_the_same_case(exported, tmp_path):
    folder, _, _, picture = exported
    db = open_store(tmp_path / "fresh.sqlite")
    result = import_bundle(db, folder / "soundsbox.zip")
    assert result["created_case"] and result["changed"]
    assert case_picture(db, result["case_id"]) == picture
    assert verify_store(db).ok
    db.close()


def test_importing_the_same_bundle_twice_changes_nothing(exported, tmp_path):
    folder = exported[0]
    store = tmp_path / "fresh.sqlite"
    db = open_store(store)
    import_bundle(db, folder / "soundsbox.zip")
    db.close()
    before = dump_tables(store)
    db = open_store(store)
    again = import_bundle(db, folder / "soundsbox.zip")
    db.close()
    assert not again["changed"]
    assert set(again["added"].values()) == {0}
    assert dump_tables(store) == before


def test_a_bundle_brought_back_to_its_own_store_changes_nothing(exported, tmp_path):
    folder, scenario, _, _ = exported
    store = tmp_path / "source.sqlite"
    shutil.copy(folder / "source.sqlite", store)
    before = dump_tables(store)
    db = open_store(store)
    result = import_bundle(db, folder / "soundsbox.zip")
    db.close()
    assert result["case_id"] == scenario.soundsbox
    assert dump_tables(store) == before


def test_shared_entities_merge_with_the_ones_a_store_already_has(exported, tmp_path):
    folder = exported[0]
    db = open_store(tmp_path / "other.sqlite")
    scenario = build_scenario(db)  # its own Soundsbox and AllofMP3, made separately
    result = import_bundle(db, folder / "soundsbox.zip")
    roms = [e for e in case_entities(db, result["case_id"]) if e.value == "ROMS"]
    mine = [e for e in case_entities(db, scenario.allofmp3) if e.value == "ROMS"]
    assert roms and mine and roms[0].id == mine[0].id
    assert db.execute("SELECT count(*) FROM entities WHERE key = 'roms'").fetchone()[0] == 1
    db.close()


def test_a_sound_bundle_verifies_and_reports_its_hash(exported):
    folder, _, result, _ = exported
    report = verify_bundle(folder / "soundsbox.zip")
    assert report.ok, report.problems
    assert report.bundle_hash == result["bundle_hash"]
    with zipfile.ZipFile(folder / "soundsbox.zip") as archive:
        assert result["bundle_hash"].encode() in archive.comment
        names = archive.namelist()
    assert "case.json" in names and "manifest.json" in names
    assert sum(name.startswith("evidence/") for name in names) == result["evidence"]


def test_one_changed_byte_in_an_evidence_file_is_refused_naming_it(exported, tmp_path):
    folder = exported[0]
    with zipfile.ZipFile(folder / "soundsbox.zip") as archive:
        victim = next(n for n in archive.namelist() if n.startswith("evidence/"))
    tampered = tmp_path / "tampered.zip"

    def flip(name, data):
        if name == victim:
            return bytes([data[0] ^ 1]) + data[1:]
        return data

    rewrite(folder / "soundsbox.zip", tampered, flip)
    report = verify_bundle(tampered)
    assert report.changed == [victim]
    assert any(victim in problem for problem in report.problems)
    store = tmp_path / "fresh.sqlite"
    open_store(store).close()
    before = dump_tables(store)
    db = open_store(store)
    with pytest.raises(BundleRefused, match=victim):
        import_bundle(db, tampered)
    db.close()
    assert dump_tables(store) == before


def test_a_changed_case_description_is_refused_naming_case_json(exported, tmp_path):
    folder = exported[0]
    tampered = tmp_path / "tampered.zip"
    rewrite(
        folder / "soundsbox.zip",
        tampered,
        lambda name, data: (
            data.replace(b"Pedro Kresker", b"Pedro Kreskes") if name == "case.json" else data
        ),
    )
    report = verify_bundle(tampered)
    assert report.changed == ["case.json"]
    assert "case.json was changed" in " ".join(report.problems)


def test_a_manifest_rewritten_to_match_a_change_breaks_the_bundle_hash(exported, tmp_path):
    folder = exported[0]
    tampered = tmp_path / "tampered.zip"

    def forge(name, data):
        if name == "manifest.json":
            manifest = json.loads(data)
            manifest["case"]["title"] = "Another case"
            return json.dumps(manifest).encode()
        return data

    rewrite(folder / "soundsbox.zip", tampered, forge)
    report = verify_bundle(tampered)
    assert "manifest.json" in report.changed
    assert "manifest.json was changed" in " ".join(report.problems)


def test_a_damaged_byte_inside_the_zip_names_the_damaged_member(exported, tmp_path):
    folder = exported[0]
    raw = bytearray((folder / "soundsbox.zip").read_bytes())
    with zipfile.ZipFile(folder / "soundsbox.zip") as archive:
        info = archive.getinfo("case.json")
    # The middle of case.json's compressed data: past its 30-byte local header and name.
    raw[info.header_offset + 30 + len("case.json") + info.compress_size // 2] ^= 0xFF
    damaged = tmp_path / "damaged.zip"
    damaged.write_bytes(bytes(raw))
    report = verify_bundle(damaged)
    assert not report.ok
    assert report.changed == ["case.json"]


def test_missing_and_extra_members_are_named(exported, tmp_path):
    folder = exported[0]
    with zipfile.ZipFile(folder / "soundsbox.zip") as archive:
        victim = next(n for n in archive.namelist() if n.startswith("evidence/"))
    tampered = tmp_path / "tampered.zip"
    rewrite(folder / "soundsbox.zip", tampered, lambda n, d: None if n == victim else d)
    with zipfile.ZipFile(tampered, "a") as archive:
        archive.writestr("notes.txt", b"added later")
    report = verify_bundle(tampered)
    assert report.missing == [victim]
    assert report.extra == ["notes.txt"]


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("../evil", "climbs out"),
        ("evidence/../../evil", "climbs out"),
        ("/etc/evil", "absolute path"),
        ("C:/evil", "absolute path"),
        ("evidence\\..\\evil", "backslashes"),
    ],
)
def test_a_member_path_that_could_escape_is_refused(exported, tmp_path, name, reason):
    folder = exported[0]
    evil = tmp_path / "evil.zip"
    shutil.copy(folder / "soundsbox.zip", evil)
    with zipfile.ZipFile(evil, "a") as archive:
        archive.writestr(zipfile.ZipInfo(name), b"gotcha")
    report = verify_bundle(evil)
    assert report.unsafe == [name]
    assert reason in " ".join(report.problems)
    db = open_store(tmp_path / "fresh.sqlite")
    with pytest.raises(BundleRefused, match="unsafe member"):
        import_bundle(db, evil)
    db.close()
    assert not (tmp_path.parent / "evil").exists() and not (tmp_path / "evil").exists()


def test_symbolic_links_and_duplicate_names_are_refused(exported, tmp_path):
    folder = exported[0]
    evil = tmp_path / "evil.zip"
    shutil.copy(folder / "soundsbox.zip", evil)
    with zipfile.ZipFile(evil, "a") as archive:
        link = zipfile.ZipInfo("attachments/link")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(link, b"/etc/passwd")
        with pytest.warns(UserWarning, match="Duplicate name"):
            archive.writestr("case.json", b"{}")
    report = verify_bundle(evil)
    assert set(report.unsafe) == {"attachments/link", "case.json"}
    text = " ".join(report.problems)
    assert "symbolic link" in text and "appears twice" in text


def test_a_file_that_is_not_a_bundle_is_refused_plainly(tmp_path):
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"not a zip at all")
    report = verify_bundle(junk)
    assert not report.ok and "not a bundle" in report.problems[0]
    plain = tmp_path / "plain.zip"
    with zipfile.ZipFile(plain, "w") as archive:
        archive.writestr("readme.txt", b"hello")
    assert "manifest.json is missing" in verify_bundle(plain).problems[0]


def test_a_bundle_opens_read_only_for_review(exported):
    folder, _, _, picture = exported
    db = open_bundle_read_only(folder / "soundsbox.zip")
    try:
        case_id = db.execute("SELECT min(id) FROM cases").fetchone()[0]
        assert case_picture(db, case_id) == picture
        with pytest.raises(Exception, match="readonly"):
            db.execute("UPDATE cases SET title = 'changed'")
        store = Path(db.execute("PRAGMA database_list").fetchone()[2])
        assert not os.access(store, os.W_OK) or os.geteuid() == 0
        assert not (store.stat().st_mode & stat.S_IWUSR)
    finally:
        db.close()


def test_the_commands_verify_and_import_a_bundle(exported, tmp_path, capsys):
    folder, _, result, _ = exported
    bundle = str(folder / "soundsbox.zip")
    store = tmp_path / "store.sqlite"
    assert main(["--json", "verify", bundle]) == 0
    assert json.loads(capsys.readouterr().out)["bundle_hash"] == result["bundle_hash"]
    assert main(["--store", str(store), "verify", bundle]) == 0
    assert not store.exists()  # checking a bundle opens no store
    assert main(["--store", str(store), "import", bundle]) == 0
    assert "imported into case 1 (new)" in capsys.readouterr().out
    tampered = tmp_path / "tampered.zip"
    rewrite(folder / "soundsbox.zip", tampered, lambda n, d: d + b" " if n == "case.json" else d)
    assert main(["verify", str(tampered)]) == 1
    assert "case.json was changed" in capsys.readouterr().out
    assert main(["--store", str(store), "import", str(tampered)]) == 2
    assert "case.json" in capsys.readouterr().err


def test_open_read_only_hands_the_app_a_read_only_review_store(exported, monkeypatch):
    import workbench.ui.app as app

    folder, _, _, picture = exported
    opened = {}

    def run_app(store_path, read_only=False):
        db = open_store(store_path, read_only=True)
        opened.update(read_only=read_only, picture=case_picture(db, 1), path=store_path)
        db.close()
        return 0

    monkeypatch.setattr(app, "run_app", run_app)
    assert main(["open", "--read-only", str(folder / "soundsbox.zip")]) == 0
    assert opened["read_only"] is True
    assert opened["picture"] == picture
    assert not os.access(opened["path"], os.W_OK) or os.geteuid() == 0


def test_open_refuses_a_tampered_bundle_before_starting_the_app(exported, tmp_path, capsys):
    folder = exported[0]
    tampered = tmp_path / "tampered.zip"
    rewrite(folder / "soundsbox.zip", tampered, lambda n, d: d + b"x" if n == "case.json" else d)

    assert main(["open", "--read-only", str(tampered)]) == 2
    assert "case.json was changed" in capsys.readouterr().err


def test_a_bundle_can_carry_the_pdf_case_file(exported, tmp_path, qapp):
    folder = exported[0]
    db = open_store(folder / "source.sqlite")
    result = export_bundle(db, 1, tmp_path / "with-pdf.zip", with_pdf=True)
    db.close()
    assert verify_bundle(tmp_path / "with-pdf.zip").ok
    with zipfile.ZipFile(tmp_path / "with-pdf.zip") as archive:
        assert archive.read("attachments/case-file.pdf").startswith(b"%PDF")
    fresh = open_store(tmp_path / "fresh.sqlite")
    assert import_bundle(fresh, tmp_path / "with-pdf.zip")["bundle_hash"] == result["bundle_hash"]
    fresh.close()


# -- the sealed container (format 2) and older bundles -----------------------------------

FORMAT_1 = Path(__file__).parent.parent / "fixtures" / "bundles" / "format1-soundsbox.wbbundle"


def test_a_new_bundle_seals_every_byte_and_the_command_says_so(exported, capsys):
    folder = exported[0]
    report = verify_bundle(folder / "soundsbox.zip")
    assert report.ok and report.container_sealed and report.format_version == 2
    assert main(["verify", str(folder / "soundsbox.zip")]) == 0
    out = capsys.readouterr().out
    assert "every byte of the file is the bundle they make" in out
    assert "note:" not in out
    with zipfile.ZipFile(folder / "soundsbox.zip") as archive:
        # Stored: each evidence item's exact bytes sit in the file, readable with no zip tool.
        assert {info.compress_type for info in archive.infolist()} == {zipfile.ZIP_STORED}
        assert archive.testzip() is None


def test_a_bundle_from_an_earlier_version_verifies_as_an_older_format(capsys):
    """tests/fixtures/bundles/format1-soundsbox.wbbundle was written by workbench before
    the container was sealed (deflated members through zipfile)."""
    report = verify_bundle(FORMAT_1)
    assert report.ok, report.problems
    assert report.format_version == 1 and not report.container_sealed
    assert "format 1 bundle" in report.notes[0]
    assert main(["verify", str(FORMAT_1)]) == 0
    out = capsys.readouterr().out
    assert "bundle verified: 3 members match the manifest\n" in out
    assert "note: format 1 bundle" in out and "not sealed" in out
    assert main(["--json", "verify", str(FORMAT_1)]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["format_version"] == 1 and shown["container_sealed"] is False


def test_a_changed_member_of_an_older_bundle_is_still_refused(tmp_path):
    tampered = tmp_path / "old.wbbundle"
    rewrite(FORMAT_1, tampered, lambda n, d: d.replace(b"Pedro", b"Pedra"))
    report = verify_bundle(tampered)
    assert not report.ok
    assert set(report.changed) >= {"case.json"}


def test_an_older_bundle_imports_once_and_opens_read_only(tmp_path):
    store = tmp_path / "store.sqlite"
    db = open_store(store)
    first = import_bundle(db, FORMAT_1)
    db.close()
    before = dump_tables(store)
    db = open_store(store)
    again = import_bundle(db, FORMAT_1)
    db.close()
    assert first["changed"] and not again["changed"]
    assert dump_tables(store) == before
    review = open_bundle_read_only(FORMAT_1)
    try:
        titles = [row[0] for row in review.execute("SELECT title FROM cases")]
        assert titles == ["Soundsbox"]
    finally:
        review.close()


def test_a_bundle_with_more_members_than_a_plain_zip_holds_uses_zip64(tmp_path):
    """65,536 members (past the 16-bit count of the zip end record): the container writes
    the zip64 end record and zipfile reads every member back."""
    evidence = {f"evidence/{i:064x}": str(i).encode() for i in range(65_536)}
    # Members named by a hash they do not have still lay out: this tests the container.
    path = tmp_path / "many.wbbundle"
    path.write_bytes(
        write_container(
            {**evidence, "manifest.json": b"{}"},
            created_at="2026-11-22T12:00:00Z",
            bundle_hash="0" * 64,
        )
    )
    with zipfile.ZipFile(path) as archive:
        infos = archive.infolist()
        assert len(infos) == 65_537 and infos[-1].filename == "manifest.json"
        assert archive.read("evidence/" + f"{65_535:064x}") == b"65535"
    assert b"PK\x06\x06" in path.read_bytes()[-200:]  # the zip64 end record
