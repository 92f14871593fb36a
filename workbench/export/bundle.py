"""Sealed case bundles: one zip file a colleague or a lawyer can check, review offline, and
merge into their own store.

A bundle holds `case.json` (the JSON export, `json_export`), each evidence item's exact
bytes as `evidence/<sha256>`, optional `attachments/` (the PDF case file), and
`manifest.json`, which lists every other member with its SHA-256 and size. The bundle hash
is the SHA-256 of the manifest's canonical JSON (sorted keys, no spaces, UTF-8) without the
`bundle_hash` field; it is written into the manifest and the zip comment, and is the one
number to quote when handing a bundle over.

`verify_bundle` names exactly which member changed, is missing or is extra. Nothing in a
bundle is ever extracted to disk by its own name: members are read into memory by name
after each name was checked (no absolute paths, no `..`, no backslashes, no symlinks, no
duplicates), so no member can land outside anything. `import_bundle` merges a verified
bundle into a store in one transaction: entities deduplicate by kind and key, evidence by
its identity (hash, capture time, source, query), events and lookups by their contents, so
importing the same bundle twice changes nothing.

Every byte of the file is sealed (format 2). The zip container is not left to a zip
library: `write_container` lays the file out by a fixed rule, so the members determine
the file byte for byte. Members are stored uncompressed (a compressor's output differs
between zlib builds, and unused bits of a deflate stream change nothing it inflates to),
in name order with manifest.json last; every header carries the manifest's `created_at`
as its time, the same fixed attributes and no extra fields; manifest.json is the
canonical serialisation of its own contents (`_manifest_bytes`); the zip comment is
`workbench case bundle sha256:<bundle hash>`. `verify_bundle` first checks each member
against the manifest and the manifest against its bundle hash, then rebuilds the
canonical file from those verified members and compares it with the file, byte for byte:
a change anywhere (a header, a time stamp, an attribute, the central directory, the end
record, the comment, a byte appended or cut) is reported with its offset and the part it
lies in. So the bundle hash, quoted when the bundle is handed over, pins the whole file,
and the file's own SHA-256 (what `sha256sum` prints) is the same wherever it is
recomputed. No seal is stored beside the file (it could be lost) and none inside it (it
could not cover itself). Stored members also mean each evidence item's exact bytes sit
in the file at one offset, readable without any zip tool.

Format 1 bundles (written before this) compressed their members with deflate through
Python's zipfile, so their container cannot be rebuilt; they still verify, member by
member, and the report says in `notes` that the container around the members is not
sealed.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import json
import os
import re
import shutil
import stat
import struct
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from workbench import __version__
from workbench.domain.errors import InvalidInput, WorkbenchError
from workbench.domain.identity import identify
from workbench.domain.kinds import EntityKind, LinkType
from workbench.domain.times import from_iso
from workbench.export.casedata import evidence_content, load_case, store_identity
from workbench.export.files import atomic_path
from workbench.export.json_export import SCHEMA, SCHEMA_VERSION, case_document, dumps
from workbench.lookups.dns_parse import render_dns_capture
from workbench.store import audit
from workbench.store.cases import create_case, get_case, update_case
from workbench.store.database import open_store, writing
from workbench.store.entities import ensure_entity, find_entity
from workbench.store.events import add_event
from workbench.store.evidence import add_evidence
from workbench.store.links import ensure_link
from workbench.store.snapshots import add_snapshot

FORMAT = "workbench.case-bundle"
FORMAT_VERSION = 2
READABLE_VERSIONS = (1, 2)
MANIFEST = "manifest.json"
CASE_JSON = "case.json"
PDF_ATTACHMENT = "attachments/case-file.pdf"
MAX_MANIFEST_BYTES = 64 * 1024 * 1024
MAX_MEMBER_BYTES = 512 * 1024 * 1024
MAX_MEMBERS = 200_000
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_COMMENT = re.compile(rb"sha256:([0-9a-f]{64})")
_CHUNK = 1024 * 1024


class BundleRefused(WorkbenchError):
    """A bundle that is not sound (changed, incomplete, unsafe) or cannot be merged."""


@dataclass
class BundleReport:
    path: str
    bundle_hash: str | None = None
    members: int = 0
    case: dict[str, Any] | None = None
    changed: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    unsafe: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # one sentence per problem
    format_version: int | None = None
    container_sealed: bool = False  # every byte of the file checked, not only the members
    notes: list[str] = field(default_factory=list)  # said beside a sound result

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "ok": self.ok,
            "bundle_hash": self.bundle_hash,
            "members": self.members,
            "case": self.case,
            "changed": self.changed,
            "missing": self.missing,
            "extra": self.extra,
            "unsafe": self.unsafe,
            "problems": self.problems,
            "format_version": self.format_version,
            "container_sealed": self.container_sealed,
            "notes": self.notes,
        }


def canonical_bytes(manifest: dict[str, Any]) -> bytes:
    """What the bundle hash covers: the manifest without its hash, as canonical JSON."""
    body = {key: value for key, value in manifest.items() if key != "bundle_hash"}
    return audit.canonical_json(body).encode("utf-8")


def bundle_hash_of(manifest: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_bytes(manifest)).hexdigest()


# -- writing ----------------------------------------------------------------------------


def export_bundle(
    db: Database, case_id: int, path: str | os.PathLike, *, with_pdf: bool = False
) -> dict[str, Any]:
    """Write the sealed bundle of `case_id` to `path`; returns its hash, size and counts.

    With `with_pdf` the PDF case file goes in too, as attachments/case-file.pdf (the
    PDF export verifies the store first and refuses on any mismatch)."""
    data = load_case(db, case_id)
    document = case_document(data)
    members: dict[str, bytes] = {CASE_JSON: dumps(document).encode("utf-8")}
    for item in data.evidence:
        name = f"evidence/{item.sha256}"
        if name in members:
            continue  # the same bytes captured twice are stored once
        content = evidence_content(db, item.id)
        if hashlib.sha256(content).hexdigest() != item.sha256:
            raise BundleRefused(
                f"the bundle was not written: evidence {item.id} no longer matches its SHA-256"
            )
        members[name] = content
    if with_pdf:
        from workbench.export.pdf import export_pdf  # Qt only when a PDF is asked for

        with tempfile.TemporaryDirectory(prefix="workbench-bundle-") as folder:
            pdf_path = Path(folder) / "case-file.pdf"
            export_pdf(db, case_id, pdf_path)
            members[PDF_ATTACHMENT] = pdf_path.read_bytes()
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "generator": f"workbench {__version__}",
        "created_at": data.generated_at,
        "case": {"id": data.case.id, "title": data.case.title},
        "origin": dict(data.origin),
        "members": [
            {"path": name, "sha256": hashlib.sha256(payload).hexdigest(), "size": len(payload)}
            for name, payload in sorted(members.items())
        ],
    }
    manifest["bundle_hash"] = bundle_hash_of(manifest)
    members[MANIFEST] = _manifest_bytes(manifest)
    with atomic_path(path) as partial, open(partial, "wb") as handle:
        for _part, chunk in _container_parts(
            _entries_in_memory(members), data.generated_at, manifest["bundle_hash"]
        ):
            handle.write(chunk)
    target = Path(path)
    return {
        "path": str(target),
        "bytes": target.stat().st_size,
        "bundle_hash": manifest["bundle_hash"],
        "members": len(members) + 1,
        "evidence": len(data.evidence),
        "entities": len(data.entities),
        "links": len(data.links),
        "events": len(data.events),
    }


def _manifest_bytes(manifest: dict[str, Any]) -> bytes:
    """manifest.json as written: the one serialisation of its contents a bundle holds."""
    return (json.dumps(manifest, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


# -- the canonical container (format 2) -------------------------------------------------
#
# The layout follows PKWARE's APPNOTE 6.3: local header, data, ... central directory,
# [zip64 end record and locator], end record, comment. Every field is fixed here, so
# the same members always give the same bytes, whatever the Python or zlib version.

_LOCAL = struct.Struct("<IHHHHHIIIHH")  # 30 bytes
_CENTRAL = struct.Struct("<IHHHHHHIIIHHHHHII")  # 46 bytes
_END = struct.Struct("<IHHHHIIH")  # 22 bytes
_END64 = struct.Struct("<IQHHIIQQQQ")  # 56 bytes
_LOCATOR64 = struct.Struct("<IIQI")  # 20 bytes
_ZIP64_OFFSET = struct.Struct("<HHQ")  # the extra field holding a header offset
_VERSION = 20  # 2.0: stored members, folders in names
_VERSION_ZIP64 = 45
_MADE_BY = (3 << 8) | _VERSION_ZIP64  # Unix attributes
_UTF8_NAMES = 0x0800
_STORED = 0
_FILE_ATTRIBUTES = (stat.S_IFREG | 0o644) << 16
_U16 = 0xFFFF
_U32 = 0xFFFFFFFF


@dataclass(frozen=True)
class _Entry:
    """One member as the container needs it: its bytes come from `chunks` when written."""

    name: str
    size: int
    crc: int
    chunks: Callable[[], Iterable[bytes]]


def _entries_in_memory(members: Mapping[str, bytes]) -> list[_Entry]:
    """The members in canonical order (by name, manifest.json last)."""
    order = sorted(name for name in members if name != MANIFEST)
    if MANIFEST in members:
        order.append(MANIFEST)
    return [
        _Entry(name, len(members[name]), zlib.crc32(members[name]), lambda n=name: [members[n]])
        for name in order
    ]


def _dos_stamp(created_at: str) -> tuple[int, int]:
    """The bundle's creation time (UTC) as a zip header's MS-DOS time and date."""
    try:
        when = from_iso(created_at)
    except (TypeError, ValueError, AttributeError):
        raise BundleRefused(
            f"the bundle's created_at {str(created_at)[:40]!r} is not a time"
        ) from None
    # A time without an offset is UTC, never the local zone of whoever checks it.
    when = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    if not 1980 <= when.year <= 2107:
        raise BundleRefused(f"the bundle's created_at {created_at!r} is outside 1980-2107")
    return (
        when.hour << 11 | when.minute << 5 | when.second // 2,
        (when.year - 1980) << 9 | when.month << 5 | when.day,
    )


def _container_parts(
    entries: list[_Entry], created_at: str, bundle_hash: str
) -> Iterator[tuple[str, bytes]]:
    """The canonical bundle file, in order, as (which part, bytes) pairs."""
    time, date = _dos_stamp(created_at)
    central: list[bytes] = []
    offset = 0
    for entry in entries:
        name = entry.name.encode("utf-8")
        if entry.size >= _U32:
            raise BundleRefused(f"{entry.name} is too large for a bundle member")
        header = _LOCAL.pack(
            0x04034B50, _VERSION, _UTF8_NAMES, _STORED, time, date,
            entry.crc, entry.size, entry.size, len(name), 0,
        )  # fmt: skip
        yield f"the local header of {entry.name}", header + name
        written = 0
        for chunk in entry.chunks():
            written += len(chunk)
            yield f"the content of {entry.name}", chunk
        if written != entry.size:
            raise BundleRefused(f"{entry.name} changed while the bundle was written or read")
        extra = _ZIP64_OFFSET.pack(1, 8, offset) if offset >= _U32 else b""
        central.append(
            _CENTRAL.pack(
                0x02014B50,
                _MADE_BY,
                _VERSION_ZIP64 if extra else _VERSION,
                _UTF8_NAMES,
                _STORED,
                time,
                date,
                entry.crc,
                entry.size,
                entry.size,
                len(name),
                len(extra),
                0,
                0,
                0,
                _FILE_ATTRIBUTES,
                min(offset, _U32),
            )
            + name
            + extra
        )
        offset += len(header) + len(name) + entry.size
    directory_start = offset
    for entry, record in zip(entries, central, strict=True):
        yield f"the central directory entry of {entry.name}", record
        offset += len(record)
    directory_size = offset - directory_start
    count = len(entries)
    if count >= _U16 or directory_start >= _U32 or directory_size >= _U32:
        yield "the zip64 end record", _END64.pack(
            0x06064B50, _END64.size - 12, _MADE_BY, _VERSION_ZIP64, 0, 0,
            count, count, directory_size, directory_start,
        )  # fmt: skip
        yield "the zip64 end locator", _LOCATOR64.pack(0x07064B50, 0, offset, 1)
    comment = f"workbench case bundle sha256:{bundle_hash}".encode()
    yield "the end record", _END.pack(
        0x06054B50, 0, 0, min(count, _U16), min(count, _U16),
        min(directory_size, _U32), min(directory_start, _U32), len(comment),
    )  # fmt: skip
    yield "the zip comment", comment


def write_container(members: Mapping[str, bytes], *, created_at: str, bundle_hash: str) -> bytes:
    """The canonical bundle file holding `members` (manifest.json included, as given):
    what `export_bundle` writes for them, for tests and tools that build bundles."""
    return b"".join(
        chunk for _part, chunk in _container_parts(
            _entries_in_memory(members), created_at, bundle_hash
        )
    )  # fmt: skip


def _container_difference(handle, parts: Iterable[tuple[str, bytes]]) -> str | None:
    """Where the file in `handle` first differs from the canonical `parts`, or None.

    Reads by absolute position: zipfile may share `handle` and move it in between."""
    position = 0
    for part, expected in parts:
        handle.seek(position)
        actual = handle.read(len(expected))
        if actual != expected:
            at = next(
                (i for i, (a, b) in enumerate(zip(actual, expected, strict=False)) if a != b),
                len(actual),
            )
            if at == len(actual):
                return f"the file ends at byte {position + at:,}, inside {part}: it was cut short"
            return (
                f"byte {position + at:,} of the file, in {part}, differs from the bundle "
                "its members make: the zip container was changed"
            )
        position += len(expected)
    handle.seek(position)
    if handle.read(1):
        return f"the file goes on past byte {position:,}, where the bundle ends: bytes were added"
    return None


# -- checking ---------------------------------------------------------------------------


def unsafe_member_reason(info: zipfile.ZipInfo) -> str | None:
    """Why a member's name or type could reach outside the bundle, or None if it cannot."""
    name = info.filename
    if not name:
        return "has an empty name"
    if len(name) > 300:
        return "has a name longer than 300 characters"
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in name):
        return "has control characters in its name"
    if "\\" in name:
        return "uses backslashes, which some systems read as folders"
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        return "is an absolute path"
    parts = name.split("/")
    if ".." in parts:
        return "climbs out of the bundle folder (..)"
    if any(part in ("", ".") for part in parts):
        return "has an empty or '.' path segment"
    if stat.S_ISLNK(info.external_attr >> 16):
        return "is a symbolic link"
    if info.is_dir():
        return "is a folder entry"
    if info.flag_bits & 0x1:
        return "is encrypted"
    return None


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes:
    """A member's bytes, read in chunks and refused past `limit` (a zip can lie about its
    sizes, so the limit comes from the manifest, not from the zip)."""
    chunks = []
    total = 0
    with archive.open(info) as handle:
        while True:
            chunk = handle.read(_CHUNK)
            if not chunk:
                break
            total += len(chunk)
            if total > limit:
                raise BundleRefused(f"{info.filename} is larger than its manifest says")
            chunks.append(chunk)
    return b"".join(chunks)


