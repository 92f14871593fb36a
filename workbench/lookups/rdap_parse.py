"""RDAP documents (RFC 9083) to facts: pure functions from the raw bytes a server sent.

A registry's domain document names the registrar and often links ("related") to the
registrar's own document, which holds the contacts; `merge_registration_facts` joins the
two. Contacts come as jCard (RFC 7095) arrays inside entities. Registrars replace
registrant data with placeholders and describe the removal with RFC 9537 "redacted"
entries; such a field is left None, named in `Contact.redacted` and `facts.redacted`,
and never becomes an identity.

Servers, and whoever sits between us and them, can send anything. Documents that are too
large, nested too deep, not JSON, or not a JSON object raise `RdapParseError`; any other
odd shape (a string where a list belongs, a missing member) is skipped, never a crash.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from workbench.domain.errors import InvalidInput, WorkbenchError
from workbench.domain.normalise import normalise_email, normalise_hostname, normalise_phone
from workbench.domain.redaction import is_redacted
from workbench.lookups.results import Contact, NetworkFacts, Registrar, RegistrationFacts

MAX_DEPTH = 64
DEFAULT_MAX_DOCUMENT_BYTES = 4 * 1024 * 1024
RDAP_MEDIA_TYPE = "application/rdap+json"

CONTACT_FIELDS = (
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
# RDAP entity roles (RFC 9083 section 10.2.4) to the roles a Contact records.
_ROLES = {
    "registrant": "registrant",
    "administrative": "admin",
    "technical": "tech",
    "billing": "billing",
    "abuse": "abuse",
    "registrar": "registrar",
}
_PERSONAL_ROLES = {"registrant", "admin", "tech", "billing"}
# The first word of an RFC 9537 redaction name ("Registrant Email", "Tech Phone").
_REDACTION_ROLES = {
    "registrant": "registrant",
    "tech": "tech",
    "technical": "tech",
    "admin": "admin",
    "administrative": "admin",
    "billing": "billing",
}
_REDACTION_FIELDS = {
    "name": "name",
    "organization": "organisation",
    "organisation": "organisation",
    "street": "street",
    "city": "city",
    "postal code": "postal_code",
    "phone": "phone",
    "fax": "fax",
    "email": "email",
    "country": "country",
    "country code": "country",
    "id": "handle",
}
_VCARD_FIELDS = {"fn": "name", "org": "organisation", "email": "email", "tel": "phone"}
_ADR_FIELDS = {2: "street", 3: "city", 5: "postal_code", 6: "country"}
_PATH_ROLE = re.compile(r"roles\[0\]\s*==\s*['\"]([a-z]+)['\"]", re.IGNORECASE)
_PATH_PROPERTY = re.compile(r"@\[0\]\s*==\s*['\"]([a-z]+)['\"]", re.IGNORECASE)
_PATH_ADR_INDEX = re.compile(r"\]\[3\]\[(\d)\]")
_COUNTRY_CODE = re.compile(r"^[A-Za-z]{2}$")


class RdapParseError(WorkbenchError, ValueError):
    """The bytes are not an RDAP document we can read (not JSON, hostile, wrong object)."""


# -- loading -----------------------------------------------------------------------------


def load_rdap_json(raw: bytes, max_bytes: int = DEFAULT_MAX_DOCUMENT_BYTES) -> dict[str, Any]:
    """Decode one RDAP response to a JSON object, refusing hostile or broken input."""
    if not isinstance(raw, bytes | bytearray | memoryview):
        raise RdapParseError(f"an RDAP document must be bytes, not {type(raw).__name__}")
    if len(raw) > max_bytes:
        raise RdapParseError(f"the document is {len(raw)} bytes, over the {max_bytes} cap")
    try:
        text = bytes(raw).decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RdapParseError(f"the document is not UTF-8 ({exc.reason} at {exc.start})") from None
    try:
        doc = json.loads(text)
    except RecursionError:
        raise RdapParseError(f"the JSON is nested deeper than {MAX_DEPTH} levels") from None
    except ValueError as exc:  # JSONDecodeError, and ints too long to convert
        raise RdapParseError(f"the document is not valid JSON ({exc})") from None
    if not isinstance(doc, dict):
        raise RdapParseError(f"the document is a JSON {type(doc).__name__}, not an object")
    _check_depth(doc)
    return doc


def _check_depth(doc: Any) -> None:
    # Iterative so that the check itself cannot hit the recursion limit.
    stack = [(doc, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise RdapParseError(f"the JSON is nested deeper than {MAX_DEPTH} levels")
        if isinstance(value, dict):
            stack.extend((child, depth + 1) for child in value.values())
        elif isinstance(value, list):
            stack.extend((child, depth + 1) for child in value)


def _expect_class(doc: dict[str, Any], *expected: str) -> None:
    found = doc.get("objectClassName")
    if isinstance(found, str) and found.strip().lower() in expected:
        return
    code = doc.get("errorCode")
    if isinstance(code, int) and not isinstance(code, bool):
        # Some servers answer HTTP 200 with an RDAP error object.
        raise RdapParseError(f"the server sent an RDAP error {code}: {_text(doc.get('title'))}")
    if found is not None:
        raise RdapParseError(f"the document is an {found!r} object, not {expected[0]!r}")


# -- small, forgiving accessors ------------------------------------------------------------


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str | None:
    """A string member, trimmed; lists of strings joined (jCard structured values)."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, list):
        parts = [v.strip() for v in value if isinstance(v, str) and v.strip()]
        return ", ".join(parts)
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return str(value)
    return None


