"""The PDF case file of the Soundsbox case, read the way a reviewer reads it: as extracted
text, as rendered pages, and as attached files."""

from __future__ import annotations

import hashlib
import re
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest

from tests.core.test_export_scenario import HOSTILE_VALUE, build_scenario
from workbench.cli import main
from workbench.export.pdf import ExportRefused, export_pdf
from workbench.store.database import open_store
from workbench.store.evidence import case_evidence

pytestmark = pytest.mark.skipif(
    not shutil.which("pdftotext") or not shutil.which("pdftoppm"),
    reason="poppler-utils (pdftotext, pdftoppm, pdfdetach) are needed to read the PDF",
)


@pytest.fixture(scope="module")
def case_file(tmp_path_factory, qapp):
    """The scenario's store and the Soundsbox case file (made once for the module).

    `qapp` makes the application a QApplication, as in the desktop app, so that later UI
    tests in the same process find the kind of application they need."""
    folder = tmp_path_factory.mktemp("case-file")
    db = open_store(folder / "store.sqlite")
    scenario = build_scenario(db)
    result = export_pdf(db, scenario.soundsbox, folder / "soundsbox.pdf")
    hashes = [item.sha256 for item in case_evidence(db, scenario.soundsbox)]
    db.close()
    text = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(folder / "soundsbox.pdf"), "-"],
        capture_output=True,
        check=True,
    ).stdout.decode("utf-8")
    return folder, scenario, result, text, hashes


def page_text(pdf: Path, page: int) -> str:
    return subprocess.run(
        ["pdftotext", "-enc", "UTF-8", "-f", str(page), "-l", str(page), str(pdf), "-"],
        capture_output=True,
        check=True,
    ).stdout.decode("utf-8")


def test_the_case_file_names_the_licence_registrant_registrar_and_collecting_society(case_file):
    _, _, _, text, _ = case_file
    for fact in (
        "49/ZM-07",
        "Pedro Kresker",
        "Vienna Domains GmbH",
        "ROMS",
        "Russian Multimedia and Internet Society",
        "0.14 USD per track",
        "5,000,000 items",
    ):
        assert fact in text, fact


def test_the_case_file_prints_every_evidence_hash_in_full(case_file):
    _, _, result, text, hashes = case_file
    assert len(hashes) == result.exhibits
    for digest in hashes:
        assert digest in text


def test_the_licence_claim_is_quoted_as_the_site_words_it(case_file):
    _, _, _, text, _ = case_file
    flat = " ".join(text.split())
    assert "authorized by the license # 49/ZM-07 of the Russian Multimedia and Internet" in flat


def test_cyrillic_evidence_text_is_reproduced_in_the_appendix(case_file):
    _, _, _, text, _ = case_file
    assert "ООО «Красная площадь хостинг», Москва" in text
    assert "Жалобы на нарушение авторских прав" in text


def test_text_from_the_store_is_printed_literally_never_run_as_markup(case_file):
    _, _, _, text, _ = case_file
    # Compared without white space: a table cell may wrap the value across lines.
    squeezed = "".join(text.split())
    assert "".join(HOSTILE_VALUE.split()) in squeezed
    assert "<b>bold</b>&'quoted'" in squeezed


def test_every_citation_points_to_an_exhibit_the_appendix_holds(case_file):
    _, _, result, text, _ = case_file
    cited = set()
    for group in re.findall(r"\[(E\d+(?:[,–\s]+E\d+)*)\]", text):
        numbers = [int(n) for n in re.findall(r"E(\d+)", group)]
        if "–" in group:
            numbers = list(range(min(numbers), max(numbers) + 1))
        cited.update(numbers)
    assert cited, "the body cites no exhibit"
    assert cited <= set(range(1, result.exhibits + 1))
    for number in range(1, result.exhibits + 1):
        assert f"Exhibit E{number}:" in text
    assert result.uncited_facts == 0


