"""Recording a storefront: the store itself, where it is served, who runs it, and the
licence it claims, as entities and links in one transaction.

A storefront is served at its URLs and at the domain of each; a URL whose host is an IP
address (`http://203.0.113.7/shop/`: pirate shops do run on bare addresses) is served at
that address instead, linked to the IP address entity, with no domain. Host names that
merely end in a number (`http://127.1/`) are still refused: every URL parser reads them
as addresses, but not all the same one.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from sqlite_utils import Database

from workbench.domain.kinds import EntityKind, LinkType
from workbench.domain.licence_claims import read_licence_claim
from workbench.domain.normalise import display_name, normalise_domain, normalise_ip, normalise_url
from workbench.domain.prices import Price
from workbench.store.database import writing
from workbench.store.entities import ensure_entity
from workbench.store.links import ensure_link


@dataclass
class StorefrontForm:
    """What the investigator enters about a storefront. Only `name` is required."""

    name: str
    urls: list[str] = field(default_factory=list)
    operator: str | None = None
    licence_claim: str | None = None
    licence_number: str | None = None  # read from the claim when not given
    societies: list[str] = field(default_factory=list)  # read from the claim when not given
    prices: list[Price] = field(default_factory=list)
    catalogue_size: int | None = None
    languages: list[str] = field(default_factory=list)
    market_notes: str | None = None
    note: str | None = None
    source: str | None = None


def record_storefront(db: Database, case_id: int, form: StorefrontForm) -> dict[str, Any]:
    """Create (or update) the storefront and everything its form names, linked.

    Returns {"storefront": entity, "entities": [...], "links": [...]}.
    """
    claim = read_licence_claim(form.licence_claim or "")
    licence_number = form.licence_number or claim.number
    societies = [(display_name(s, "society"), None) for s in form.societies] or [
        (society.abbreviation, society.name) for society in claim.societies
    ]
    # Validate the URLs up front so a bad one refuses the whole form.
    urls = [normalise_url(url, "url") for url in form.urls]
    addresses = list(dict.fromkeys(filter(None, map(url_address, urls))))
    domains = list(
        dict.fromkeys(normalise_domain(url, "url").ascii for url in urls if not url_address(url))
    )
    attrs: dict[str, Any] = {
        "urls": urls or None,
        "operator": form.operator,
        "licence_claim": form.licence_claim,
        "licence_number": licence_number,
        "prices": form.prices or None,
        "catalogue_size": form.catalogue_size,
        "languages": form.languages or None,
        "market_notes": form.market_notes,
        "note": form.note,
        "source": form.source,
    }
    made_entities = []
    made_links = []
    with writing(db):
        store = ensure_entity(db, EntityKind.STOREFRONT, form.name, attrs, case_id=case_id)

        def link(src, link_type, dst):
            made_links.append(ensure_link(db, src.id, link_type, dst.id, case_id=case_id))

        def entity(kind, value, extra=None):
            made = ensure_entity(db, kind, value, extra, case_id=case_id)
            made_entities.append(made)
            return made

        for url in urls:
            link(store, LinkType.SERVED_AT, entity(EntityKind.URL, url))
        for domain in domains:
            link(store, LinkType.SERVED_AT, entity(EntityKind.DOMAIN, domain))
        for address in addresses:
            link(store, LinkType.SERVED_AT, entity(EntityKind.IP_ADDRESS, address))
        if form.operator:
            link(entity(EntityKind.ORGANISATION, form.operator), LinkType.OPERATES, store)
        society_entities = []
        for abbreviation, full_name in societies:
            society = entity(
                EntityKind.COLLECTING_SOCIETY,
                abbreviation,
                {"full_name": full_name} if full_name else None,
            )
            society_entities.append(society)
            link(store, LinkType.CLAIMS_LICENCE_FROM, society)
        if licence_number:
            issuer = society_entities[0].value if society_entities else None
            licence = entity(
                EntityKind.LICENCE, licence_number, {"issuer": issuer} if issuer else None
            )
            link(store, LinkType.CLAIMS_LICENCE_FROM, licence)
            if society_entities:
                link(licence, LinkType.LICENCE_ISSUED_BY, society_entities[0])
    return {
        "storefront": store.as_dict(),
        "entities": [e.as_dict() for e in made_entities],
        "links": [lk.as_dict() for lk in made_links],
    }


def url_address(url: str) -> str | None:
    """The IP address an http(s) URL is served at when its host is an address literal
    (`http://203.0.113.7/shop/`, `http://[2001:db8::7]/`), canonical; None for a name."""
    try:
        host = urlsplit(url if "://" in url else "https://" + url).hostname
    except ValueError:
        return None
    if not host:
        return None
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return None
    return normalise_ip(host, "url")
