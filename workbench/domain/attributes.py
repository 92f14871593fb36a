"""The attributes each entity kind knows, and how a typed value becomes a stored one.

Attributes arrive as text (`--attr country=LU`, a form field) or as values from a parser;
`validate_attributes` returns JSON-ready values or raises `InvalidInput` naming the field.
Names not declared for a kind are kept as free text: investigators record what they see.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from workbench.domain.errors import InvalidInput
from workbench.domain.kinds import EntityKind, LineType, Recognition, parse_enum
from workbench.domain.normalise import clean_text, display_name, normalise_url
from workbench.domain.prices import Price, parse_price

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
MAX_COUNT = 10**12


def _country(value: Any, field: str) -> str:
    text = str(value).strip().upper()
    if not _COUNTRY.match(text):
        raise InvalidInput(field, value, "must be an ISO 3166 two-letter country code")
    return text


def _count(value: Any, field: str) -> int:
    try:
        number = int(str(value).replace("_", "").replace(",", "").strip())
    except ValueError:
        raise InvalidInput(field, value, "must be a whole number") from None
    if number < 0:
        raise InvalidInput(field, value, "must not be negative")
    if number > MAX_COUNT:
        # Larger than any real count, and than JSON readers (JavaScript, SQLite's json
        # functions) hold exactly: a typo, not a catalogue.
        raise InvalidInput(field, value, f"is larger than {MAX_COUNT:,}")
    return number


def _languages(value: Any, field: str) -> list[str]:
    items = value if isinstance(value, list) else str(value).split(",")
    languages = [display_name(str(item), field) for item in items if str(item).strip()]
    if not languages:
        raise InvalidInput(field, value, "is empty")
    return languages


def _prices(value: Any, field: str) -> list[dict]:
    items = value if isinstance(value, list) else [value]
    prices = []
    for item in items:
        if isinstance(item, Price):
            prices.append(item.as_dict())
        elif isinstance(item, dict):
            prices.append(
                parse_price(f"{item['amount']}:{item['currency']}:{item['unit']}", field).as_dict()
            )
        else:
            prices.append(parse_price(str(item), field).as_dict())
    return prices


def _urls(value: Any, field: str) -> list[str]:
    items = value if isinstance(value, list) else [value]
    return [normalise_url(str(item), field) for item in items]


def _text(value: Any, field: str) -> str:
    text = clean_text(str(value), field)
    if len(text) > 20_000:
        raise InvalidInput(field, value, "is longer than 20,000 characters")
    return text


def _enum(enum):
    return lambda value, field: parse_enum(enum, field, str(value)).value


_Validator = Callable[[Any, str], Any]

# Attributes every kind may carry: where a record came from and a note.
_COMMON: dict[str, _Validator] = {"source": _text, "note": _text}

SCHEMA: dict[EntityKind, dict[str, _Validator]] = {
    EntityKind.STOREFRONT: {
        "prices": _prices,
        "catalogue_size": _count,
        "languages": _languages,
        "operator": _text,
        "licence_claim": _text,
        "licence_number": _text,
        "market_notes": _text,
        "urls": _urls,
    },
    EntityKind.COLLECTING_SOCIETY: {
        "country": _country,
        "recognised_by_labels": _enum(Recognition),
        "full_name": _text,
    },
    EntityKind.LICENCE: {"issuer": _text},
    # `country` lets a national number (26 48 01 23) be read as E.164.
    EntityKind.PHONE: {"line_type": _enum(LineType), "country": _country},
    EntityKind.PERSON: {"country": _country, "city": _text, "address": _text},
    EntityKind.ORGANISATION: {"country": _country, "city": _text, "address": _text},
    EntityKind.REGISTRAR: {"iana_id": _text, "country": _country, "city": _text, "url": _text},
    EntityKind.NETWORK: {"name": _text, "asn": _count, "country": _country, "cidr": _text},
    EntityKind.IP_ADDRESS: {"country": _country},
    EntityKind.PAYMENT_PROCESSOR: {"country": _country},
}


def validate_attributes(kind: EntityKind, attrs: Mapping[str, Any]) -> dict[str, Any]:
    """Check and convert `attrs` for an entity of `kind`; None values are dropped."""
    known = {**_COMMON, **SCHEMA.get(kind, {})}
    clean: dict[str, Any] = {}
    for name, value in attrs.items():
        if value is None:
            continue
        if not _NAME.match(name):
            raise InvalidInput(
                "attribute name", name, "must be lower-case letters, digits and _ (e.g. country)"
            )
        validator = known.get(name, _text)
        clean[name] = validator(value, name)
    return clean


def parse_attribute_pairs(pairs: list[str]) -> dict[str, str]:
    """`["country=LU", "note=a=b"]` -> {"country": "LU", "note": "a=b"}."""
    attrs: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise InvalidInput("--attr", pair, "must be NAME=VALUE")
        attrs[name.strip()] = value
    return attrs
