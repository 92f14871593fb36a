"""Turn what people type and what servers return into one canonical form per thing.

Two records are the same entity when their kind and normalised key agree, so every
value passes through here before it is stored or compared. Each function returns the
canonical key and raises `InvalidInput` naming the field when the value cannot be one.
"""

from __future__ import annotations

import functools
import ipaddress
import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import idna
import phonenumbers
from publicsuffixlist import PublicSuffixList
from url_normalize import url_normalize

from workbench.domain.errors import InvalidInput

MAX_HOSTNAME_LENGTH = 253  # RFC 1035, in the ASCII (A-label) form, without the root dot
MAX_LABEL_LENGTH = 63
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_LDH_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")
_WHITESPACE = re.compile(r"\s+")
_SURROGATE = re.compile("[\ud800-\udfff]")
_ENDS_IN_NUMBER = re.compile(r"^(?:[0-9]+|0x[0-9a-f]*)$")


@dataclass(frozen=True)
class Hostname:
    """A DNS name in both forms: `ascii` (A-labels, the key) and `unicode` (for display)."""

    ascii: str
    unicode: str


@functools.cache
def _public_suffixes() -> PublicSuffixList:
    # The list ships inside the publicsuffixlist package; nothing is fetched.
    return PublicSuffixList()


def _reject_control(field: str, text: str) -> None:
    if _CONTROL.search(text):
        raise InvalidInput(field, text, "contains control characters")
    _reject_surrogates(field, text)


def _reject_surrogates(field: str, text: str) -> None:
    # A JSON "\ud800" escape or a command-line argument that is not UTF-8 gives a string
    # no file or database can hold: refuse it here, by name, rather than fail on storing.
    if _SURROGATE.search(text):
        raise InvalidInput(field, text, "contains invalid Unicode (lone surrogates)")


