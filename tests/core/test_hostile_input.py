"""Hostile input (issue 7, part 1): the catalogue of values and files an investigator can
give by mistake or be handed by someone else, beyond test_bad_input's first list.

Each refused case gets exactly one line on stderr naming what was wrong, nothing on
stdout, exit code 2, and leaves the store byte-for-byte as it was. Names that are valid
but misleading (mixed scripts, lookalike letters, invisible characters, a URL with a
user name that reads like a host) are accepted and flagged: a warning line on stderr and
a `warnings` list in the JSON.

The catalogue runs through `workbench.cli.main` in one separate interpreter (each case
pays no interpreter start-up, so a hundred cases take seconds); a sample also runs through
the real `workbench` command to show the two agree.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, REPO, cli_env, dump_tables, file_state
from workbench.services import casework
from workbench.store.database import open_store

LONG_NAME = "a" * 296 + ".com"  # 300 characters
LONG_LABEL = "a" * 64 + ".com"
CAPTURED = ("--captured-at", "2009-11-02")
NOT_UTF8 = b"Caf\xe9 M\xfcller".decode("utf-8", "surrogateescape")  # Latin-1 bytes in argv


def domain(value: str) -> tuple[str, ...]:
    # `--` so that the value reaches the command even when it starts with '-'
    return ("entity", "add", "--case", "1", "domain", "--", value)


def looked_up(*values: str) -> tuple[str, ...]:
    return ("lookup", "--offline", "--case", "1", "--", *values)


def imported_as(value: str) -> tuple[str, ...]:
    # `--domain=` so that a value starting with '-' is the option's value
    return imported("whois", "{whois}", (f"--domain={value}",))


def url(value: str) -> tuple[str, ...]:
    return ("storefront", "add", "--case", "1", "--name", "Shop", f"--url={value}")


def price(value: str) -> tuple[str, ...]:
    return ("storefront", "add", "--case", "1", "--name", "Shop", f"--price={value}")


def at(value: str, option: str = "--at") -> tuple[str, ...]:
    return ("event", "add", "--case", "1", "note", "x", f"{option}={value}")


def phone(value: str, *attrs: str) -> tuple[str, ...]:
    return ("entity", "add", "--case", "1", "phone", *attrs, "--", value)


def imported(kind: str, path: str, subject: tuple[str, str] = ("--domain", "soundsbox.test")):
    return ("evidence", "import", "--case", "1", "--kind", kind, *subject, *CAPTURED, path)


# (category, what, command, words the one stderr line must hold). Paths in {braces} are
# the hostile files made by the `files` fixture.
REFUSED: list[tuple[str, str, tuple[str, ...], tuple[str, ...]]] = [
    # -- domains
    ("domain", "empty", domain(""), ("domain", "is empty")),
    ("domain", "blank", domain("   "), ("domain", "is empty")),
    ("domain", "300 characters", domain(LONG_NAME), ("domain", "too long")),
    ("domain", "a 64-character label", domain(LONG_LABEL), ("domain", "too long")),
    ("domain", "leading hyphen", domain("-hevil.com"), ("-hevil.com", "starts with '-'")),
    ("domain", "an option lookalike", domain("--store=/etc/passwd"), ("starts with '-'",)),
    (
        "domain",
        "an option where the value goes",
        ("entity", "add", "--case", "1", "domain", "-hevil.com"),
        ("-h",),
    ),
    ("domain", "escape sequence", domain("evil\x1b[2J.com"), ("\\x1b", "control characters")),
    ("domain", "newline", domain("evil.com\nother.com"), ("\\n", "control characters")),
    ("domain", "tab", domain("evil\t.com"), ("control characters",)),
    ("domain", "DEL", domain("evil\x7f.com"), ("control characters",)),
    ("domain", "C1 control", domain("evil\x85.com"), ("control characters",)),
    ("domain", "right-to-left override", domain("\u202emoc.live"), ("domain", "IDNA")),
    ("domain", "two trailing dots", domain("evil.com.."), ("empty label",)),
    ("domain", "only the root", domain("."), ("only the root",)),
    ("domain", "leading dot", domain(".evil.com"), ("domain", "Empty Label")),
    ("domain", "inner empty label", domain("evil..com"), ("domain", "Empty Label")),
    ("domain", "percent-encoded letter", domain("ev%69l.com"), ("percent-encoding",)),
    ("domain", "percent-encoded dot", domain("evil%2ecom"), ("percent-encoding",)),
    ("domain", "IPv4 address", domain("192.0.2.1"), ("IP address",)),
    ("domain", "IPv6 address", domain("2001:db8::1"), ("IP address",)),
    ("domain", "bracketed IPv6", domain("[2001:db8::1]"), ("IP address",)),
    ("domain", "IPv4 shorthand", domain("127.1"), ("127.1", "IP address")),
    ("domain", "hex IPv4", domain("0x7f.1"), ("IP address",)),
    ("domain", "IPv4 as one number", domain("2130706433"), ("IP address",)),
    ("domain", "URL to an address", domain("https://192.0.2.1/shop"), ("IP address",)),
    ("domain", "URL without host", domain("http://"), ("without a host",)),
    ("domain", "broken URL", domain("http://[::1/"), ("not a valid URL",)),
    ("domain", "public suffix", domain("com"), ("public suffix",)),
    ("domain", "multi-label suffix", domain("co.uk"), ("public suffix",)),
    ("domain", "hyphen at label end", domain("evil-.com"), ("hyphen",)),
    ("domain", "hyphens in 3rd and 4th place", domain("ev--il.com"), ("hyphens",)),
    ("domain", "bad punycode", domain("xn--.com"), ("A-label",)),
    ("domain", "underscore", domain("ev_il.com"), ("U+005F",)),
    ("domain", "space", domain("ev il.com"), ("U+0020",)),
    ("domain", "emoji", domain("\U0001f4a9.com"), ("not allowed",)),
    ("domain", "with a port", domain("evil.com:80"), ("U+003A",)),
    (
        "domain",
        "a lookup of a bad name",
        ("lookup", "--offline", "--case", "1", "--", "-hevil.com"),
        ("domain list", "starts with '-'"),
    ),
    (
        "domain",
        # A real address (192.0.2.1, http://192.0.2.1/shop/) is looked up as an address
        # (test_storefront_addresses.py); one spelled as a name that ends in a number is not.
        "a lookup of an address spelled as a name",
        ("lookup", "--offline", "--case", "1", "http://127.1/shop/"),
        ("domain list", "IP address"),
    ),
    (
        "domain",
        "a lookup list holding binary",
        ("lookup", "--offline", "--from-file", "{png_txt}"),
        ("--from-file", "cannot be read as text"),
    ),
    (
        "domain",
        "an import for a bad name",
        imported("whois", "{whois}", ("--domain", "ev%69l.com")),
        ("--domain", "percent-encoding"),
    ),
    # -- URLs
    ("url", "javascript:", url("javascript:alert(1)"), ("url", "http or https")),
    ("url", "data:", url("data:text/html,<script>alert(1)</script>"), ("http or https",)),
    ("url", "file:", url("file:///etc/passwd"), ("http or https",)),
    ("url", "mailto:", url("mailto:x@evil.com"), ("http or https",)),
    ("url", "no host", url("http://"), ("has no host",)),
    ("url", "scheme-relative", url("//evil.com"), ("has no host",)),
    ("url", "port out of range", url("http://evil.com:99999/"), ("port",)),
    ("url", "space in the path", url("http://evil.com/a b"), ("contains spaces",)),
    ("url", "broken IPv6 host", url("http://[::1"), ("not a valid URL",)),
    ("url", "percent-encoded host", url("http://ev%69l.com/"), ("percent-encoding",)),
    ("url", "host starting with '-'", url("http://-evil.com/"), ("starts with '-'",)),
    ("url", "escape sequence", url("http://evil.com/\x1b[2J"), ("control characters",)),
    ("url", "IPv4 shorthand host", url("http://127.1/"), ("IP address",)),
    (
        "url",
        "entity of kind url",
        ("entity", "add", "--case", "1", "url", "javascript:x"),
        ("url", "http or https"),
    ),
    # -- prices
    ("price", "two parts", price("0.14:USD"), ("--price", "AMOUNT:CURRENCY:UNIT")),
    ("price", "four parts", price("0.14:USD:track:x"), ("AMOUNT:CURRENCY:UNIT",)),
    ("price", "empty", price(""), ("--price", "AMOUNT:CURRENCY:UNIT")),
    ("price", "NaN", price("NaN:USD:track"), ("finite",)),
    ("price", "signalling NaN", price("sNaN:USD:track"), ("finite",)),
    ("price", "infinity", price("Infinity:USD:track"), ("finite",)),
    ("price", "negative", price("-1:USD:track"), ("0 or more",)),
    ("price", "huge exponent", price("1e999999999:USD:track"), ("out of range",)),
    ("price", "below a millionth", price("0.0000001:USD:track"), ("out of range",)),
    ("price", "decimal comma", price("1,50:EUR:track"), ("is not a number",)),
    ("price", "hexadecimal", price("0x10:USD:track"), ("is not a number",)),
    ("price", "currency symbol", price("0.14:US$:track"), ("ISO 4217",)),
    ("price", "empty unit", price("0.14:USD:"), ("unit",)),
    ("price", "markup as unit", price("0.14:USD:<script>"), ("unit", "<script>")),
    # -- numbers
    (
        "number",
        "a catalogue of 10^23 tracks",
        (
            "storefront",
            "add",
            "--case",
            "1",
            "--name",
            "Shop",
            "--catalogue-size",
            "99999999999999999999999",
        ),
        ("catalogue_size", "larger than"),
    ),
    (
        "number",
        "a negative catalogue",
        ("storefront", "add", "--case", "1", "--name", "Shop", "--catalogue-size=-5"),
        ("catalogue_size", "negative"),
    ),
    (
        "number",
        "a count with letters",
        ("entity", "add", "--case", "1", "storefront", "Shop", "--attr", "catalogue_size=12k"),
        ("catalogue_size", "whole number"),
    ),
    # -- dates
    ("date", "empty --at", at(""), ("--at", "is empty")),
    ("date", "empty --deadline", at("", "--deadline"), ("--deadline", "is empty")),
    ("date", "29 February of a common year", at("2009-02-29"), ("ISO 8601",)),
    ("date", "before 1970", at("1969-12-31"), ("1970-2200",)),
    ("date", "after 2200", at("2201-01-01"), ("1970-2200",)),
    ("date", "year 1 east of UTC", at("0001-01-01T00:00:00+14:00"), ("1970-2200",)),
    ("date", "hour 25", at("2009-11-02T25:00"), ("ISO 8601",)),
    ("date", "offset +25:00", at("2009-11-02T10:00+25:00"), ("ISO 8601",)),
    ("date", "day/month/year", at("02/11/2009"), ("ISO 8601",)),
    ("date", "Unix time", at("1257120000"), ("ISO 8601",)),
    ("date", "full-width digits", at("２００９-１１-０２"), ("ISO 8601",)),
    ("date", "ordinal date", at("2009-306"), ("ISO 8601",)),
    ("date", "a word", at("yesterday"), ("ISO 8601",)),
    (
        "date",
        "deadline before the event",
        (
            "event",
            "add",
            "--case",
            "1",
            "note",
            "x",
            "--at",
            "2009-11-02",
            "--deadline",
            "2009-11-01",
        ),
        ("deadline", "before the event"),
    ),
    (
        "date",
        "empty capture time",
        ("evidence", "add", "--case", "1", "--kind", "note", "--text", "x", "--captured-at="),
        ("--captured-at", "is empty"),
    ),
    (
        "date",
        "import without a capture time",
        (
            "evidence",
            "import",
            "--case",
            "1",
            "--kind",
            "whois",
            "--domain",
            "soundsbox.test",
            "--captured-at",
            "soon",
            "{whois}",
        ),
        ("--captured-at", "ISO 8601"),
    ),
    # -- domains and URLs given to `lookup` (the same parser, another command) and to
    # `evidence import --domain`
    ("domain", "a lookup of nothing", looked_up(""), ("domain list", "holds no domain")),
    ("domain", "a lookup of 300 characters", looked_up(LONG_NAME), ("domain list", "too long")),
    ("domain", "a lookup of a 64-character label", looked_up(LONG_LABEL), ("too long",)),
    ("domain", "a lookup with a bell", looked_up("ev\x07il.com"), ("control characters",)),
    ("domain", "a lookup with an escape", looked_up("evil\x1b[2J.com"), ("control characters",)),
    ("domain", "a lookup, percent-encoded", looked_up("ev%69l.com"), ("percent-encoding",)),
    ("domain", "a lookup, inner empty label", looked_up("evil..com"), ("Empty Label",)),
    ("domain", "a lookup, leading dot", looked_up(".evil.com"), ("Empty Label",)),
    ("domain", "a lookup, right-to-left override", looked_up("\u202emoc.live"), ("IDNA",)),
    ("domain", "a lookup of a hex address", looked_up("0x7f.1"), ("IP address",)),
    ("domain", "a lookup of an address as one number", looked_up("2130706433"), ("IP address",)),
    ("domain", "a lookup of a public suffix", looked_up("co.uk"), ("public suffix",)),
    ("domain", "a lookup with a port", looked_up("evil.com:8080"), ("domain list", "IDNA")),
    (
        "domain",
        "a lookup list with one bad line among good ones",
        looked_up("soundsbox.test", "ev il.com", "allofmp3.test"),
        ("line 2", "'ev il.com'"),
    ),
    ("domain", "an import as nothing", imported_as(""), ("--domain", "required")),
    ("domain", "an import as an address", imported_as("192.0.2.1"), ("IP address",)),
    ("domain", "an import as an option", imported_as("-hevil.com"), ("starts with '-'",)),
    ("domain", "an import as a public suffix", imported_as("co.uk"), ("public suffix",)),
    ("url", "a lookup of javascript:", looked_up("javascript:alert(1)"), ("domain list",)),
    ("url", "a lookup of an ftp URL", looked_up("ftp://evil.test/"), ("http or https",)),
    ("url", "a lookup of a broken IPv6 URL", looked_up("http://[::1"), ("not a valid URL",)),
    ("url", "a lookup with a port past 65535", looked_up("http://evil.com:99999/"), ("port",)),
    (
        "url",
        "an entity URL with a bad port",
        ("entity", "add", "--case", "1", "url", "http://evil.com:99999/"),
        ("port",),
    ),
    # -- phone numbers
    ("phone", "empty", phone(""), ("phone", "is empty")),
    ("phone", "too short, no country", phone("12345"), ("phone", "12345")),
    ("phone", "unknown country code", phone("+999 1234567"), ("phone", "not a phone number")),
    ("phone", "letters", phone("+1 800 FLOWERS"), ("letters",)),
    ("phone", "too long", phone("+44 20 7946 0000 0000 0000"), ("too long",)),
    ("phone", "5000 digits", phone("+1" + "2" * 5000), ("phone", "...")),
    ("phone", "empty tel: URI", phone("tel:"), ("not a phone number",)),
    ("phone", "national number, no country", phone("26480123"), ("phone", "26480123")),
    (
        "phone",
        "unknown country attribute",
        phone("26480123", "--attr", "country=XX"),
        ("phone", "26480123"),
    ),
    ("phone", "bell character", phone("+352 2648\x070123"), ("control characters",)),
    # -- text that is not Unicode: a command-line argument in another encoding reaches
    # Python as lone surrogates (PEP 383), which no UTF-8 column can hold
    (
        "text",
        "a Latin-1 person name",
        ("entity", "add", "--case", "1", "person", NOT_UTF8),
        ("person", "invalid Unicode"),
    ),
    ("text", "a Latin-1 case title", ("case", "new", NOT_UTF8), ("title", "invalid Unicode")),
    (
        "text",
        "a Latin-1 event text",
        ("event", "add", "--case", "1", "note", NOT_UTF8),
        ("text", "invalid Unicode"),
    ),
    (
        "text",
        "a Latin-1 evidence source",
        ("evidence", "add", "--case", "1", "--kind", "note", "--text", "x", "--source", NOT_UTF8),
        ("source", "invalid Unicode"),
    ),
    (
        "text",
        "a Latin-1 evidence note",
        ("evidence", "add", "--case", "1", "--kind", "note", "--text", "x", "--note", NOT_UTF8),
        ("note", "invalid Unicode"),
    ),
    ("text", "a Latin-1 search", ("search", NOT_UTF8), ("search query", "invalid Unicode")),
    (
        "text",
        "a Latin-1 import source",
        (
            "evidence",
            "import",
            "--case",
            "1",
            "--kind",
            "whois",
            "--domain",
            "chansons-exemple.lu",  # what the WHOIS file is about
            *CAPTURED,
            "--source",
            NOT_UTF8,
            "{whois}",
        ),
        ("source", "invalid Unicode"),
    ),
    (
        "text",
        "a Latin-1 domain to look up",
        ("lookup", "--offline", NOT_UTF8 + ".com"),
        ("invalid Unicode",),
    ),
    # -- files that are not what they claim
    (
        "file",
        "a PNG named .txt as WHOIS",
        imported("whois", "{png_txt}"),
        ("pic.txt", "not a whois response", "binary"),
    ),
    ("file", "an empty file as WHOIS", imported("whois", "{empty}"), ("empty.txt", "is empty")),
    ("file", "a directory as WHOIS", imported("whois", "{folder}"), ("folder", "directory")),
    (
        "file",
        "binary as RDAP",
        imported("rdap", "{binary_json}"),
        ("binary.json", "not a rdap response", "UTF-8"),
    ),
    (
        "file",
        "100k-level JSON as RDAP",
        imported("rdap", "{deep_json}"),
        ("deep.json", "nested deeper"),
    ),
    (
        "file",
        "50 MB JSON as RDAP",
        imported("rdap", "{huge_json}"),
        ("huge.json", "larger than 16 MiB"),
    ),
    (
        "file",
        "RDAP JSON as WHOIS",
        imported("whois", "{rdap}"),
        ("not a whois response", "no registration data"),
    ),
    ("file", "WHOIS text as RDAP", imported("rdap", "{whois}"), ("not valid JSON",)),
    (
        "file",
        "an address document as a domain's RDAP",
        imported("rdap", "{rdap_ip}"),
        ("ip network", "not 'domain'"),
    ),
    (
        "file",
        "a domain document as an address's RDAP",
        imported("rdap_ip", "{rdap}", ("--ip", "192.0.2.10")),
        ("'domain' object",),
    ),
    ("file", "a JSON array as RDAP", imported("rdap", "{json_array}"), ("not an object",)),
    ("file", "UTF-16 text as WHOIS", imported("whois", "{utf16}"), ("binary data",)),
    ("file", "a web page as WHOIS", imported("whois", "{html}"), ("no registration data",)),
    ("file", "a PNG as DNS", imported("dns", "{png_txt}"), ("neither a DNS message",)),
    ("file", "JSON as DNS", imported("dns", "{rdap}"), ("neither a DNS message",)),
    ("file", "a missing file", imported("whois", "{missing}"), ("absent.txt", "does not exist")),
    ("file", "/dev/null as RDAP", imported("rdap", "/dev/null"), ("null", "is empty")),
    ("file", "an unknown import kind", imported("smtp", "{whois}"), ("--kind", "smtp")),
    # Read up to the 16 MiB cap and one byte more, then refused: no endless read.
    ("file", "/dev/zero as WHOIS", imported("whois", "/dev/zero"), ("zero", "larger than 16 MiB")),
    (
        "file",
        "a directory as evidence",
        ("evidence", "add", "--case", "1", "--kind", "note", "{folder}"),
        ("folder", "directory"),
    ),
    (
        "file",
        "an empty file as evidence",
        ("evidence", "add", "--case", "1", "--kind", "note", "{empty}"),
        ("empty.txt", "is empty"),
    ),
    (
        "file",
        "a device as evidence",
        ("evidence", "add", "--case", "1", "--kind", "note", "/dev/zero"),
        ("/dev/zero", "not a regular file"),
    ),
    (
        "file",
        "empty standard input as evidence",
        ("evidence", "add", "--case", "1", "--kind", "note", "-"),
        ("standard input is empty",),
    ),
    (
        "file",
        "blank pasted text as evidence",
        ("evidence", "add", "--case", "1", "--kind", "note", "--text", "  "),
        ("--text", "is empty"),
    ),
]

# Valid but misleading: accepted, stored as given, and flagged.
FLAGGED: list[tuple[str, tuple[str, ...], tuple[str, ...]]] = [
    (
        "Cyrillic а in a Latin label",
        domain("pаypal.com"),
        ("xn--pypal-4ve.com", "Cyrillic and Latin", "reads like 'paypal'"),
    ),
    ("the same name given as A-labels", domain("xn--pypal-4ve.com"), ("Cyrillic and Latin",)),
    (
        "a label all in Cyrillic lookalikes",
        domain("аррӏе.com"),
        ("written in Cyrillic letters that all look Latin", "reads like 'apple'"),
    ),
    ("Greek omicron in a Latin label", domain("gοogle.com"), ("Greek and Latin",)),
    ("a zero-width space", domain("e\u200bvil.com"), ("invisible characters", "U+200B")),
    ("a soft hyphen", domain("ev\u00adil.com"), ("invisible characters", "U+00AD")),
    (
        "a lookalike mail domain",
        ("entity", "add", "--case", "1", "email", "ceo@pаypal.com"),
        ("Cyrillic and Latin",),
    ),
    (
        "a lookalike name server",
        ("entity", "add", "--case", "1", "nameserver", "ns1.pаypal.com"),
        ("Cyrillic and Latin",),
    ),
    (
        "a lookalike URL host",
        ("entity", "add", "--case", "1", "url", "https://pаypal.com/login"),
        ("Cyrillic and Latin",),
    ),
    (
        "a user name that reads like a host",
        ("entity", "add", "--case", "1", "url", "https://paypal.com@evil.test/login"),
        ("the site is 'evil.test'",),
    ),
    ("a lookalike storefront URL", url("https://pаypal.com/shop"), ("Cyrillic and Latin",)),
]

# Valid and ordinary, including the legitimate mixes UTS 39 allows: no warning.
NOT_FLAGGED = [
    ("Latin", domain("paypal.com")),
    ("German IDN", domain("straße.de")),
    ("Russian IDN under .рф", domain("москва.рф")),
    ("Japanese mixing Han, kana and Latin", domain("日本語テキストabc.jp")),
    ("trailing root dot", domain("soundsbox.test.")),
    ("full-width letters (IDNA maps them)", domain("ＳＯＵＮＤＳＢＯＸ．test")),
]


DRIVER = textwrap.dedent(
    """
    import io, json, sys
    from workbench.cli import main

    results = []
    for case in json.load(sys.stdin):
        out, err = io.BytesIO(), io.BytesIO()
        sys.stdout = io.TextIOWrapper(out, encoding="utf-8", write_through=True)
        sys.stderr = io.TextIOWrapper(err, encoding="utf-8", write_through=True)
        sys.stdin = io.TextIOWrapper(io.BytesIO(case["stdin"].encode()), encoding="utf-8")
        try:
            code = main(case["argv"])
        except SystemExit as exc:  # argparse's usage errors
            code = exc.code
        sys.stdout.flush(), sys.stderr.flush()
        results.append(
            {"code": code, "stdout": out.getvalue().decode(), "stderr": err.getvalue().decode()}
        )
    sys.__stdout__.write(json.dumps(results))
    """
)


def run_in_one_process(tmp_path: Path, store: Path, commands: list[tuple[str, ...]]) -> list[dict]:
    """Run each command through `workbench.cli.main` in one fresh interpreter, in order."""
    cases = [{"argv": ["--store", str(store), *command], "stdin": ""} for command in commands]
    completed = subprocess.run(
        [sys.executable, "-c", DRIVER],
        input=json.dumps(cases).encode(),
        capture_output=True,
        env=cli_env(tmp_path),
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr.decode()
    return json.loads(completed.stdout)


@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    """Files that are not what their names or the command claim."""
    folder = tmp_path / "hostile"
    folder.mkdir()
    png = (
        b"\x89PNG\r\n\x1a\n"
        + struct.pack(">I", 13)
        + b"IHDR"
        + struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
        + b"\x90wS\xde"
        + struct.pack(">I", 0)
        + b"IEND\xaeB`\x82"
    )
    made = {
        "png_txt": ("pic.txt", png),
        "empty": ("empty.txt", b""),
        "binary_json": ("binary.json", bytes(range(256)) * 64),
        "deep_json": ("deep.json", b"[" * 100_000 + b"]" * 100_000),
        "huge_json": (
            "huge.json",
            b'{"objectClassName": "domain", "x": "' + b"a" * 50_000_000 + b'"}',
        ),
        "json_array": ("array.json", b'[{"objectClassName": "domain"}]'),
        "utf16": ("utf16.whois", "Domain Name: SOUNDSBOX.TEST\nRegistrar: X\n".encode("utf-16")),
        "html": ("page.whois", b"<html><body><h1>Domain Name</h1></body></html>\n"),
    }
    paths = {}
    for key, (name, content) in made.items():
        (folder / name).write_bytes(content)
        paths[key] = str(folder / name)
    (folder / "folder").mkdir()
    paths["folder"] = str(folder / "folder")
    paths["missing"] = str(folder / "absent.txt")
    paths["whois"] = str(FIXTURES / "whois" / "lu_dnslu.txt")
    paths["rdap"] = str(FIXTURES / "rdap" / "domain-soundsbox.test-registry.json")
    paths["rdap_ip"] = str(FIXTURES / "rdap" / "ip-192.0.2.10.json")
    return paths


@pytest.fixture
def recorded_store(store_path: Path) -> Path:
    """A closed store holding case 1 with an entity and an evidence item."""
    db = open_store(store_path)
    case = casework.new_case(db, "Soundsbox")
    casework.add_entity(db, case.id, "person", "Pedro Kresker")
    casework.add_evidence_bytes(db, case.id, "whois", b"Registrant Name: Pedro Kresker\n")
    db.close()
    return store_path


def _fill(command: tuple[str, ...], files: dict[str, str]) -> tuple[str, ...]:
    return tuple(part.format(**files) if "{" in part else part for part in command)


def _problems(result: dict, needles: tuple[str, ...]) -> list[str]:
    line = result["stderr"]
    checks = [
        (f"exit {result['code']}, not 2", result["code"] != 2),
        ("not exactly one line on stderr", line.count("\n") != 1 or not line.endswith("\n")),
        ("a traceback", "Traceback" in line or "internal error" in line),
        ("printed on stdout", result["stdout"] != ""),
        *((f"does not say {needle!r}", needle not in line) for needle in needles),
    ]
    return [problem for problem, bad in checks if bad]


def test_every_hostile_value_and_file_is_refused_in_one_line_exit_2_store_unchanged(
    recorded_store, tmp_path, files
):
    before_bytes = file_state(recorded_store)
    before_rows = dump_tables(recorded_store)
    commands = [_fill(command, files) for _, _, command, _ in REFUSED]
    results = run_in_one_process(tmp_path, recorded_store, commands)
    failures = [
        f"{category} / {what}: {', '.join(problems)}\n  stderr: {result['stderr']!r}"
        for (category, what, _, needles), result in zip(REFUSED, results, strict=True)
        if (problems := _problems(result, needles))
    ]
    assert not failures, f"{len(failures)} of {len(REFUSED)} cases:\n" + "\n".join(failures)
    assert file_state(recorded_store) == before_bytes
    assert dump_tables(recorded_store) == before_rows


def test_the_real_command_refuses_the_same_way(recorded_store, run_cli, files):
    """A sample of the catalogue through `python -m workbench`, as a user runs it."""
    before = file_state(recorded_store)
    sample = [
        case
        for case in REFUSED
        if case[1]
        in (
            "300 characters",
            "an option where the value goes",
            "escape sequence",
            "a PNG named .txt as WHOIS",
            "100k-level JSON as RDAP",
            "negative",
            "a Latin-1 person name",
        )
    ]
    results = run_cli.many(*(_fill(command, files) for _, _, command, _ in sample))
    for (_, what, _, needles), result in zip(sample, results, strict=True):
        as_dict = {"code": result.code, "stdout": result.stdout, "stderr": result.stderr}
        assert not _problems(as_dict, needles), f"{what}: {result}"
    assert file_state(recorded_store) == before


def test_misleading_names_are_accepted_with_a_warning_on_stderr_and_in_the_json(
    recorded_store, tmp_path
):
    # --json goes first: after `--` it would be taken for the value.
    commands = [("--json", *command) for _, command, _ in FLAGGED]
    commands += [("--json", *command) for _, command in NOT_FLAGGED]
    results = run_in_one_process(tmp_path, recorded_store, commands)
    failures = []
    for (what, _, needles), result in zip(FLAGGED, results[: len(FLAGGED)], strict=True):
        lines = result["stderr"].splitlines()
        data = json.loads(result["stdout"]) if result["code"] == 0 else {}
        warnings = data.get("warnings", [])
        said = "\n".join(warnings)
        problems = [f"exit {result['code']}"] if result["code"] != 0 else []
        if not lines or not all(line.startswith("workbench: warning: ") for line in lines):
            problems.append("no warning line on stderr")
        if not warnings:
            problems.append("no warnings in the JSON")
        problems += [f"does not say {n!r}" for n in needles if n not in said or n not in lines[0]]
        if problems:
            failures.append(f"{what}: {', '.join(problems)}\n  stderr: {result['stderr']!r}")
    for (what, _), result in zip(NOT_FLAGGED, results[len(FLAGGED) :], strict=True):
        data = json.loads(result["stdout"]) if result["code"] == 0 else None
        if result["code"] != 0 or result["stderr"] or data["warnings"]:
            failures.append(f"{what}: exit {result['code']}, stderr {result['stderr']!r}")
    assert not failures, "\n".join(failures)


def test_a_lookalike_domain_is_stored_as_its_own_entity_not_merged_with_the_real_one(
    recorded_store, tmp_path
):
    commands = [domain("paypal.com"), domain("pаypal.com")]
    results = run_in_one_process(tmp_path, recorded_store, [("--json", *c) for c in commands])
    real, fake = (json.loads(result["stdout"]) for result in results)
    assert real["id"] != fake["id"]
    assert (real["key"], fake["key"]) == ("paypal.com", "xn--pypal-4ve.com")
    assert fake["value"] == "pаypal.com"  # shown as given; the warning says what it is


def test_a_warning_in_text_mode_is_one_line_on_stderr_and_stdout_is_unchanged(
    recorded_store, run_cli
):
    result = run_cli(*domain("pаypal.com"))
    assert result.code == 0, result
    assert result.stdout.startswith("entity ") and "warning" not in result.stdout
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("workbench: warning: 'pаypal.com' (xn--pypal-4ve.com)")


def test_the_catalogue_counts_for_the_reliability_notes():
    """docs/reliability.md quotes these numbers; this fails when they drift apart."""
    doc = (REPO / "docs" / "reliability.md").read_text(encoding="utf-8")
    counts = {}
    for category, *_ in REFUSED:
        counts[category] = counts.get(category, 0) + 1
    assert f"{len(REFUSED)} refused" in doc, counts
    assert f"{len(FLAGGED)} flagged" in doc
    assert f"{len(NOT_FLAGGED)} ordinary" in doc
    if os.environ.get("WORKBENCH_PRINT_COUNTS"):
        print(counts)


def test_an_rdap_document_with_broken_unicode_imports_without_the_broken_values(
    recorded_store, run_cli, tmp_path
):
    # "\udc00" is valid JSON and a lone surrogate once decoded: such a name cannot become
    # an entity (no UTF-8 column holds it), but the document is still evidence.
    document = tmp_path / "surrogate.json"
    document.write_text(
        '{"objectClassName": "domain", "ldhName": "soundsbox.test", "entities": [{'
        '"objectClassName": "entity", "roles": ["registrant"], "vcardArray": ["vcard", ['
        '["version", {}, "text", "4.0"], ["fn", {}, "text", "Pablo \\udc00Rivera"], '
        '["org", {}, "text", "Soundsbox S.A."]]]}]}',
        encoding="ascii",
    )
    result = run_cli(*imported("rdap", str(document)), json=True)
    assert result.code == 0 and not result.stderr, result
    shown = run_cli("case", "show", "1", json=True)
    values = {entity["value"] for entity in shown.data["entities"]}
    assert "Soundsbox S.A." in values and not any("Rivera" in v for v in values)
    assert run_cli("verify").code == 0


def test_pasted_text_that_is_not_utf8_is_kept_as_the_exact_bytes_given(recorded_store, run_cli):
    result = run_cli("evidence", "add", "--case", "1", "--kind", "note", "--text", NOT_UTF8,
                     json=True)  # fmt: skip
    assert result.code == 0, result
    shown = run_cli("evidence", "show", str(result.data["id"]), "--content", json=True)
    assert shown.data["sha256"] == hashlib.sha256(b"Caf\xe9 M\xfcller").hexdigest()


@pytest.mark.parametrize(
    ("name", "flagged"),
    [
        ("pаypal.com", [("pаypal", ("Cyrillic", "Latin"))]),
        ("xn--pypal-4ve.com", [("pаypal", ("Cyrillic", "Latin"))]),
        ("gοogle.com", [("gοogle", ("Greek", "Latin"))]),
        ("sоundsbox.рф", [("sоundsbox", ("Cyrillic", "Latin"))]),
        ("paypal.com", []),
        ("москва.рф", []),
        ("ελλάδα.gr", []),
        ("日本語テキストabc.jp", []),  # Han, Katakana and Latin: allowed together
        ("한국어abc中文.kr", []),  # Hangul, Latin and Han: allowed together
        ("abc中文ㄅㄆ.tw", []),  # Latin, Han and Bopomofo: allowed together
        ("テストкот.jp", [("テストкот", ("Cyrillic", "Katakana"))]),
        ("a1-b2.com", []),  # digits and hyphens go with any script
    ],
)
def test_mixed_scripts_are_told_apart_from_the_mixes_unicode_allows(name, flagged):
    from workbench.domain.homoglyphs import mixed_script_labels

    assert mixed_script_labels(name) == flagged


def test_lookalike_warnings_never_raise_on_odd_input():
    from workbench.domain.homoglyphs import lookalike_warnings, value_warnings

    for odd in ("", " ", ".", "..", "xn--", "xn--zz.com", "\x00", "a" * 5000, None, 42):
        assert isinstance(lookalike_warnings(odd), list)  # type: ignore[arg-type]
        assert isinstance(value_warnings("url", odd), list)  # type: ignore[arg-type]
    assert value_warnings("person", "Pedro Kresker") == []


# Lookups of a lookalike name: looked up all the same, and flagged.
LOOKUP_FLAGGED = [
    (
        "Cyrillic а in a Latin label",
        looked_up("pаypal.com"),
        ("xn--pypal-4ve.com", "Cyrillic and Latin", "reads like 'paypal'"),
    ),
    ("the same name as A-labels", looked_up("xn--pypal-4ve.com"), ("Cyrillic and Latin",)),
    ("a label all in Cyrillic lookalikes", looked_up("аррӏе.com"), ("reads like 'apple'",)),
    ("a lookalike host in a URL", looked_up("https://login.pаypal.com/x"), ("'pаypal'",)),
    ("Greek omicron in a Latin label", looked_up("gοogle.com"), ("Greek and Latin",)),
    ("a zero-width space", looked_up("e\u200bvil.com"), ("invisible characters", "U+200B")),
]
LOOKUP_NOT_FLAGGED = [
    ("Latin", looked_up("paypal.com")),
    ("German IDN", looked_up("straße.de")),
    ("Japanese mixing Han, kana and Latin", looked_up("日本語テキストabc.jp")),
    ("a URL", looked_up("https://shop.example.test/x")),
]


def test_a_lookup_of_a_lookalike_name_runs_and_warns_on_stderr_and_in_the_json(
    recorded_store, tmp_path
):
    commands = [("--json", *command) for _, command, _ in LOOKUP_FLAGGED]
    commands += [("--json", *command) for _, command in LOOKUP_NOT_FLAGGED]
    results = run_in_one_process(tmp_path, recorded_store, commands)
    failures = []
    for (what, _, needles), result in zip(
        LOOKUP_FLAGGED, results[: len(LOOKUP_FLAGGED)], strict=True
    ):
        data = json.loads(result["stdout"]) if result["code"] == 0 else {}
        said = "\n".join(data.get("warnings", []))
        shown = [line for line in result["stderr"].splitlines() if "warning:" in line]
        problems = [f"exit {result['code']}"] if result["code"] != 0 else []
        # Still looked up: one domain, its WHOIS, RDAP and DNS recorded (offline here).
        lookups = [x["protocol"] for r in data.get("results", []) for x in r["lookups"]]
        if sorted(lookups) != ["dns", "rdap", "whois"]:
            problems.append(f"looked up {lookups}")
        if not shown or not all(line.startswith("workbench: warning: ") for line in shown):
            problems.append("no warning line on stderr")
        problems += [f"does not say {n!r}" for n in needles if n not in said or n not in shown[0]]
        if problems:
            failures.append(f"{what}: {', '.join(problems)}\n  stderr: {result['stderr']!r}")
    for (what, _), result in zip(LOOKUP_NOT_FLAGGED, results[len(LOOKUP_FLAGGED) :], strict=True):
        data = json.loads(result["stdout"]) if result["code"] == 0 else {}
        if result["code"] != 0 or "warning" in result["stderr"] or data.get("warnings"):
            failures.append(f"{what}: exit {result['code']}, stderr {result['stderr']!r}")
    assert not failures, "\n".join(failures)


def test_a_lookalike_lookup_warns_in_text_mode_too(recorded_store, run_cli):
    result = run_cli(*looked_up("pаypal.com"))
    assert result.code == 0, result
    assert "pаypal.com" in result.stdout and "offline" in result.stdout
    (warning,) = [line for line in result.stderr.splitlines() if "warning" in line]
    assert warning.startswith("workbench: warning: 'pаypal.com' (xn--pypal-4ve.com) mixes")