def _string(value: Any) -> str | None:
    """A member that must be a string (names, URLs), trimmed; anything else is None."""
    return value.strip() if isinstance(value, str) else None


def _parse_date(value: Any) -> datetime | None:
    """An RDAP eventDate as an aware UTC datetime; a date without zone is taken as UTC."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if text[-1] in "Zz":
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(text)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)
    except (ValueError, OverflowError):
        return None


def _events(doc: dict[str, Any]) -> dict[str, datetime]:
    found: dict[str, datetime] = {}
    for event in _list(doc.get("events")):
        event = _dict(event)
        action = _text(event.get("eventAction"))
        moment = _parse_date(event.get("eventDate"))
        if action and moment and action.lower() not in found:
            found[action.lower()] = moment
    return found


def _links(doc: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for link in _list(doc.get("links")):
        if isinstance(link, dict):
            yield link


def _dedupe(items: list[str]) -> list[str]:
    return list(dict.fromkeys(item for item in items if item))


# -- jCard ---------------------------------------------------------------------------------


@dataclasses.dataclass
class _Card:
    """What one jCard says, each value as written (None when absent)."""

    values: dict[str, str | None]
    url: str | None = None


def _param_tokens(params: dict[str, Any], key: str) -> list[str]:
    raw = params.get(key)
    items = raw if isinstance(raw, list) else [raw]
    tokens: list[str] = []
    for item in items:
        if isinstance(item, str):
            tokens.extend(t.strip().lower() for t in item.split(",") if t.strip())
    return tokens


def _read_card(vcard_array: Any) -> _Card:
    card = _Card(values={})
    array = _list(vcard_array)
    properties = _list(array[1]) if len(array) > 1 else []
    for prop in properties:
        if not isinstance(prop, list) or len(prop) < 4 or not isinstance(prop[0], str):
            continue
        name = prop[0].lower()
        params = _dict(prop[1])
        value = prop[3]
        if name in ("fn", "org"):
            card.values.setdefault(_VCARD_FIELDS[name], _text(value))
        elif name == "email":
            card.values.setdefault("email", _text(value))
        elif name == "tel":
            number = _text(value)
            kinds = _param_tokens(params, "type")
            # A number typed fax is a fax line, whatever else it claims; untyped is voice.
            if "fax" in kinds:
                card.values.setdefault("fax", number)
            if "voice" in kinds or "fax" not in kinds:
                card.values.setdefault("phone", number)
        elif name == "adr":
            parts = _list(value)
            label = _text(params.get("label"))
            if label and not any(_text(part) for part in parts):
                # RIRs give the address only as a label ("street\ncity\n...").
                lines = [line.strip() for line in label.splitlines() if line.strip()]
                card.values.setdefault("street", ", ".join(lines))
            else:
                for index, field in _ADR_FIELDS.items():
                    if index < len(parts):
                        card.values.setdefault(field, _text(parts[index]))
            code = _text(params.get("cc"))
            if code and _COUNTRY_CODE.match(code):
                card.values["country"] = code
        elif name == "url" and card.url is None:
            card.url = _text(value)
    return card


def _clean_value(field: str, value: str, country: str | None) -> str:
    """Normalise what we can (E.164 phones, lower-case email); keep the text otherwise."""
    try:
        if field in ("phone", "fax"):
            return normalise_phone(value, field, region=country)
        if field == "email":
            return normalise_email(value, field)
        if field == "country":
            return value.upper() if _COUNTRY_CODE.match(value) else value
    except InvalidInput:
        pass
    if field in ("phone", "fax") and value.lower().startswith("tel:"):
        return value[4:].strip()
    if field == "email" and value.lower().startswith("mailto:"):
        return value[7:].strip()
    return value


def _build_contact(role: str, entity: dict[str, Any], marked: set[str]) -> Contact:
    """A Contact from an entity; fields in `marked` (RFC 9537) or holding a placeholder
    are left None and listed as redacted."""
    card = _read_card(entity.get("vcardArray"))
    values = dict(card.values)
    values["handle"] = _text(entity.get("handle"))
    contact = Contact(role=role)
    redacted: list[str] = []
    country_raw = values.get("country")
    country = country_raw.upper() if country_raw and _COUNTRY_CODE.match(country_raw) else None
    # An empty value means "withheld" in a person's contact, merely "not given" elsewhere
    # (Verisign sends an empty fn for every registrar's abuse desk).
    empty_is_redacted = role in _PERSONAL_ROLES
    for field in CONTACT_FIELDS:
        value = values.get(field)
        placeholder = value is not None and (
            (value == "" and empty_is_redacted) or (value != "" and is_redacted(value))
        )
        if field in marked or placeholder:
            redacted.append(field)
            continue
        if value:
            setattr(contact, field, _clean_value(field, value, country))
    if contact.country and not _COUNTRY_CODE.match(contact.country):
        contact.country = None  # a country name, not a code: the evidence keeps the text
    contact.redacted = _dedupe(redacted)
    return contact


# -- entities and RFC 9537 redaction --------------------------------------------------------


def _walk_entities(doc: dict[str, Any]) -> Iterator[tuple[dict[str, Any], list[str]]]:
    """Every entity at any depth, with its roles in lower case (depth is bounded by load)."""
    stack = list(reversed(_list(doc.get("entities"))))
    while stack:
        entity = stack.pop()
        if not isinstance(entity, dict):
            continue
        roles = [r.strip().lower() for r in _list(entity.get("roles")) if isinstance(r, str)]
        yield entity, roles
        stack.extend(reversed(_list(entity.get("entities"))))


def _redactions(doc: dict[str, Any]) -> tuple[list[str], dict[str, set[str]]]:
    """RFC 9537: the labels to report, and per contact role the fields removed."""
    labels: list[str] = []
    fields: dict[str, set[str]] = {}
    for entry in _list(doc.get("redacted")):
        entry = _dict(entry)
        name = _dict(entry.get("name"))
        label = _text(name.get("type")) or _text(name.get("description"))
        paths = [
            p
            for p in (_text(entry.get(key)) for key in ("prePath", "replacementPath", "postPath"))
            if p
        ]
        if not label and paths:
            label = paths[0]
        if not label:
            continue
        labels.append(label)
        role, field = _redaction_target(label, paths)
        if role and field:
            fields.setdefault(role, set()).add(field)
    return _dedupe(labels), fields


def _redaction_target(label: str, paths: list[str]) -> tuple[str | None, str | None]:
    words = label.strip().lower().split(None, 1)
    if len(words) == 2 and words[0] in _REDACTION_ROLES and words[1] in _REDACTION_FIELDS:
        return _REDACTION_ROLES[words[0]], _REDACTION_FIELDS[words[1]]
    for path in paths:
        role_match = _PATH_ROLE.search(path)
        if not role_match:
            continue
        role = _ROLES.get(role_match.group(1).lower())
        if path.rstrip().endswith(".handle"):
            return role, "handle"
        prop = _PATH_PROPERTY.search(path)
        if not prop:
            continue
        vcard = prop.group(1).lower()
        if vcard == "tel":
            return role, "fax" if "fax" in path.lower() else "phone"
        if vcard == "adr":
            index = _PATH_ADR_INDEX.search(path)
            return role, _ADR_FIELDS.get(int(index.group(1))) if index else "street"
        return role, _VCARD_FIELDS.get(vcard)
    return None, None


def _contacts(doc: dict[str, Any], marked: dict[str, set[str]]) -> list[Contact]:
    contacts: list[Contact] = []
    for entity, roles in _walk_entities(doc):
        for rdap_role in roles:
            role = _ROLES.get(rdap_role)
            if role:
                contacts.append(_build_contact(role, entity, marked.get(role, set())))
    present = {c.role for c in contacts}
    for role, fields in marked.items():
        if role not in present:
            # The whole entity was removed; say so rather than say nothing.
            ordered = [f for f in CONTACT_FIELDS if f in fields]
            contacts.append(Contact(role=role, redacted=ordered))
    return contacts


def _redacted_labels(labels: list[str], contacts: list[Contact]) -> list[str]:
    return _dedupe([*labels, *(f"{c.role}.{f}" for c in contacts for f in c.redacted)])


def _first_contact(contacts: list[Contact], role: str) -> Contact | None:
    return next((c for c in contacts if c.role == role), None)


# -- registrar ---------------------------------------------------------------------------


def _iana_id(entity: dict[str, Any]) -> str | None:
    for public_id in _list(entity.get("publicIds")):
        public_id = _dict(public_id)
        kind = (_text(public_id.get("type")) or "").lower()
        if "iana" in kind and "registrar" in kind:
            ident = _text(public_id.get("identifier"))
            if ident:
                return ident
    return None


def _registrar(doc: dict[str, Any], contacts: list[Contact]) -> Registrar | None:
    entity = next((e for e, roles in _walk_entities(doc) if "registrar" in roles), None)
    if entity is None:
        return None
    card = _read_card(entity.get("vcardArray"))
    name = card.values.get("name") or card.values.get("organisation")
    url = card.url
    if not url:
        url = next(
            (_text(link.get("href")) for link in _links(entity) if link.get("rel") == "about"),
            None,
        )
    abuse = None
    for nested, roles in _walk_entities(entity):
        if "abuse" in roles:
            abuse = _build_contact("abuse", nested, set())
            break
    registrar_contact = _first_contact(contacts, "registrar")
    return Registrar(
        name=name or None,
        iana_id=_iana_id(entity),
        whois_server=_text(entity.get("port43")) or None,
        url=url or None,
        rdap_url=_related_url(doc),
        abuse_email=abuse.email if abuse else None,
        abuse_phone=abuse.phone if abuse else None,
        country=registrar_contact.country if registrar_contact else None,
    )


def _related_url(doc: dict[str, Any]) -> str | None:
    candidates = []
    for link in _links(doc):
        rel = (_string(link.get("rel")) or "").lower()
        kind = (_string(link.get("type")) or "").lower().split(";")[0].strip()
        href = _string(link.get("href"))
        if (
            rel == "related"
            and kind == RDAP_MEDIA_TYPE
            and href
            and href.lower().startswith(("https://", "http://"))
        ):
            candidates.append(href)
    # A registry may link several documents; the registrar's domain document is the one.
    for href in candidates:
        if "/domain/" in href.lower():
            return href
    return candidates[0] if candidates else None


def document_port43(raw: bytes) -> str | None:
    """The WHOIS server a document names at its top level ("port43"): in a registrar's
    own domain document, the registrar's WHOIS server."""
    try:
        return _text(load_rdap_json(raw).get("port43")) or None
    except RdapParseError:
        return None


