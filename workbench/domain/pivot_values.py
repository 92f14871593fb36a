"""The attribute values that link entities by themselves: two storefronts quoting the same
licence number, naming the same operator, using the same licence wording, or selling on the
same price model are leads before anyone links them.

`pivot_values` derives (name, value) pairs from an entity's attributes; the store indexes
them, and the cross-case query reports two cases sharing one. Pure functions: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from workbench.domain.normalise import name_key
from workbench.domain.redaction import is_redacted

# Attributes whose whole value is the lead.
EXACT_ATTRIBUTES = ("licence_number", "operator", "iana_id", "asn")

# Licence wording: runs of this many words shared by two claims. Eight words is long enough
# that "the Russian Federation" alone does not link stores, short enough that a clause
# reworded around a fixed formula ("subject to the Law of the Russian Federation") does.
WORDING_RUN = 8

# Price bands that mark the "album for a dollar" model of the pirate stores this tool is for.
# Prices in other currencies are not converted (no exchange rates offline), so not banded.
_BANDS = {
    ("USD", "album"): (Decimal("2.00"), "album under USD 2"),
    ("USD", "track"): (Decimal("0.20"), "track under USD 0.20"),
}
_UNIT_SYNONYMS = {"song": "track", "tracks": "track", "songs": "track", "albums": "album"}
_WORD = re.compile(r"[^\W_]+(?:['’/-][^\W_]+)*")


def wording_words(text: str) -> list[str]:
    """The words of a claim, case-folded, punctuation dropped."""
    return [word.casefold() for word in _WORD.findall(text or "")]


def wording_runs(text: str) -> set[str]:
    words = wording_words(text)
    return {" ".join(words[i : i + WORDING_RUN]) for i in range(len(words) - WORDING_RUN + 1)}


def price_bands(prices: list[Mapping[str, Any]]) -> set[str]:
    bands = set()
    for price in prices or []:
        unit = _UNIT_SYNONYMS.get(str(price.get("unit")), str(price.get("unit")))
        band = _BANDS.get((str(price.get("currency")), unit))
        if band is not None and Decimal(str(price.get("amount"))) < band[0]:
            bands.add(band[1])
    return bands


def pivot_values(attrs: Mapping[str, Any]) -> set[tuple[str, str]]:
    """Every (name, value) pair of `attrs` that should link entities sharing it."""
    values: set[tuple[str, str]] = set()
    for name in EXACT_ATTRIBUTES:
        value = attrs.get(name)
        if value is not None and not (isinstance(value, str) and is_redacted(value)):
            values.add((name, name_key(str(value), name)))
    for run in wording_runs(attrs.get("licence_claim") or ""):
        values.add(("licence_wording", run))
    for band in price_bands(attrs.get("prices") or []):
        values.add(("price_model", band))
    return values


def common_wording(first: str, second: str) -> str:
    """The longest run of words two claims share, as the first one writes it (for display)."""
    from difflib import SequenceMatcher

    a, b = wording_words(first), wording_words(second)
    match = SequenceMatcher(None, a, b, autojunk=False).find_longest_match(0, len(a), 0, len(b))
    return " ".join(a[match.a : match.a + match.size])
