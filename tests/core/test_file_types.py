"""What a file's name claims against what it holds (workbench.domain.file_types): files
that are what they say are accepted, whatever their encoding; the ones that are plainly
something else are refused by name."""

from __future__ import annotations

import pytest

from workbench.domain.errors import InvalidInput
from workbench.domain.file_types import check_claimed_type, sniff_media_type

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 16
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
ZIP = b"PK\x03\x04\x14\x00\x00\x00"

ACCEPTED = [
    ("capture.png", PNG),
    ("photo.JPG", JPEG),
    ("notice.pdf", PDF),
    ("contract.docx", ZIP),
    ("page.html", b"<html><body>Soundsbox</body></html>"),
    ("latin-1 email.eml", "Subject: Caf\xe9 M\xfcller\n\nBonjour".encode("latin-1")),
    ("utf-16 notes.txt", "Notes about Soundsbox".encode("utf-16")),
    ("plain.txt", "Directeur général: Vadim".encode()),
    ("no extension", PNG),
    ("capture.bin", b"\x00\x01\x02"),
    ("MZ notes.txt", b"MZ was the first thing the registrant wrote"),
]
REFUSED = [
    ("screenshot.txt", PNG, "PNG image"),
    ("capture.png", b"<html></html>", "holds text"),
    ("capture.png", JPEG, "JPEG image"),
    ("notice.pdf", b"Dear Sir", "named as a PDF document"),
    ("contract.docx", b"plain text", "zip archive"),
    ("page.html", PDF, "PDF document"),
    ("email.eml", b"\x7fELF\x02\x01\x01\x00\x00", "Linux program"),
    ("data.json", b"{\x00\x00\x00}", "binary data"),
]


@pytest.mark.parametrize(("name", "content"), ACCEPTED, ids=[n for n, _ in ACCEPTED])
def test_a_file_that_is_what_its_name_says_is_accepted(name, content):
    check_claimed_type(name, content)


@pytest.mark.parametrize(("name", "content", "words"), REFUSED, ids=[n for n, _, _ in REFUSED])
def test_a_file_that_is_plainly_something_else_is_refused_by_name(name, content, words):
    with pytest.raises(InvalidInput) as caught:
        check_claimed_type(name, content, "file")
    assert caught.value.field == "file" and caught.value.value == name
    assert words in caught.value.reason


def test_signatures():
    assert sniff_media_type(PNG)[0] == "image/png"
    assert sniff_media_type(b"RIFF\x00\x00\x00\x00WEBPVP8 ")[0] == "image/webp"
    assert sniff_media_type(b"hello") is None