def related_registrar_url(raw: bytes) -> str | None:
    """The registrar's RDAP document for this domain ("related" link), if the registry
    gives one. None for anything that is not a readable RDAP document."""
    try:
        return _related_url(load_rdap_json(raw))
    except RdapParseError:
        return None


# -- domains -----------------------------------------------------------------------------


def _domain_name(doc: dict[str, Any]) -> str:
    for key in ("ldhName", "unicodeName"):
        name = _string(doc.get(key))
        if name:
            try:
                return normalise_hostname(name, "ldhName").ascii
            except InvalidInput:
                return name.lower().rstrip(".")
    raise RdapParseError("the domain document has no ldhName")


def _nameservers(doc: dict[str, Any]) -> list[str]:
    names: list[str] = []
    for server in _list(doc.get("nameservers")):
        server = _dict(server)
        name = _string(server.get("ldhName")) or _string(server.get("unicodeName"))
        if not name:
            continue
        try:
            names.append(normalise_hostname(name, "nameserver").ascii)
        except InvalidInput:
            names.append(name.lower().rstrip("."))
    return _dedupe(names)


def _dnssec(doc: dict[str, Any]) -> str | None:
    secure = doc.get("secureDNS")
    if not isinstance(secure, dict):
        return None
    signed = secure.get("delegationSigned")
    if isinstance(signed, bool):
        return "signed" if signed else "unsigned"
    return None