# Bulk lookups and recording normalise the same few names again and again (name servers,
# mail hosts); the answer depends on the arguments alone.
@functools.lru_cache(maxsize=65536)
def normalise_hostname(text: str, field: str = "hostname") -> Hostname:
    """Validate a host name and return its IDNA (UTS 46) forms, lower-case, no root dot."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidInput(field, text, "is empty")
    raw = text.strip()
    _reject_control(field, raw)
    if raw.startswith("-"):
        raise InvalidInput(field, raw, "starts with '-' (looks like a command-line option)")
    if "%" in raw:
        raise InvalidInput(field, raw, "contains percent-encoding; give the decoded name")
    name = raw[:-1] if raw.endswith(".") else raw
    if not name:
        raise InvalidInput(field, raw, "is only the root")
    if _is_ip(name):
        raise InvalidInput(field, raw, "is an IP address, not a name")
    try:
        ascii_form = idna.encode(name, uts46=True, transitional=False).decode("ascii").lower()
    except (idna.IDNAError, UnicodeError) as exc:
        raise InvalidInput(field, raw, f"is not a valid IDNA name ({exc})") from None
    if len(ascii_form) > MAX_HOSTNAME_LENGTH:
        raise InvalidInput(field, raw, f"is longer than {MAX_HOSTNAME_LENGTH} characters")
    labels = ascii_form.split(".")
    if _ENDS_IN_NUMBER.match(labels[-1]):
        # "127.1" and "0x7f.1" are addresses to every URL parser and resolver (WHATWG
        # URL "ends in a number"); no top-level domain is numeric.
        raise InvalidInput(field, raw, "ends in a number: it reads as an IP address, not a name")
    for label in labels:
        if not label:
            raise InvalidInput(field, raw, "has an empty label")
        if len(label) > MAX_LABEL_LENGTH:
            raise InvalidInput(field, raw, f"has a label longer than {MAX_LABEL_LENGTH}")
        # Underscores appear in real service names (_dmarc) but never in a host we look up.
        if not _LDH_LABEL.match(label):
            raise InvalidInput(field, raw, f"label {label!r} is not letters, digits and hyphens")
    try:
        unicode_form = idna.decode(ascii_form)
    except (idna.IDNAError, UnicodeError):
        unicode_form = ascii_form
    return Hostname(ascii=ascii_form, unicode=unicode_form)


def normalise_domain(text: str, field: str = "domain") -> Hostname:
    """A registrable domain from a domain, Unicode domain or URL.

    `www.soundsbox.test`, `https://Shop.SoundsBox.test/a` and `SOUNDSBOX.test.` all give
    `soundsbox.test`: the registrable domain under the bundled Public Suffix List, which is
    what WHOIS and RDAP answer for.
    """
    host = _host_from_url_or_name(text, field)
    name = normalise_hostname(host, field)
    psl = _public_suffixes()
    registrable = psl.privatesuffix(name.ascii)
    if registrable is None:
        raise InvalidInput(field, text, "is a public suffix, not a registrable domain")
    if "." not in registrable:
        raise InvalidInput(field, text, "has no registrable part")
    return normalise_hostname(registrable, field)


def _host_from_url_or_name(text: str, field: str) -> str:
    if not isinstance(text, str) or not text.strip():
        raise InvalidInput(field, text, "is empty")
    raw = text.strip()
    _reject_control(field, raw)
    if "://" in raw:
        try:
            host = urlsplit(raw).hostname
        except ValueError as exc:
            raise InvalidInput(field, raw, f"is not a valid URL ({exc})") from None
        if not host:
            raise InvalidInput(field, raw, "is a URL without a host")
        return host
    if "/" in raw:  # "soundsbox.test/shop": a URL someone typed without a scheme
        return raw.split("/", 1)[0]
    return raw


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        return False
    return True


def normalise_ip(text: str, field: str = "ip address") -> str:
    """An IPv4 or IPv6 address in its compressed canonical form."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidInput(field, text, "is empty")
    raw = text.strip()
    _reject_control(field, raw)
    try:
        return ipaddress.ip_address(raw.strip("[]")).compressed
    except ValueError:
        raise InvalidInput(field, raw, "is not an IPv4 or IPv6 address") from None


_ASN = re.compile(r"^(?:as)?\s*(\d{1,10})$", re.IGNORECASE)


def normalise_network(text: str, field: str = "network") -> str:
    """An autonomous system (`AS64500`), an address block (`192.0.2.0/24`) or a hosting name."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidInput(field, text, "is empty")
    raw = text.strip()
    _reject_control(field, raw)
    match = _ASN.match(raw)
    if match:
        number = int(match.group(1))
        if number > 4_294_967_295:
            raise InvalidInput(field, raw, "is not a 32-bit AS number")
        return f"AS{number}"
    if "/" in raw:
        try:
            return ipaddress.ip_network(raw, strict=False).compressed
        except ValueError:
            raise InvalidInput(field, raw, "is not an address block (CIDR)") from None
    return name_key(raw, field)


def normalise_email(text: str, field: str = "email") -> str:
    """An email address, lower-case, with its domain in IDNA form."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidInput(field, text, "is empty")
    raw = text.strip()
    _reject_control(field, raw)
    if raw.lower().startswith("mailto:"):
        raw = raw[7:]
    local, sep, domain = raw.rpartition("@")
    if not sep or not local or not domain:
        raise InvalidInput(field, raw, "is not of the form name@domain")
    quoted = len(local) > 1 and local.startswith('"') and local.endswith('"')
    if any(ch.isspace() for ch in local) or len(local) > 64 or ("@" in local and not quoted):
        raise InvalidInput(field, raw, "has an invalid part before the @")
    host = normalise_hostname(domain, field)
    return f"{local.lower()}@{host.ascii}"


