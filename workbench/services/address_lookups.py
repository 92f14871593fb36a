"""Looking up an address where a domain usually stands: a storefront served at a bare IP
(`http://203.0.113.7/shop/`) has no domain, so there is no WHOIS or RDAP registration to
ask for and no name to resolve. Those lookups are skipped, each with its reason; what
can be asked is the regional registry's RDAP document for the network holding the
address, recorded against the address entity (linked to its network, as a domain
lookup links the addresses it finds).

Domain runs (`lookup_runs`) keep a resumable list of domains; an address lookup is one
RDAP question, recorded in one transaction, so it needs no run: asked again, it records
a second snapshot, as a live lookup of a domain would.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from sqlite_utils import Database

from workbench.domain.errors import InvalidInput
from workbench.domain.kinds import EntityKind
from workbench.domain.normalise import normalise_ip
from workbench.lookups.results import LookupOutcome, NetworkFacts
from workbench.lookups.settings import LookupSettings
from workbench.services.recording import RecordedLookup, record_lookup, subject_entity
from workbench.services.storefronts import url_address
from workbench.store.cases import get_case
from workbench.store.database import writing

# Why each domain lookup does not apply to an address (said in the results).
SKIPPED = {
    "whois": "an address has no domain registration",
    "rdap": "an address has no domain registration (its network is asked instead)",
    "dns": "an address has no name to resolve",
}


def address_in(text: str) -> str | None:
    """The address a lookup target names: an IP literal, or an http(s) URL whose host is
    one (a storefront on a bare address); None for anything else (a domain, or input the
    domain parser refuses with its own reason)."""
    value = text.strip()
    if not value or value.startswith("-"):
        return None
    if "://" in value:
        return url_address(value) if value.lower().startswith(("http://", "https://")) else None
    try:
        return normalise_ip(value)
    except InvalidInput:
        return None


@dataclass
class AddressLookup:
    """What looking up one address recorded, for the command's table and `--json`."""

    address: str
    entity_id: int
    lookups: list[RecordedLookup] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "query": self.address,
            "display": self.address,
            "kind": "address",
            "entity_id": self.entity_id,
            "skipped": self.skipped,
            "lookups": [lookup.as_dict() for lookup in self.lookups],
        }


def look_up_addresses(
    db: Database,
    addresses: list[str],
    settings: LookupSettings,
    *,
    case_id: int | None,
    ip_rdap: bool = True,
) -> list[AddressLookup]:
    """RDAP of each address (unless `ip_rdap` is off), recorded against the address entity
    in `case_id`; WHOIS, domain RDAP and DNS are skipped with their reasons. Network
    problems are outcomes (recorded), never exceptions."""
    addresses = list(dict.fromkeys(normalise_ip(a) for a in addresses))
    if case_id is not None:
        get_case(db, case_id)  # an unknown case is refused before anything is asked
    answers = asyncio.run(_ask(addresses, settings)) if ip_rdap and addresses else {}
    results = []
    for address in addresses:
        skipped = dict(SKIPPED)
        if not ip_rdap:
            skipped["rdap_ip"] = "RDAP of addresses was turned off"
        with writing(db):
            entity = subject_entity(db, EntityKind.IP_ADDRESS, address, case_id)
            result = AddressLookup(address, entity.id, skipped=skipped)
            if address in answers:
                outcome, facts = answers[address]
                result.lookups.append(
                    record_lookup(
                        db,
                        subject=entity,
                        protocol="rdap_ip",
                        outcome=outcome,
                        facts=facts,
                        case_id=case_id,
                    )
                )
        results.append(result)
    return results


async def _ask(
    addresses: list[str], settings: LookupSettings
) -> dict[str, tuple[LookupOutcome, NetworkFacts | None]]:
    # The network stack loads only when something is asked.
    from workbench.lookups.session import LookupSession

    async with LookupSession(settings) as session:
        answers = await asyncio.gather(*(session.rdap_ip(address) for address in addresses))
    return dict(zip(addresses, answers, strict=True))