def _hash_member(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int
) -> tuple[str, int, int]:
    """A member's SHA-256, size and CRC-32, read in chunks and stopped past `limit`."""
    digest = hashlib.sha256()
    crc = 0
    total = 0
    for chunk in _member_chunks(archive, info, limit):
        total += len(chunk)
        if total > limit:
            return "", total, crc
        digest.update(chunk)
        crc = zlib.crc32(chunk, crc)
    return digest.hexdigest(), total, crc


def _member_chunks(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> Iterator[bytes]:
    with archive.open(info) as handle:
        total = 0
        while total <= limit:
            chunk = handle.read(_CHUNK)
            if not chunk:
                break
            total += len(chunk)
            yield chunk


def _manifest_problem(manifest: Any) -> str | None:
    if not isinstance(manifest, dict):
        return "manifest.json is not a JSON object"
    if manifest.get("format") != FORMAT:
        return "manifest.json does not describe a workbench case bundle"
    if manifest.get("format_version") not in READABLE_VERSIONS or isinstance(
        manifest.get("format_version"), bool
    ):
        return (
            f"the bundle has format version {manifest.get('format_version')!r}; this "
            f"workbench reads versions {', '.join(map(str, READABLE_VERSIONS))}"
        )
    members = manifest.get("members")
    if not isinstance(members, list) or not members:
        return "manifest.json lists no members"
    for member in members:
        if not (
            isinstance(member, dict)
            and isinstance(member.get("path"), str)
            and isinstance(member.get("sha256"), str)
            and _SHA256.match(member["sha256"])
            and isinstance(member.get("size"), int)
            and 0 <= member["size"] <= MAX_MEMBER_BYTES
        ):
            return f"manifest.json has a malformed member entry: {str(member)[:120]}"
    if not isinstance(manifest.get("bundle_hash"), str):
        return "manifest.json has no bundle hash"
    return None


def verify_bundle(path: str | os.PathLike, *, expected_hash: str | None = None) -> BundleReport:
    """Check a bundle member by member against its manifest and the manifest against its
    bundle hash (and against `expected_hash`, when the sender gave one).

    A damaged zip is a finding, never a crash: zipfile raises many kinds of error on
    damaged headers (ValueError, NotImplementedError, EOFError, UnicodeDecodeError, ...)."""
    try:
        return _verify_bundle(path, expected_hash=expected_hash)
    except (
        ValueError,
        NotImplementedError,
        EOFError,
        UnicodeDecodeError,
        zlib.error,
        zipfile.BadZipFile,
        OSError,
        RecursionError,
    ) as exc:
        report = BundleReport(path=str(path))
        report.problems.append(
            f"{path} is damaged: its zip structure cannot be read ({type(exc).__name__}: {exc})"
        )
        return report


def _verify_bundle(path: str | os.PathLike, *, expected_hash: str | None) -> BundleReport:
    report = BundleReport(path=str(path))
    try:
        archive = zipfile.ZipFile(path)
    except FileNotFoundError:
        report.problems.append(f"{path} does not exist")
        return report
    except (zipfile.BadZipFile, OSError) as exc:
        report.problems.append(f"{path} is not a bundle (not a readable zip file: {exc})")
        return report
    with archive:
        infos = archive.infolist()
        report.members = len(infos)
        if len(infos) > MAX_MEMBERS:
            report.problems.append(f"the bundle has {len(infos)} members, more than a bundle can")
            return report
        seen: dict[str, zipfile.ZipInfo] = {}
        for info in infos:
            reason = unsafe_member_reason(info)
            if reason is None and info.filename in seen:
                reason = "appears twice"
            if reason is not None:
                report.unsafe.append(info.filename)
                report.problems.append(f"unsafe member {info.filename!r}: it {reason}")
            seen.setdefault(info.filename, info)
        if report.unsafe:
            return report  # nothing is read from a bundle that tries to escape
        if MANIFEST not in seen:
            report.missing.append(MANIFEST)
            report.problems.append("manifest.json is missing: this is not a sealed bundle")
            return report
        try:
            manifest = json.loads(_read_member(archive, seen[MANIFEST], MAX_MANIFEST_BYTES))
        except (ValueError, RecursionError, zipfile.BadZipFile, zlib.error, BundleRefused) as exc:
            report.changed.append(MANIFEST)
            report.problems.append(f"manifest.json cannot be read ({exc})")
            return report
        problem = _manifest_problem(manifest)
        if problem:
            report.problems.append(problem)
            return report
        report.case = manifest.get("case")
        actual = bundle_hash_of(manifest)
        report.bundle_hash = actual
        if manifest["bundle_hash"] != actual:
            report.changed.append(MANIFEST)
            report.problems.append(
                "manifest.json was changed: its contents no longer match its bundle hash"
            )
        comment = _COMMENT.search(archive.comment or b"")
        if comment and comment.group(1).decode() != manifest["bundle_hash"]:
            report.problems.append(
                "the bundle hash in the zip comment differs from the one in manifest.json"
            )
        if expected_hash and expected_hash.strip().lower() != actual:
            report.problems.append(
                f"the bundle hash is {actual}, not the expected {expected_hash.strip()}"
            )
        listed: set[str] = set()
        crcs: dict[str, int] = {}
        for member in manifest["members"]:
            name = member["path"]
            if name in listed or name == MANIFEST:
                report.problems.append(f"manifest.json lists {name} twice or lists itself")
                continue
            listed.add(name)
            info = seen.get(name)
            if info is None:
                report.missing.append(name)
                report.problems.append(f"{name} is missing from the bundle")
                continue
            try:
                digest, size, crcs[name] = _hash_member(archive, info, member["size"])
            except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
                report.changed.append(name)
                report.problems.append(f"{name} is damaged ({exc})")
                continue
            if digest != member["sha256"] or size != member["size"]:
                report.changed.append(name)
                report.problems.append(
                    f"{name} was changed: its SHA-256 or size differs from the manifest's"
                )
            elif name.startswith("evidence/") and name != f"evidence/{digest}":
                report.changed.append(name)
                report.problems.append(f"{name} holds content whose SHA-256 is {digest}")
        for name in seen:
            if name not in listed and name != MANIFEST:
                report.extra.append(name)
                report.problems.append(f"{name} is in the bundle but not in its manifest")
        if CASE_JSON not in listed:
            report.problems.append("the manifest lists no case.json")
        report.format_version = manifest["format_version"]
        if report.problems:
            return report  # the members' own findings say more than the container's
        if report.format_version == 1:
            report.notes.append(
                "format 1 bundle (written before workbench sealed the whole file): every "
                "member matches the manifest, but the zip container around them is not sealed"
            )
            return report
        sizes = {member["path"]: member["size"] for member in manifest["members"]}
        entries = [
            _Entry(
                name,
                sizes[name],
                crcs[name],
                lambda n=name: _member_chunks(archive, seen[n], sizes[n]),
            )
            for name in sorted(sizes)
        ]
        manifest_bytes = _manifest_bytes(manifest)
        entries.append(
            _Entry(
                MANIFEST, len(manifest_bytes), zlib.crc32(manifest_bytes), lambda: [manifest_bytes]
            )
        )
        parts = _container_parts(entries, manifest.get("created_at"), manifest["bundle_hash"])
        with _reopen(path) as handle:
            try:
                difference = _container_difference(handle, parts)
            except BundleRefused as exc:
                difference = str(exc)
        if difference:
            report.problems.append(difference)
        else:
            report.container_sealed = True
    return report


@contextlib.contextmanager
def _reopen(path):
    """A second reader of the bundle file (or the caller's own file object)."""
    if hasattr(path, "read"):
        yield path
    else:
        with open(path, "rb") as handle:
            yield handle


def refuse_unless_sound(path: str | os.PathLike) -> BundleReport:
    report = verify_bundle(path)
    if not report.ok:
        shown = "; ".join(report.problems[:5])
        more = f" (and {len(report.problems) - 5} more)" if len(report.problems) > 5 else ""
        raise BundleRefused(f"bundle {path} refused: {shown}{more}")
    return report


# -- merging ----------------------------------------------------------------------------


def _read_case_document(path: str | os.PathLike, report: BundleReport):
    archive = zipfile.ZipFile(path)
    manifest = json.loads(_read_member(archive, archive.getinfo(MANIFEST), MAX_MANIFEST_BYTES))
    sizes = {m["path"]: m for m in manifest["members"]}
    raw = _read_member(archive, archive.getinfo(CASE_JSON), sizes[CASE_JSON]["size"])
    # Checked again as read: the file may have changed since it was verified.
    if hashlib.sha256(raw).hexdigest() != sizes[CASE_JSON]["sha256"]:
        raise BundleRefused(f"case.json in {path} changed after it was verified")
    try:
        document = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise BundleRefused(f"case.json in {path} is not JSON ({type(exc).__name__})") from None
    _check_document(document, sizes)
    return archive, document, sizes


def _check_document(document: Any, members: dict[str, Any]) -> None:
    if not isinstance(document, dict) or document.get("schema") != SCHEMA:
        raise BundleRefused("case.json is not a workbench case export")
    if document.get("schema_version") != SCHEMA_VERSION:
        raise BundleRefused(
            f"case.json has schema version {document.get('schema_version')!r}; this "
            f"workbench reads version {SCHEMA_VERSION}"
        )
    for key in ("case", "entities", "links", "events", "evidence"):
        if key not in document:
            raise BundleRefused(f"case.json has no {key}")
    entity_ids = {entity["id"] for entity in document["entities"]}
    evidence_ids = {item["id"] for item in document["evidence"]}
    for item in document["evidence"]:
        if f"evidence/{item['sha256']}" not in members:
            raise BundleRefused(
                f"case.json names evidence {item['sha256']} that the bundle does not hold"
            )
    for link in document["links"]:
        if link["src_id"] not in entity_ids or link["dst_id"] not in entity_ids:
            raise BundleRefused(f"case.json has link {link['id']} to an entity it does not hold")
        if not set(link["evidence_ids"]) <= evidence_ids:
            raise BundleRefused(f"case.json has link {link['id']} citing missing evidence")
    for event in document["events"]:
        if not set(event["entity_ids"]) <= entity_ids:
            raise BundleRefused(f"case.json has event {event['id']} about a missing entity")


def _target_case(db: Database, document: dict[str, Any]) -> tuple[int, bool]:
    """The case a bundle merges into: its own case when it comes back to the store it was
    exported from, the case an earlier import of it made, or a new case."""
    origin = document.get("origin") or {}
    source = document["case"]
    if origin.get("store") and origin.get("store") == store_identity(db):
        with contextlib.suppress(WorkbenchError):
            return get_case(db, int(origin["case_id"])).id, False
    if origin.get("store"):
        row = db.execute(
            "SELECT subject_id FROM audit WHERE action = 'bundle.import' "
            "AND json_extract(payload, '$.origin.store') = ? "
            "AND json_extract(payload, '$.origin.case_id') = ? ORDER BY id LIMIT 1",
            [origin["store"], origin.get("case_id")],
        ).fetchone()
        if row is not None:
            with contextlib.suppress(WorkbenchError):
                return get_case(db, row[0]).id, False
    case = create_case(
        db,
        source["title"],
        investigator=source.get("investigator"),
        summary=source.get("summary"),
    )
    if source.get("status") and source["status"] != case.status:
        update_case(db, case.id, status=source["status"])
    return case.id, True


def _import_entity(db: Database, record: dict[str, Any], case_id: int) -> tuple[int, list[str]]:
    """The store's entity for a bundle entity (created if new), and the attributes whose
    value differs in the store (the store's value is kept: an import never overwrites)."""
    try:
        kind = EntityKind(record["kind"])
    except ValueError:
        raise BundleRefused(f"case.json has an entity of unknown kind {record['kind']!r}") from None
    attrs = dict(record.get("attrs") or {})
    candidates = [record["value"]]
    issuer = attrs.get("issuer")
    if kind is EntityKind.LICENCE and issuer and record["value"].endswith(f" ({issuer})"):
        candidates.append(record["value"][: -len(f" ({issuer})")])
    for value in candidates:
        try:
            key = identify(kind, value, attrs).key
        except InvalidInput:
            continue
        if key != record["key"]:
            continue
        existing = find_entity(db, kind, value, attrs)
        conflicts = []
        if existing is not None:
            conflicts = [
                name
                for name, v in attrs.items()
                if name in existing.attrs and existing.attrs[name] != v
            ]
            attrs = {**attrs, **existing.attrs}
        entity = ensure_entity(db, kind, value, attrs, case_id=case_id)
        return entity.id, conflicts
    raise BundleRefused(
        f"entity {record['kind']} {record['value']!r} in case.json does not give its key "
        f"{record['key']!r} in this version of the workbench"
    )


def _import_evidence(
    db: Database, archive: zipfile.ZipFile, record: dict[str, Any], sizes: dict, case_id: int
) -> int:
    name = f"evidence/{record['sha256']}"
    content = _read_member(archive, archive.getinfo(name), sizes[name]["size"])
    if hashlib.sha256(content).hexdigest() != record["sha256"]:
        raise BundleRefused(f"{name} does not match its SHA-256")
    # What full-text search reads of a binary DNS message is its rendering, as when the
    # lookup was first recorded.
    text = None
    if record.get("media_type") == "application/dns-message":
        text = render_dns_capture(content)
    item = add_evidence(
        db,
        record["kind"],
        content,
        captured_at=from_iso(record["captured_at"]),
        source=record.get("source"),
        query=record.get("query"),
        media_type=record.get("media_type") or "application/octet-stream",
        filename=record.get("filename"),
        # This store did not observe the capture: its time is the bundle's claim.
        imported=True,
        note=record.get("note"),
        text=text,
        case_id=case_id,
    )
    if item.captured_at != record["captured_at"]:
        raise BundleRefused(
            f"evidence {record['sha256'][:16]}... capture time {record['captured_at']!r} "
            "does not round-trip"
        )
    return item.id


def _event_exists(db: Database, case_id: int, event: dict[str, Any]) -> bool:
    row = db.execute(
        "SELECT 1 FROM events WHERE case_id = ? AND at = ? AND kind = ? AND text = ? "
        "AND ifnull(deadline, '') = ifnull(?, '') AND ifnull(outcome, '') = ifnull(?, '')",
        [
            case_id,
            event["at"],
            event["kind"],
            event["text"],
            event.get("deadline"),
            event.get("outcome"),
        ],
    ).fetchone()
    return row is not None


def _snapshot_exists(
    db: Database, entity_id: int, snapshot: dict[str, Any], evidence_ids: list[int]
) -> bool:
    """A snapshot of the same lookup (entity, protocol, time, status, evidence) is stored."""
    rows = db.execute(
        "SELECT id FROM snapshots WHERE entity_id = ? AND protocol = ? AND taken_at = ? "
        "AND status = ?",
        [entity_id, snapshot["protocol"], snapshot["taken_at"], snapshot["status"]],
    ).fetchall()
    for (snapshot_id,) in rows:
        stored = {
            r[0]
            for r in db.execute(
                "SELECT evidence_id FROM snapshot_evidence WHERE snapshot_id = ?", [snapshot_id]
            )
        }
        if stored == set(evidence_ids):
            return True
    return False


def _audit_end(db: Database) -> int:
    return db.execute("SELECT ifnull(max(id), 0) FROM audit").fetchone()[0]


def import_bundle(db: Database, path: str | os.PathLike) -> dict[str, Any]:
    """Merge a verified bundle into the store, in one transaction; returns what it added.

    Refuses (storing nothing) a bundle that does not verify or does not fit this store.
    """
    report = refuse_unless_sound(path)
    archive, document, sizes = _read_case_document(path, report)
    with archive, writing(db):
        before = _audit_end(db)
        counts_before = _counts(db)
        case_id, created = _target_case(db, document)
        entity_map: dict[int, int] = {}
        conflicts: list[str] = []
        for record in document["entities"]:
            entity_map[record["id"]], clashes = _import_entity(db, record, case_id)
            conflicts.extend(f"{record['kind']} {record['value']}: {name}" for name in clashes)
        evidence_map = {
            record["id"]: _import_evidence(db, archive, record, sizes, case_id)
            for record in document["evidence"]
        }
        for link in document["links"]:
            try:
                link_type = LinkType(link["type"])
            except ValueError:
                raise BundleRefused(
                    f"case.json has a link of unknown type {link['type']!r}"
                ) from None
            ensure_link(
                db,
                entity_map[link["src_id"]],
                link_type,
                entity_map[link["dst_id"]],
                case_id=case_id,
                evidence_ids=[evidence_map[eid] for eid in link["evidence_ids"]],
                confidence=float(link.get("confidence", 1.0)),
                label=link.get("label") or "",
            )
        for event in document["events"]:
            if _event_exists(db, case_id, event):
                continue
            add_event(
                db,
                case_id,
                event["kind"],
                event["text"],
                at=from_iso(event["at"]),
                deadline=from_iso(event["deadline"]) if event.get("deadline") else None,
                outcome=event.get("outcome"),
                entity_ids=[entity_map[eid] for eid in event["entity_ids"]],
            )
        for snapshot in document.get("snapshots") or []:
            entity_id = entity_map.get(snapshot["entity_id"])
            evidence_ids = [evidence_map[e] for e in snapshot["evidence_ids"] if e in evidence_map]
            if entity_id is None or _snapshot_exists(db, entity_id, snapshot, evidence_ids):
                continue
            add_snapshot(
                db,
                entity_id,
                snapshot["protocol"],
                snapshot["status"],
                reason=snapshot.get("reason"),
                summary=snapshot.get("summary") or {},
                evidence_ids=evidence_ids,
                taken_at=from_iso(snapshot["taken_at"]),
                imported=True,
                case_id=case_id,
            )
        changed = _audit_end(db) != before
        if changed:
            audit.record(
                db,
                "bundle.import",
                "case",
                case_id,
                {"bundle_hash": report.bundle_hash, "origin": document.get("origin")},
            )
        counts_after = _counts(db)
    return {
        "case_id": case_id,
        "created_case": created,
        "changed": changed,
        "bundle_hash": report.bundle_hash,
        "added": {k: counts_after[k] - counts_before[k] for k in counts_after},
        "kept_store_values": conflicts,
    }


def _counts(db: Database) -> dict[str, int]:
    return {
        table: db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608
        for table in ("entities", "links", "events", "evidence", "snapshots")
    }


# -- reviewing --------------------------------------------------------------------------


def prepare_review_store(path: str | os.PathLike) -> Path:
    """Import a verified bundle into a new store in a private temporary folder, and make
    the file read-only; the folder is removed when the program exits."""
    folder = Path(tempfile.mkdtemp(prefix="workbench-review-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    store = folder / "review.sqlite"
    db = open_store(store)
    try:
        import_bundle(db, path)
        # A single file with no -wal or -shm beside it opens read-only anywhere.
        db.execute("PRAGMA journal_mode = DELETE")
    finally:
        db.close()
    store.chmod(0o444)
    return store


def open_bundle_read_only(path: str | os.PathLike) -> Database:
    """A read-only store holding the bundle's case, for review with no network: the
    bundle is verified, imported into a temporary store, and that store reopened
    read-only."""
    return open_store(prepare_review_store(path), read_only=True)


def review_case_id(db: Database) -> int:
    row = db.execute("SELECT min(id) FROM cases").fetchone()
    if row is None or row[0] is None:
        raise BundleRefused("the review store holds no case")
    return row[0]