def parse_rdap_domain(raw: bytes, max_bytes: int = DEFAULT_MAX_DOCUMENT_BYTES) -> RegistrationFacts:
    """Facts from one domain document (a registry's or a registrar's)."""
    doc = load_rdap_json(raw, max_bytes)
    _expect_class(doc, "domain")
    labels, marked = _redactions(doc)
    contacts = _contacts(doc, marked)
    events = _events(doc)
    return RegistrationFacts(
        domain=_domain_name(doc),
        registrar=_registrar(doc, contacts),
        contacts=contacts,
        nameservers=_nameservers(doc),
        statuses=_dedupe([s.strip() for s in _list(doc.get("status")) if isinstance(s, str)]),
        created=events.get("registration"),
        updated=events.get("last changed"),
        expires=events.get("expiration"),
        dnssec=_dnssec(doc),
        redacted=_redacted_labels(labels, contacts),
    )


def merge_registration_facts(
    registry: RegistrationFacts, registrar: RegistrationFacts
) -> RegistrationFacts:
    """The registry's facts, completed by the registrar's document.

    The registry is authoritative for what it holds (dates, status, nameservers); the
    registrar's document fills what the registry lacks, above all the contacts of a thin
    registry. A contact field the registry redacted but the registrar gives is filled and
    no longer listed as redacted.
    """
    merged = dataclasses.replace(registry)
    merged.registrar = _merge_registrar(registry.registrar, registrar.registrar)
    merged.contacts = _merge_contacts(registry.contacts, registrar.contacts)
    merged.nameservers = registry.nameservers or registrar.nameservers
    merged.statuses = _dedupe([*registry.statuses, *registrar.statuses])
    merged.created = registry.created or registrar.created
    merged.updated = registry.updated or registrar.updated
    merged.expires = registry.expires or registrar.expires
    merged.dnssec = registry.dnssec or registrar.dnssec
    # RFC 9537 names stay; "role.field" labels are recomputed from the merged contacts.
    contact_labels = {f"{role}.{name}" for role in _ROLES.values() for name in CONTACT_FIELDS}
    merged.redacted = _dedupe(
        [
            *(
                label
                for label in [*registry.redacted, *registrar.redacted]
                if label not in contact_labels
            ),
            *(f"{c.role}.{name}" for c in merged.contacts for name in c.redacted),
        ]
    )
    return merged