def normalise_phone(text: str, field: str = "phone", region: str | None = None) -> str:
    """A phone number in E.164 (`+35212345678`).

    Accepts the forms WHOIS uses (`+352.12345678`, `tel:+43-1-...`). A number without a
    country code needs `region` (ISO 3166 alpha-2); without one it is refused rather than
    guessed.
    """
    if not isinstance(text, str) or not text.strip():
        raise InvalidInput(field, text, "is empty")
    raw = text.strip()
    _reject_control(field, raw)
    candidate = raw[4:] if raw.lower().startswith("tel:") else raw
    # WHOIS (RFC 5733 style) writes +CC.NUMBER; the dot is only a separator.
    candidate = re.sub(r"^\+(\d{1,3})\.", r"+\1", candidate)
    # phonenumbers reads letters as keypad digits ("fax" -> 329), which would silently
    # change the number; only an extension marker may hold letters.
    if re.search(r"[^\W\d_]", re.sub(r"(?i)(;ext=|\bext\.?|\bx)\s*\d+\s*$", "", candidate)):
        raise InvalidInput(field, raw, "contains letters; give the digits only")
    try:
        number = phonenumbers.parse(candidate, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidInput(field, raw, f"is not a phone number ({exc})") from None
    if not phonenumbers.is_possible_number(number):
        raise InvalidInput(field, raw, "has the wrong number of digits for its country")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_url(text: str, field: str = "url") -> str:
    """A canonical http(s) URL: lower-case scheme and host (IDNA), no default port, no
    dot segments, percent-encoding normalised, fragment dropped."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidInput(field, text, "is empty")
    raw = text.strip()
    _reject_control(field, raw)
    if any(ch.isspace() for ch in raw):
        raise InvalidInput(field, raw, "contains spaces")
    scheme = raw.split(":", 1)[0].lower() if "://" in raw else ""
    if scheme and scheme not in ("http", "https"):
        raise InvalidInput(field, raw, "must be an http or https URL")
    try:
        host = urlsplit(raw if scheme else "https://" + raw).hostname
    except ValueError as exc:
        raise InvalidInput(field, raw, f"is not a valid URL ({exc})") from None
    if not host:
        raise InvalidInput(field, raw, "has no host")
    if not _is_ip(host):
        normalise_hostname(host, field)
    try:
        canonical = url_normalize(raw, default_scheme="https")
    except (ValueError, UnicodeError) as exc:
        raise InvalidInput(field, raw, f"is not a valid URL ({exc})") from None
    if not canonical:
        raise InvalidInput(field, raw, "is not a valid URL")
    parts = urlsplit(canonical)
    # "javascript:..." and "mailto:..." have no "://" and so slip past the check above.
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput(field, raw, "must be an http or https URL")
    try:
        parts.port  # noqa: B018 - urlsplit checks the port only when asked for it
    except ValueError:
        raise InvalidInput(field, raw, "has a port that is not a number from 0 to 65535") from None
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", parts.query, ""))


def clean_text(text: str, field: str) -> str:
    """Free text as typed: Unicode NFC, whitespace at the ends trimmed, no control characters
    other than newlines and tabs."""
    if not isinstance(text, str):
        raise InvalidInput(field, text, "is not text")
    _reject_surrogates(field, text)
    value = unicodedata.normalize("NFC", text).strip()
    if re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", value):
        raise InvalidInput(field, text, "contains control characters")
    return value


def display_name(text: str, field: str = "name") -> str:
    """A name as it should be shown: NFC, single spaces, ends trimmed."""
    value = clean_text(text, field)
    value = _WHITESPACE.sub(" ", value)
    if not value:
        raise InvalidInput(field, text, "is empty")
    if len(value) > 500:
        raise InvalidInput(field, text, "is longer than 500 characters")
    return value


def name_key(text: str, field: str = "name") -> str:
    """The key two spellings of one name share: NFKC, case-folded, single spaces, and
    trailing punctuation dropped ("ROMS", " roms ", "Roms." are one society)."""
    value = unicodedata.normalize("NFKC", display_name(text, field)).casefold()
    return value.rstrip(".,;: ")
