"""What a file is, read from its first bytes, against what its name claims.

An evidence file's media type is recorded with it and shown in the case file. A PNG
screenshot saved as `notice.txt`, or a web page saved as `capture.png`, would be recorded
as something it is not; in a case file that may go to court that is a mistake to fix
before it is stored, not after. Only unambiguous signatures are used, so a file whose
type cannot be told from its content is taken as named.
"""

from __future__ import annotations

import mimetypes
from pathlib import PurePath

from workbench.domain.errors import InvalidInput

# (first bytes, media type, what a person calls it)
_SIGNATURES: tuple[tuple[bytes, str, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png", "a PNG image"),
    (b"\xff\xd8\xff", "image/jpeg", "a JPEG image"),
    (b"GIF87a", "image/gif", "a GIF image"),
    (b"GIF89a", "image/gif", "a GIF image"),
    (b"%PDF-", "application/pdf", "a PDF document"),
    (b"PK\x03\x04", "application/zip", "a zip archive (or an Office document)"),
    (b"\x1f\x8b", "application/gzip", "a gzip archive"),
    (b"\x7fELF", "application/x-executable", "a Linux program"),
    (b"MZ", "application/x-msdownload", "a Windows program"),
)
_WEBP = "image/webp"
# Names whose content must start with a signature above (zip-based formats are zips).
_ZIP_BASED = frozenset(
    {
        "application/zip",
        "application/epub+zip",
        "application/java-archive",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "application/vnd.oasis.opendocument.text",
        "application/vnd.oasis.opendocument.spreadsheet",
    }
)
_SIGNED = frozenset({"image/png", "image/jpeg", "image/gif", "application/pdf", _WEBP})
_TEXT_LIKE = frozenset(
    {"message/rfc822", "application/json", "application/xml", "application/javascript"}
)
_NAMES = {
    "image/png": "a PNG image",
    "image/jpeg": "a JPEG image",
    "image/gif": "a GIF image",
    "image/webp": "a WebP image",
    "application/pdf": "a PDF document",
    "application/zip": "a zip archive",
}


def sniff_media_type(content: bytes) -> tuple[str, str] | None:
    """(media type, description) when `content` starts with a signature known here."""
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return _WEBP, "a WebP image"
    for magic, media_type, description in _SIGNATURES:
        if content.startswith(magic):
            if media_type == "application/x-msdownload" and b"\x00" not in content[:512]:
                continue  # text that happens to start with "MZ"
            return media_type, description
    return None


def _claimed(filename: str) -> str | None:
    return mimetypes.guess_type(filename)[0]


def _is_text_claim(media_type: str) -> bool:
    return media_type.startswith("text/") or media_type in _TEXT_LIKE


def _binary_without_signature(content: bytes) -> bool:
    """NUL bytes in the first 8 KiB and no UTF-16 byte-order mark: not text in any 8-bit
    encoding (Latin-1 or Windows-1252 emails are text and pass)."""
    if content.startswith((b"\xff\xfe", b"\xfe\xff")):
        return False
    return b"\x00" in content[:8192]


def check_claimed_type(filename: str, content: bytes, field: str = "file") -> None:
    """Raise InvalidInput when `content` is plainly not what `filename`'s extension says:
    an image, PDF or zip name on other content, or a text name on an image, PDF, archive,
    program or binary data. Names without a known extension claim nothing."""
    claimed = _claimed(filename)
    if claimed is None or not content:
        return
    sniffed = sniff_media_type(content)
    suffix = PurePath(filename).suffix.lower()
    expected = "application/zip" if claimed in _ZIP_BASED else claimed
    if expected in _SIGNED or expected == "application/zip":
        if sniffed is None or sniffed[0] != expected:
            actual = sniffed[1] if sniffed else _describe_unsigned(content)
            raise InvalidInput(
                field,
                filename,
                f"is named as {_NAMES.get(expected, expected)} ({suffix}) but holds "
                f"{actual}: rename it to what it is, then attach it",
            )
        return
    if _is_text_claim(claimed) and (sniffed is not None or _binary_without_signature(content)):
        actual = sniffed[1] if sniffed else "binary data"
        raise InvalidInput(
            field,
            filename,
            f"is named as text ({suffix}) but holds {actual}: rename it to what it is, "
            "then attach it",
        )


def _describe_unsigned(content: bytes) -> str:
    return "binary data" if _binary_without_signature(content) else "text"
