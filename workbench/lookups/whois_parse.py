"""WHOIS text -> registration facts: pure functions, no I/O.

python-whois (`whois.parser.WhoisEntry.load`) does the first pass: it knows the layout of
many registries and their date formats. Its contact fields, though, are role-blind for the
RIPE-like formats (.at, .de, .ru: every `phone:` lands in one list) and it skips fields the
text plainly has (registrant phone and fax in a thick gTLD record, the registrar's IANA id,
the abuse contact). So a small extractor of our own reads the "Key: value" lines with their
roles: ICANN prefixes ("Registrant Phone"), DNS-LU prefixes ("adm-email"), DENIC sections
("[Tech-C]"), RPSL handles (nic.at's "tech-c: HANDLE" -> the block with "nic-hdl: HANDLE")
and TCI's registrant lines ("org:", "person:"). Role-aware values win; python-whois fills
what they lack.

A field whose value is a privacy placeholder is left None and named in `redacted`, so a
"REDACTED FOR PRIVACY" never becomes an entity. Hostile input never raises anything but
`WhoisParseError`.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import phonenumbers
from whois.parser import WhoisEntry, cast_date

from workbench.domain.errors import InvalidInput, WorkbenchError
from workbench.domain.normalise import (
    Hostname,
    normalise_email,
    normalise_hostname,
    normalise_phone,
)
from workbench.domain.redaction import is_redacted
from workbench.lookups.results import Contact, Registrar, RegistrationFacts


class WhoisParseError(WorkbenchError):
    """A WHOIS response cannot be read as text at all (binary data, not a string)."""


# --- bytes -> text -------------------------------------------------------------------

# Registries that answered in Windows-1251 before they moved to UTF-8 (RU-CENTER, .su, .by,
# .ua, .kz, .bg archives); anything else that is not UTF-8 is taken as Latin-1.
_CYRILLIC_TLDS = frozenset({"ru", "su", "xn--p1ai", "by", "xn--90ais", "ua", "kz", "bg"})
_CONTROL_BYTES = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def decode_whois(raw: bytes, tld: str | None = None) -> str:
    """Decode a WHOIS response: UTF-8, else Windows-1251 for Cyrillic text, else Latin-1.

    Line endings become "\\n". Raises WhoisParseError when the bytes are not text at all
    (NUL bytes or many control bytes: a server sent binary data). The raw bytes stay in
    the Capture; this is only how they are read.
    """
    if not isinstance(raw, bytes | bytearray):
        raise WhoisParseError(f"expected bytes, got {type(raw).__name__}")
    data = bytes(raw)
    controls = len(_CONTROL_BYTES.findall(data))
    if b"\x00" in data or controls > max(2, len(data) // 100):
        raise WhoisParseError(
            f"the response is binary data, not text ({controls} control bytes in {len(data)})"
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("cp1251" if _looks_cyrillic(data, tld) else "latin-1", "replace")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _looks_cyrillic(data: bytes, tld: str | None) -> bool:
    """Cyrillic in Windows-1251 comes in runs of high bytes (whole words); accented Latin-1
    letters sit alone between ASCII ones."""
    if tld in _CYRILLIC_TLDS:
        return True
    high = [i for i, b in enumerate(data) if b >= 0x80]
    if not high:
        return False
    in_runs = sum(
        1
        for i in high
        if (i > 0 and data[i - 1] >= 0x80) or (i + 1 < len(data) and data[i + 1] >= 0x80)
    )
    return in_runs / len(high) > 0.6


# --- what kind of answer is it --------------------------------------------------------

_NOT_FOUND = re.compile(
    r"""^[ \t%#>]*(
        no\ match\ for
      | not\ found\b
      | no\ entries\ found
      | %?error:101
      | no\ data\ found
      | no\ such\ domain
      | domain\ not\ found
      | nothing\ found
      | no\ object\ found
      | the\ queried\ object\ does\ not\ exist
      | status:[ \t]*(free|available)\s*$
    )
    | \bis\ free\.?[ \t]*$
    """,
    re.IGNORECASE | re.MULTILINE | re.VERBOSE,
)

_RATE_LIMITED = re.compile(
    r"""limit\ exceeded | exceeded\ the\ (query|request)\ limit | quota
      | try\ again\ later | too\ many\ (requests|queries|connections)
      | rate[\ -]limit | access\ control\ limit | maximum\ (allowable\ )?number\ of\ queries
      | %error:201 | queried\ too\ often""",
    re.IGNORECASE | re.VERBOSE,
)

# A line that only a registration record has: an answer carrying one is not a refusal.
_RECORD_LINE = re.compile(
    r"^[ \t]*(domain[ \t]?name|domain|domainname|nserver|name[ \t]server|creation[ \t]date"
    r"|created|registered)[ \t]*:[ \t]*\S",
    re.IGNORECASE | re.MULTILINE,
)


def whois_not_found(text: str) -> bool:
    """True when the server says no such domain is registered ("No match for", "NOT FOUND",
    "%ERROR:101: no entries found", DENIC's "Status: free", ...)."""
    return bool(_NOT_FOUND.search(text or ""))


def whois_rate_limited(text: str) -> bool:
    """True when the server refused us for asking too often ("limit exceeded", "quota",
    "try again later", "too many requests", ...) instead of answering."""
    text = text or ""
    return bool(_RATE_LIMITED.search(text)) and not _RECORD_LINE.search(text)


_REFERRAL = re.compile(
    r"^[ \t]*(?:registrar[ \t]+whois[ \t]+server|whois[ \t]+server|referralserver|refer)"
    r"[ \t]*:[ \t]*(\S+)",
    re.IGNORECASE | re.MULTILINE,
)
_HOST_PORT = re.compile(r"^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:\d{1,5})?$")


def whois_referral(text: str) -> str | None:
    """The WHOIS server this response refers to ("Registrar WHOIS Server:",
    "ReferralServer:", IANA's "refer:"), as `host` or `host:port`, lower-case.

    None when there is none, or when it is not a WHOIS server (an http:// or rwhois:// URL,
    or something that is not a host name or address).
    """
    for match in _REFERRAL.finditer(text or ""):
        value = match.group(1).strip().lower()
        scheme, sep, rest = value.partition("://")
        if sep:
            if scheme != "whois":
                continue
            value = rest
        value = value.rstrip("/")
        if value.startswith("["):
            host, _, port = value[1:].partition("]")
            if _is_ip(host) and (not port or re.fullmatch(r":\d{1,5}", port)):
                return value
            continue
        if _HOST_PORT.match(value):
            return value
    return None


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


# --- "Key: value" lines with where they stand -----------------------------------------

_KEY_VALUE = re.compile(r"^[ \t]*([A-Za-z][A-Za-z0-9 /._()-]{0,60}?)[ \t]*:[ \t]*(.*?)[ \t]*$")
_SECTION = re.compile(r"^[ \t]*\[([A-Za-z][A-Za-z -]{0,30})\][ \t]*$")


@dataclass(frozen=True)
class _Line:
    key: str  # lower-case, single spaces
    value: str
    block: int  # blocks are separated by blank lines
    section: str | None  # DENIC's "[Tech-C]" -> "tech-c"


def _lines(text: str) -> list[_Line]:
    out: list[_Line] = []
    block = 0
    section: str | None = None
    for raw in text.split("\n"):
        line = raw.rstrip()
        if not line.strip():
            block += 1
            continue
        if line.lstrip().startswith(("%", "#", ">>>")):
            continue
        sec = _SECTION.match(line)
        if sec:
            section = sec.group(1).strip().lower()
            block += 1
            continue
        kv = _KEY_VALUE.match(line)
        if kv:
            key = " ".join(kv.group(1).lower().split())
            out.append(_Line(key, kv.group(2), block, section))
    return out


def _first(lines: list[_Line], *keys: str) -> str | None:
    for line in lines:
        if line.key in keys and line.value:
            return line.value
    return None


def _all(lines: list[_Line], *keys: str) -> list[str]:
    return [line.value for line in lines if line.key in keys and line.value]


# --- contacts -------------------------------------------------------------------------

_CONTACT_FIELDS = (
    "name",
    "organisation",
    "email",
    "phone",
    "fax",
    "street",
    "city",
    "postal_code",
    "country",
    "handle",
)

# Placeholders some registries use that the shared list does not (yet) know: TCI writes
# "person: Private Person" for every private registrant of .ru.
_EXTRA_PLACEHOLDERS = frozenset({"private person"})


def _is_placeholder(value: str) -> bool:
    return is_redacted(value) or value.strip().casefold() in _EXTRA_PLACEHOLDERS


@dataclass
class _ContactDraft:
    role: str
    values: dict[str, str] = field(default_factory=dict)
    redacted: list[str] = field(default_factory=list)

    def put(self, name: str, value: str | None) -> None:
        if value is None or not value.strip():
            return
        value = " ".join(value.split())
        if _is_placeholder(value):
            if name not in self.redacted:
                self.redacted.append(name)
            return
        if name == "street" and name in self.values:
            if value not in self.values[name]:
                self.values[name] += ", " + value
            return
        self.values.setdefault(name, value)


class _Contacts:
    """Drafts per role, in the order roles were first seen."""

    def __init__(self) -> None:
        self.drafts: dict[str, _ContactDraft] = {}

    def draft(self, role: str) -> _ContactDraft:
        return self.drafts.setdefault(role, _ContactDraft(role))

    def __iter__(self) -> Iterator[_ContactDraft]:
        return iter(self.drafts.values())


_ICANN_CONTACT = re.compile(
    r"^(registrant|admin|administrative|tech|technical|billing)(?: contact)? "
    r"(name|organi[sz]ation|street\d?|address\d?|city|postal ?code|country(?: ?code)?"
    r"|phone(?: number)?|fax(?: number)?|e-?mail)$"
)
_ROLE_WORDS = {
    "registrant": "registrant",
    "admin": "admin",
    "administrative": "admin",
    "tech": "tech",
    "technical": "tech",
    "billing": "billing",
}


def _field_name(word: str) -> str | None:
    word = word.replace(" ", "").replace("-", "")
    if word == "name":
        return "name"
    if word.startswith("organ") or word == "org":
        return "organisation"
    if word.startswith(("street", "address")):
        return "street"
    if word == "city":
        return "city"
    if word in ("postalcode", "zipcode", "zip"):
        return "postal_code"
    if word.startswith("country"):
        return "country"
    if word.startswith("phone"):
        return "phone"
    if word.startswith("fax"):
        return "fax"
    if word == "email":
        return "email"
    return None


def _icann_contacts(lines: list[_Line], contacts: _Contacts) -> None:
    """gTLD records (RAA 2013): "Registrant Phone: +352.26480123", "Admin Email: ..."."""
    for line in lines:
        if line.key == "registry registrant id":
            contacts.draft("registrant").put("handle", line.value)
            continue
        match = _ICANN_CONTACT.match(line.key)
        if match:
            name = _field_name(match.group(2))
            if name:
                contacts.draft(_ROLE_WORDS[match.group(1)]).put(name, line.value)


_LU_CONTACT = re.compile(r"^(org|adm|tec|bil)-(name|address|zipcode|city|country|email|phone|fax)$")
_LU_ROLES = {"org": "registrant", "adm": "admin", "tec": "tech", "bil": "billing"}


def _dns_lu_contacts(lines: list[_Line], contacts: _Contacts) -> None:
    """DNS-LU: "org-name:", "adm-email:", "tec-city:" (org is the holder)."""
    holder_is_org = (_first(lines, "ownertype") or "").upper().startswith("ORG")
    for line in lines:
        match = _LU_CONTACT.match(line.key)
        if not match:
            continue
        role = _LU_ROLES[match.group(1)]
        name = _field_name(match.group(2))
        if role == "registrant" and name == "name":
            name = "organisation" if holder_is_org else "name"
        if name:
            contacts.draft(role).put(name, line.value)


_DENIC_SECTIONS = {
    "holder": "registrant",
    "admin-c": "admin",
    "tech-c": "tech",
    "zone-c": "tech",  # the zone's technical contact
}


def _denic_contacts(lines: list[_Line], contacts: _Contacts) -> None:
    """DENIC: sections "[Tech-C]" / "[Zone-C]" of "Name:", "Phone:", "Email:" lines."""
    for line in lines:
        role = _DENIC_SECTIONS.get(line.section or "")
        if role is None:
            continue
        # Zone-C and Tech-C are often different people: keep both as tech contacts.
        draft = contacts.draft(role if line.section != "zone-c" else "tech (zone)")
        draft.role = role
        name = _field_name(line.key)
        if name:
            draft.put(name, line.value)


_RPSL_REFS = {
    "registrant": "registrant",
    "holder": "registrant",
    "admin-c": "admin",
    "tech-c": "tech",
    "zone-c": "tech",
    "billing-c": "billing",
}
_RPSL_FIELDS = {
    "personname": "name",
    "person": "name",
    "role": "name",
    "organization": "organisation",
    "organisation": "organisation",
    "org-name": "organisation",
    "street address": "street",
    "address": "street",
    "postal code": "postal_code",
    "city": "city",
    "country": "country",
    "phone": "phone",
    "fax-no": "fax",
    "e-mail": "email",
    "email": "email",
}


def _rpsl_contacts(lines: list[_Line], contacts: _Contacts) -> None:
    """RIPE-style objects (nic.at): the domain object names handles ("tech-c: NAG1-NICAT"),
    each contact object carries "nic-hdl:" and its own fields."""
    blocks: dict[int, list[_Line]] = {}
    for line in lines:
        blocks.setdefault(line.block, []).append(line)
    by_handle: dict[str, list[_Line]] = {}
    for block in blocks.values():
        handle = _first(block, "nic-hdl")
        if handle:
            by_handle[handle.upper()] = block
    if not by_handle:
        return
    seen: set[tuple[str, str]] = set()  # a handle named twice for one role is read once
    for line in lines:
        role = _RPSL_REFS.get(line.key)
        block = by_handle.get(line.value.upper()) if role else None
        if role is None or block is None or (role, line.value.upper()) in seen:
            continue
        seen.add((role, line.value.upper()))
        draft = contacts.draft(role if role not in contacts.drafts else f"{role} {line.value}")
        draft.role = role
        draft.put("handle", line.value)
        for item in block:
            name = _RPSL_FIELDS.get(item.key)
            if name:
                draft.put(name, item.value)


def _tci_contacts(lines: list[_Line], contacts: _Contacts) -> None:
    """TCI (.ru, .su, .рф): the registrant sits in the domain object itself: "org:" or
    "person:", sometimes "phone:", "fax-no:", "e-mail:"."""
    if not any(line.key == "nic-hdl" for line in lines) and _first(lines, "domain"):
        domain_block = next(line.block for line in lines if line.key == "domain")
        block = [line for line in lines if line.block == domain_block]
        if not any(line.key in ("org", "person") for line in block):
            return
        draft = contacts.draft("registrant")
        for line in block:
            name = {"org": "organisation", "person": "name"}.get(line.key) or (
                _RPSL_FIELDS.get(line.key) if line.key in ("phone", "fax-no", "e-mail") else None
            )
            if name:
                draft.put(name, line.value)


# --- values ---------------------------------------------------------------------------


@functools.cache
def _country_names() -> dict[str, str]:
    """Country names (English, German, French) -> ISO alpha-2, from phonenumbers' data, for
    registries that write "Austria" or "Österreich" rather than "AT"."""
    # The geocoder's data takes a second to import: only when a name needs mapping.
    from phonenumbers import geocoder

    names: dict[str, str] = {}
    for region in phonenumbers.SUPPORTED_REGIONS:
        number = phonenumbers.example_number(region)
        if number is None:
            continue
        for lang in ("en", "de", "fr"):
            name = geocoder.country_name_for_number(number, lang)
            if name:
                names.setdefault(name.casefold(), region)
    names.update(
        {
            "russian federation": "RU",
            "usa": "US",
            "united states of america": "US",
            "great britain": "GB",
            "the netherlands": "NL",
            "czech republic": "CZ",
            "republic of korea": "KR",
        }
    )
    return names


def _country(value: str | None) -> str | None:
    if not value:
        return None
    text = value.strip()
    if re.fullmatch(r"[A-Za-z]{2}", text):
        return text.upper()
    return _country_names().get(text.casefold(), text)


def _phone(value: str | None, country: str | None) -> str | None:
    if not value:
        return None
    region = country if country and re.fullmatch(r"[A-Z]{2}", country) else None
    try:
        return normalise_phone(value, region=region)
    except InvalidInput:
        return value.strip()


def _email(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return normalise_email(value)
    except InvalidInput:
        return value.strip()


def _finish(draft: _ContactDraft) -> Contact | None:
    values = draft.values
    if not values and not draft.redacted:
        return None
    country = _country(values.get("country"))
    return Contact(
        role=draft.role,
        name=values.get("name"),
        organisation=values.get("organisation"),
        email=_email(values.get("email")),
        phone=_phone(values.get("phone"), country),
        fax=_phone(values.get("fax"), country),
        street=values.get("street"),
        city=values.get("city"),
        postal_code=values.get("postal_code"),
        country=country,
        handle=values.get("handle"),
        redacted=list(draft.redacted),
    )


def _pw(entry: dict, key: str) -> list:
    """A python-whois field as a list (it gives None, a value, or a list of values)."""
    value = entry.get(key)
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def _pw_text(entry: dict, *keys: str) -> str | None:
    for key in keys:
        for value in _pw(entry, key):
            if isinstance(value, str) and value.strip():
                return value.strip()
    return None


def _utc(value: object, dayfirst: bool = False) -> datetime | None:
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, str) and value.strip():
        try:
            parsed = cast_date(value.strip(), dayfirst=dayfirst)
        except Exception:  # python-whois raises its own, dateutil others: not a date either way
            return None
        if not isinstance(parsed, datetime):
            return None
        dt = parsed
    else:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    try:
        return dt.astimezone(UTC)
    except (OverflowError, ValueError):
        return None


_CREATED_KEYS = (
    "creation date",
    "created",
    "registered",
    "registered on",
    "registration time",
    "domain registration date",
    "created on",
)
_UPDATED_KEYS = (
    "updated date",
    "changed",
    "last updated",
    "last-update",
    "modified",
    "last modified",
)
_EXPIRES_KEYS = (
    "registry expiry date",
    "registrar registration expiration date",
    "expiration date",
    "expiry date",
    "paid-till",
    "expires",
    "expire",
    "expires on",
)
# Registries whose dates are day-first (dd/mm/yyyy): python-whois reads 01/05 as January.
_DAYFIRST_TLDS = frozenset({"lu", "fr", "be", "it", "pl", "uk", "au", "nz"})


def _date(
    entry: dict, pw_key: str, lines: list[_Line], keys: tuple[str, ...], dayfirst: bool
) -> datetime | None:
    own = _first_date(_all(lines, *keys), dayfirst)
    theirs = _first_date(_pw(entry, pw_key), False)
    ordered = (own, theirs) if dayfirst else (theirs, own)
    return next((value for value in ordered if value is not None), None)


# Reading a date tries dozens of formats; a hostile response repeating a date field
# thousands of times must not make parsing take minutes. Real records give one or two.
_MAX_DATE_VALUES = 8


def _first_date(values: list, dayfirst: bool) -> datetime | None:
    for value in values[:_MAX_DATE_VALUES]:
        parsed = _utc(value, dayfirst)
        if parsed is not None:
            return parsed
    return None


def _nameserver(value: object) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    token = value.strip().split()[0].rstrip(".,").lower()
    try:
        return normalise_hostname(token, "nameserver").ascii
    except InvalidInput:
        return None


def _status_values(value: object) -> list[str]:
    if not isinstance(value, str):
        return []
    text = value.split(" http", 1)[0].split(" (", 1)[0]
    return [part.strip() for part in text.split(",") if part.strip()]


def _unique(values: list[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for value in values:
        key = value.casefold()
        if key not in seen:
            seen.add(key)
            out.append(value)
    return out


_PAREN_URL = re.compile(r"\s*\(\s*(https?://[^\s)]+)\s*\)\s*$")


# --- the parser -----------------------------------------------------------------------


_LONG_RUN = re.compile(r"[^\s@]{257,}")


def _cut(match: re.Match) -> str:
    return match.group(0)[:256]


def parse_whois(domain: Hostname, text: str) -> RegistrationFacts:
    """The registration facts in one WHOIS response for `domain`.

    Never raises on odd or hostile text: what cannot be read is left None. Raises
    WhoisParseError only when `text` is not a string or contains NUL bytes (binary data;
    decode with `decode_whois` first).
    """
    if not isinstance(text, str):
        raise WhoisParseError(f"expected text, got {type(text).__name__}")
    if "\x00" in text:
        raise WhoisParseError("the response contains NUL bytes: binary data, not WHOIS text")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    tld = domain.ascii.rsplit(".", 1)[-1]
    try:
        # python-whois's e-mail pattern is quadratic in a run of characters without a
        # space or '@'; no real field value is longer than a few hundred characters.
        entry: dict = dict(WhoisEntry.load(domain.unicode, _LONG_RUN.sub(_cut, text)))
    except Exception:  # python-whois raises on not-found text and odd dates; we read on
        entry = {}
    lines = _lines(text)
    dayfirst = tld in _DAYFIRST_TLDS

    facts = RegistrationFacts(domain=domain.ascii)
    facts.registrar = _registrar(entry, lines)
    facts.contacts = _contacts(entry, lines, facts.registrar)
    for contact in facts.contacts:
        facts.redacted.extend(f"{contact.role}.{name}" for name in contact.redacted)
    facts.redacted = _unique(facts.redacted)

    # Ours first: "Name Server:" lines are unambiguous, while some python-whois layouts
    # (.uk) take any host-like word for a name server. Theirs for layouts ours cannot read.
    servers = [
        _nameserver(v) for v in _all(lines, "name server", "nserver", "nameserver", "nameservers")
    ] or [_nameserver(v) for v in _pw(entry, "name_servers")]
    facts.nameservers = _unique([s for s in servers if s])

    statuses: list[str] = []
    for value in _pw(entry, "status") or _all(
        lines, "domain status", "status", "state", "domaintype"
    ):
        statuses.extend(_status_values(value))
    facts.statuses = _unique(statuses)

    facts.created = _date(entry, "creation_date", lines, _CREATED_KEYS, dayfirst)
    facts.updated = _date(entry, "updated_date", lines, _UPDATED_KEYS, dayfirst)
    facts.expires = _date(entry, "expiration_date", lines, _EXPIRES_KEYS, dayfirst)
    facts.dnssec = _dnssec(entry, lines)
    return facts


def _registrar(entry: dict, lines: list[_Line]) -> Registrar | None:
    name = _first(
        lines, "registrar", "sponsoring registrar", "registrar name", "registrar-name"
    ) or _pw_text(entry, "registrar")
    url = _first(lines, "registrar url", "registrar-url") or _pw_text(entry, "registrar_url")
    if name:
        match = _PAREN_URL.search(name)  # nic.at: "NIC.AT GmbH ( https://nic.at/registrar/434 )"
        if match:
            url = url or match.group(1)
            name = name[: match.start()].strip()
    whois_server = _first(lines, "registrar whois server", "whois server") or _pw_text(
        entry, "whois_server"
    )
    registrar = Registrar(
        name=" ".join(name.split()) if name else None,
        iana_id=_first(lines, "registrar iana id", "sponsoring registrar iana id"),
        whois_server=whois_server.lower() if whois_server else None,
        url=url,
        abuse_email=_email(
            _first(lines, "registrar abuse contact email", "abuse contact email", "abuse-mailbox")
        ),
        abuse_phone=_phone(_first(lines, "registrar abuse contact phone"), None),
        country=_country(_first(lines, "registrar-country", "registrar country")),
    )
    if registrar.abuse_email and is_redacted(registrar.abuse_email):
        registrar.abuse_email = None
    if not any(vars(registrar).values()):
        return None
    return registrar


def _contacts(entry: dict, lines: list[_Line], registrar: Registrar | None) -> list[Contact]:
    drafts = _Contacts()
    _icann_contacts(lines, drafts)
    _dns_lu_contacts(lines, drafts)
    _denic_contacts(lines, drafts)
    _rpsl_contacts(lines, drafts)
    _tci_contacts(lines, drafts)
    if not drafts.drafts:
        # python-whois's own registrant fields, for layouts none of the above knows. Not
        # mixed with ours: in sectioned layouts its role-blind "name:" is often the Tech-C.
        draft = drafts.draft("registrant")
        for ours, theirs in (
            ("name", ("registrant_name", "name")),
            ("organisation", ("registrant_organization", "org")),
            ("street", ("registrant_address", "address")),
            ("city", ("registrant_city", "city")),
            ("postal_code", ("registrant_postal_code",)),
            ("country", ("registrant_country", "country", "country_code")),
        ):
            value = _pw_text(entry, *theirs)
            if value:
                draft.put(ours, value)
    contacts = [c for c in (_finish(d) for d in drafts) if c is not None]
    if registrar and (registrar.abuse_email or registrar.abuse_phone):
        contacts.append(
            Contact(
                role="abuse",
                organisation=registrar.name,
                email=registrar.abuse_email,
                phone=registrar.abuse_phone,
            )
        )
    return contacts


def _dnssec(entry: dict, lines: list[_Line]) -> str | None:
    value = _first(lines, "dnssec") or _pw_text(entry, "dnssec")
    if value:
        return value.split()[0]
    if _first(lines, "dnskey", "ds", "ds-rdata"):
        return "signedDelegation"
    return None


# --- registry + registrar -------------------------------------------------------------


def has_registration_data(facts: RegistrationFacts) -> bool:
    """True when a response said anything about a registration: a registrar, a date, a
    name server, a status or a contact. A truncated banner says none of these."""
    return bool(
        (facts.registrar and facts.registrar.name)
        or facts.created
        or facts.nameservers
        or facts.statuses
        or facts.contacts
    )


def merge_registry_and_registrar(
    registry: RegistrationFacts, registrar: RegistrationFacts
) -> RegistrationFacts:
    """One view of a thin registry record and the registrar's thick one.

    The registry is authoritative for what it holds (sponsoring registrar, dates, name
    servers, statuses, DNSSEC); the registrar adds what the registry leaves out, above all
    the contacts.
    """
    reg_a = registry.registrar or Registrar()
    reg_b = registrar.registrar or Registrar()
    merged_registrar = Registrar(
        **{key: getattr(reg_a, key) or getattr(reg_b, key) for key in vars(reg_a)}
    )

    def key(contact: Contact) -> tuple[str, str | None]:
        return contact.role, contact.email or contact.name or contact.organisation

    contacts = list(registry.contacts)
    have = {key(c) for c in contacts}
    contacts += [c for c in registrar.contacts if key(c) not in have]
    # A thin registry record only has the abuse contact: list the people before it.
    contacts.sort(key=lambda c: c.role == "abuse")
    return RegistrationFacts(
        domain=registry.domain,
        registrar=merged_registrar if any(vars(merged_registrar).values()) else None,
        contacts=contacts,
        nameservers=registry.nameservers or registrar.nameservers,
        statuses=registry.statuses or registrar.statuses,
        created=registry.created or registrar.created,
        updated=registry.updated or registrar.updated,
        expires=registry.expires or registrar.expires,
        dnssec=registry.dnssec or registrar.dnssec,
        redacted=_unique([*registry.redacted, *registrar.redacted]),
    )
