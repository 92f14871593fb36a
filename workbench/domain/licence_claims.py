"""Read the licence number and the collecting society out of a storefront's claim.

Pirate stores quote their "licence" in set phrases ("authorized by the license # 49/ZM-07
of the Russian Multimedia and Internet Society (ROMS)"). Pulling the number and the society
out makes them entities, so that two stores quoting the same society link by themselves.
"""

import re
from dataclasses import dataclass

_NUMBER = re.compile(
    r"licen[cs]e\s*(?:#|№|no\.?|number|nr\.?)\s*:?\s*(?P<number>[\w][\w/.\-]*[\w])", re.IGNORECASE
)
_SOCIETY = re.compile(
    r"(?P<name>(?:[A-Z][\w-]*\s+)*(?:[A-Z][\w-]*\s+)?(?:and\s+|for\s+|of\s+|[A-Z][\w-]*\s+)*"
    r"(?:Society|Federation|Association|Agency|Organi[sz]ation)(?:\s+for[\w\s]+?)?)"
    r"\s*\((?P<abbr>[A-Z]{2,10})\)"
)


@dataclass(frozen=True)
class Society:
    abbreviation: str
    name: str


@dataclass(frozen=True)
class LicenceClaim:
    number: str | None
    societies: list[Society]  # in the order the claim names them


def read_licence_claim(text: str) -> LicenceClaim:
    text = text or ""
    number = _NUMBER.search(text)
    societies = []
    for match in _SOCIETY.finditer(text):
        name = " ".join(match.group("name").split())
        name = re.sub(r"^(?:the|and|of|by)\s+", "", name, flags=re.IGNORECASE)
        societies.append(Society(match.group("abbr"), name))
    return LicenceClaim(number.group("number") if number else None, societies)