def _merge_registrar(first: Registrar | None, second: Registrar | None) -> Registrar | None:
    if first is None or second is None:
        return first or second
    merged = dataclasses.replace(first)
    for field in dataclasses.fields(Registrar):
        if getattr(merged, field.name) is None:
            setattr(merged, field.name, getattr(second, field.name))
    return merged


def _merge_contacts(registry: list[Contact], registrar: list[Contact]) -> list[Contact]:
    merged = [dataclasses.replace(c, redacted=list(c.redacted)) for c in registry]
    for extra in registrar:
        same_role = _first_contact(merged, extra.role)
        if same_role is None:
            merged.append(dataclasses.replace(extra, redacted=list(extra.redacted)))
            continue
        for field in CONTACT_FIELDS:
            value = getattr(extra, field)
            if getattr(same_role, field) is None and value is not None:
                setattr(same_role, field, value)
                if field in same_role.redacted:
                    same_role.redacted.remove(field)
        for field in extra.redacted:
            if getattr(same_role, field) is None and field not in same_role.redacted:
                same_role.redacted.append(field)
    return merged


# -- IP networks and autonomous systems ------------------------------------------------------


def _cidrs(doc: dict[str, Any], start: str | None, end: str | None) -> list[str]:
    found: list[str] = []
    for entry in _list(doc.get("cidr0_cidrs")):
        entry = _dict(entry)
        prefix = _text(entry.get("v4prefix")) or _text(entry.get("v6prefix"))
        length = entry.get("length")
        if prefix and isinstance(length, int) and not isinstance(length, bool):
            try:
                found.append(ipaddress.ip_network(f"{prefix}/{length}", strict=False).compressed)
            except ValueError:
                continue
    if found or not (start and end):
        return _dedupe(found)
    try:
        first, last = ipaddress.ip_address(start), ipaddress.ip_address(end)
        if first.version == last.version and first <= last:
            networks = ipaddress.summarize_address_range(first, last)
            # A range that needs hundreds of blocks is not worth listing block by block.
            for _, network in zip(range(64), networks, strict=False):
                found.append(network.compressed)
    except (ValueError, TypeError):
        return []
    return found


