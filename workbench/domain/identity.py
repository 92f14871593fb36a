"""What makes two records the same entity: the kind plus a normalised key.

`identify` returns the key (for deduplication) and the display form (what people read)
of a value of a given kind, refusing invalid values and privacy placeholders.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import phonenumbers

from workbench.domain.errors import RedactedValue
from workbench.domain.kinds import EntityKind
from workbench.domain.normalise import (
    display_name,
    name_key,
    normalise_domain,
    normalise_email,
    normalise_hostname,
    normalise_ip,
    normalise_network,
    normalise_phone,
    normalise_url,
)
from workbench.domain.redaction import is_redacted

# Kinds whose values describe a registrant and so may be privacy placeholders.
_CONTACT_KINDS = {EntityKind.PERSON, EntityKind.ORGANISATION, EntityKind.EMAIL, EntityKind.PHONE}


@dataclass(frozen=True)
class Identity:
    key: str
    display: str


def identify(kind: EntityKind, value: str, attrs: Mapping[str, Any] | None = None) -> Identity:
    """The dedup key and display form of `value` as an entity of `kind`."""
    attrs = attrs or {}
    field = kind.value
    if kind in _CONTACT_KINDS and isinstance(value, str) and is_redacted(value):
        raise RedactedValue(field, value)
    match kind:
        case EntityKind.DOMAIN:
            host = normalise_domain(value, field)
            return Identity(host.ascii, host.unicode)
        case EntityKind.NAMESERVER | EntityKind.HOST:
            host = normalise_hostname(value, field)
            return Identity(host.ascii, host.unicode)
        case EntityKind.EMAIL:
            email = normalise_email(value, field)
            return Identity(email, email)
        case EntityKind.PHONE:
            e164 = normalise_phone(value, field, region=attrs.get("country"))
            shown = phonenumbers.format_number(
                phonenumbers.parse(e164), phonenumbers.PhoneNumberFormat.INTERNATIONAL
            )
            return Identity(e164, shown)
        case EntityKind.URL:
            url = normalise_url(value, field)
            return Identity(url, url)
        case EntityKind.IP_ADDRESS:
            address = normalise_ip(value, field)
            return Identity(address, address)
        case EntityKind.NETWORK:
            return Identity(normalise_network(value, field), display_name(value, field))
        case EntityKind.LICENCE:
            number = display_name(value, field)
            issuer = attrs.get("issuer")
            key = name_key(number, field).upper()
            if issuer:
                key = f"{key}|{name_key(str(issuer), 'issuer')}"
            return Identity(key, f"{number} ({issuer})" if issuer else number)
        case _:
            return Identity(name_key(value, field), display_name(value, field))