def test_each_page_has_the_case_in_its_header_and_page_x_of_y_in_its_footer(case_file):
    folder, scenario, result, _, _ = case_file
    pdf = folder / "soundsbox.pdf"
    for page in (1, result.pages // 2, result.pages):
        text = page_text(pdf, page)
        assert f"Case {scenario.soundsbox} ·" in text
        assert f"Page {page} of {result.pages}" in text
        assert "Generated " in text


def test_the_contents_give_the_page_each_section_starts_on(case_file):
    folder, _, _, _, _ = case_file
    pdf = folder / "soundsbox.pdf"
    cover = subprocess.run(
        ["pdftotext", "-layout", "-enc", "UTF-8", "-f", "1", "-l", "1", str(pdf), "-"],
        capture_output=True,
        check=True,
    ).stdout.decode("utf-8")
    entries = re.findall(r"^([1-9A]\. [A-Z][a-z -]+?)\s{2,}(\d+)\s*$", cover, re.M)
    assert len(entries) == 9, cover
    for heading, page in entries:
        assert heading in page_text(pdf, int(page)).splitlines(), (heading, page)


def test_the_schedule_of_exhibits_gives_the_page_each_exhibit_starts_on(case_file):
    folder, _, result, _, hashes = case_file
    pdf = folder / "soundsbox.pdf"
    laid_out = subprocess.run(
        ["pdftotext", "-layout", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, check=True
    ).stdout.decode("utf-8")
    schedule = laid_out.split("Schedule of exhibits", 1)[1].split("Exhibit E1:", 1)[0]
    flat = " ".join(schedule.split())
    rows = re.findall(r"E(\d+) .*?([0-9a-f]{16}) (\d+)", flat)
    assert [int(n) for n, _, _ in rows] == list(range(1, result.exhibits + 1))
    for (number, prefix, page), digest in zip(rows, hashes, strict=True):
        assert digest.startswith(prefix)
        assert f"Exhibit E{number}:" in page_text(pdf, int(page)).splitlines()[4]


def test_a_rendered_page_is_not_blank(case_file, qapp):
    from PySide6.QtGui import QImage

    folder, _, _, _, _ = case_file
    pdf = folder / "soundsbox.pdf"
    for page in (1, 8):  # the cover and the link graph
        prefix = folder / f"page-{page}"
        subprocess.run(
            [
                "pdftoppm",
                "-png",
                "-r",
                "50",
                "-f",
                str(page),
                "-l",
                str(page),
                "-singlefile",
                str(pdf),
                str(prefix),
            ],
            check=True,
        )
        image = QImage(str(prefix) + ".png")
        assert not image.isNull()
        dark = sum(
            1
            for y in range(0, image.height(), 2)
            for x in range(0, image.width(), 2)
            if image.pixelColor(x, y).lightness() < 200
        )
        assert dark > 500, f"page {page} is nearly blank ({dark} dark samples)"


def test_every_exhibit_is_attached_with_its_exact_bytes(case_file):
    folder, _, result, _, hashes = case_file
    out = folder / "attachments"
    out.mkdir(exist_ok=True)
    subprocess.run(
        ["pdfdetach", "-saveall", "-o", str(out), str(folder / "soundsbox.pdf")], check=True
    )
    files = sorted(out.iterdir())
    assert len(files) == result.exhibits
    assert {hashlib.sha256(f.read_bytes()).hexdigest() for f in files} == set(hashes)
    assert files[0].name.startswith("E001-")


def _tamper(store: Path, sql: str, trigger: str) -> None:
    conn = sqlite3.connect(store)
    conn.execute(f"DROP TRIGGER {trigger}")
    conn.execute(sql)
    conn.commit()
    conn.close()


@pytest.fixture
def scenario_copy(case_file, tmp_path):
    folder = case_file[0]
    shutil.copy(folder / "store.sqlite", tmp_path / "store.sqlite")
    return tmp_path / "store.sqlite", case_file[1]


def test_an_evidence_item_changed_behind_the_app_stops_the_export_naming_it(scenario_copy, qapp):
    store, scenario = scenario_copy
    _tamper(
        store,
        "UPDATE evidence SET content = CAST(X'00' || content AS BLOB) WHERE id = 2",
        "evidence_no_update",
    )
    db = open_store(store)
    target = store.parent / "case.pdf"
    with pytest.raises(ExportRefused, match=r"evidence 2: content does not match its SHA-256"):
        export_pdf(db, scenario.soundsbox, target)
    db.close()
    assert not target.exists()


def test_a_broken_audit_chain_stops_the_export_naming_the_row(scenario_copy, qapp):
    store, scenario = scenario_copy
    _tamper(store, "UPDATE audit SET payload = '{}' WHERE id = 5", "audit_no_update")
    db = open_store(store)
    with pytest.raises(ExportRefused, match=r"audit row 5"):
        export_pdf(db, scenario.soundsbox, store.parent / "case.pdf")
    db.close()


def test_the_command_writes_the_case_file_and_refuses_a_tampered_store(
    scenario_copy, run_cli, capsys, qapp
):
    store, scenario = scenario_copy
    target = store.parent / "out.pdf"
    done = run_cli("export", "--case", scenario.soundsbox, "--pdf", target, store=store)
    assert done.code == 0, done
    assert "pages" in done.stdout and target.read_bytes().startswith(b"%PDF")
    _tamper(store, "UPDATE evidence SET content = X'00' WHERE id = 3", "evidence_no_update")
    # In this process (a second interpreter start-up adds nothing to what is checked).
    code = main(
        [
            "--store",
            str(store),
            "export",
            "--case",
            str(scenario.soundsbox),
            "--pdf",
            str(store.parent / "b.pdf"),
        ]
    )
    assert code == 2
    assert "evidence 3" in capsys.readouterr().err
    assert not (store.parent / "b.pdf").exists()


def test_store_text_cannot_pose_as_a_placeholder_of_the_case_file(tmp_path, qapp):
    from workbench.services import casework

    db = open_store(tmp_path / "store.sqlite")
    case = casework.new_case(db, "Forged placeholders").id
    forged = "\ue000page-1\ue000 \ue000graph\ue000 Ltd"
    casework.add_entity(db, case, "organisation", forged)
    export_pdf(db, case, tmp_path / "case.pdf")
    db.close()
    entities = "".join(page_text(tmp_path / "case.pdf", 4).split())  # cells may wrap
    assert "<U+E000>page-1<U+E000><U+E000>graph<U+E000>Ltd" in entities