def _origin_asn(doc: dict[str, Any]) -> int | None:
    # ARIN: "arin_originas0_originautnums": [64500]; other servers use similar names.
    for key, value in doc.items():
        if isinstance(key, str) and key.lower().endswith("originautnums"):
            for number in _list(value):
                if isinstance(number, int) and not isinstance(number, bool) and number >= 0:
                    return number
                if isinstance(number, str) and number.upper().removeprefix("AS").isdigit():
                    return int(number.upper().removeprefix("AS"))
    return None


def _network_common(doc: dict[str, Any], query: str | None, facts: NetworkFacts) -> None:
    _, marked = _redactions(doc)
    facts.contacts = _contacts(doc, marked)
    registrant = _first_contact(facts.contacts, "registrant")
    abuse = _first_contact(facts.contacts, "abuse")
    country = _text(doc.get("country"))
    if country and _COUNTRY_CODE.match(country):
        facts.country = country.upper()
    elif registrant and registrant.country:
        facts.country = registrant.country
    if registrant:
        facts.organisation = registrant.organisation or registrant.name
    if abuse:
        facts.abuse_email = abuse.email
        facts.abuse_phone = abuse.phone
    facts.handle = _text(doc.get("handle")) or None
    facts.name = _text(doc.get("name")) or None
    if query is None:
        query = facts.handle or ""
    facts.query = query


def parse_rdap_ip(
    raw: bytes, query: str | None = None, max_bytes: int = DEFAULT_MAX_DOCUMENT_BYTES
) -> NetworkFacts:
    """Facts from an IP network document (RIR style: ARIN, RIPE, APNIC, ...)."""
    doc = load_rdap_json(raw, max_bytes)
    _expect_class(doc, "ip network")
    if "objectClassName" not in doc and not (doc.get("startAddress") or doc.get("handle")):
        raise RdapParseError("the document is not an IP network (no startAddress or handle)")
    start = _text(doc.get("startAddress")) or None
    end = _text(doc.get("endAddress")) or None
    facts = NetworkFacts(query=query or "", start_address=start, end_address=end)
    _network_common(doc, query, facts)
    if query is None:
        facts.query = start or facts.handle or ""
    facts.cidrs = _cidrs(doc, start, end)
    facts.asn = _origin_asn(doc)
    return facts


def parse_rdap_autnum(
    raw: bytes, query: str | None = None, max_bytes: int = DEFAULT_MAX_DOCUMENT_BYTES
) -> NetworkFacts:
    """Facts from an autonomous system (autnum) document."""
    doc = load_rdap_json(raw, max_bytes)
    _expect_class(doc, "autnum")
    start = doc.get("startAutnum")
    if "objectClassName" not in doc and not (start or doc.get("handle")):
        raise RdapParseError("the document is not an autnum (no startAutnum or handle)")
    facts = NetworkFacts(query=query or "")
    _network_common(doc, query, facts)
    if isinstance(start, int) and not isinstance(start, bool) and start >= 0:
        facts.asn = start
    else:
        handle = (facts.handle or "").upper().removeprefix("AS")
        facts.asn = int(handle) if handle.isdigit() and len(handle) <= 10 else None
    if query is None:
        facts.query = f"AS{facts.asn}" if facts.asn is not None else facts.handle or ""
    return facts
