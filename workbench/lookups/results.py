"""What a lookup hands back: the raw captures, a status, and the facts parsed from them.

Transports produce `Capture`s (the bytes exactly as received, where from, when) and a
`LookupOutcome`. Parsers produce the fact dataclasses below from raw bytes alone, so they
can be tested from fixtures with no network. Services turn facts into entities and links,
citing the evidence each capture became.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class LookupStatus(StrEnum):
    OK = "ok"
    NOT_FOUND = "not_found"  # the server answered: no such object (NXDOMAIN, 404, "No match")
    NO_DATA = "no_data"  # DNS: the name exists but has no record of this type
    FAILED = "failed"  # the server misbehaved: garbage, truncated, SERVFAIL, timeout, ...
    RATE_LIMITED = "rate_limited"  # the server refused us for asking too often
    OFFLINE = "offline"  # no route, refused connection, no resolver: nothing was asked


@dataclass(frozen=True)
class Capture:
    """One raw response, exactly as received, with where and when it came from.

    `server` is `host:port` for WHOIS and DNS, the URL for RDAP. `started_at` is UTC.
    """

    protocol: str  # "whois", "rdap", "dns"
    server: str
    query: str
    raw: bytes
    started_at: datetime
    elapsed_s: float
    media_type: str = "text/plain"


@dataclass
class LookupOutcome:
    """The result of one lookup of one kind for one query.

    A failed lookup keeps whatever it did receive in `captures` (a truncated response is
    evidence of what the server sent) and says why in `reason`; it is never empty data.
    """

    status: LookupStatus
    captures: list[Capture] = field(default_factory=list)
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.status is LookupStatus.OK


@dataclass
class Contact:
    """A contact from WHOIS or RDAP. A field whose value was a privacy placeholder is left
    None and its name listed in `redacted` (the placeholder stays in the evidence)."""

    role: str  # registrant, admin, tech, billing, abuse, registrar
    name: str | None = None
    organisation: str | None = None
    email: str | None = None
    phone: str | None = None
    fax: str | None = None
    street: str | None = None
    city: str | None = None
    postal_code: str | None = None
    country: str | None = None  # ISO 3166 alpha-2 where the source gives one
    handle: str | None = None
    redacted: list[str] = field(default_factory=list)


@dataclass
class Registrar:
    name: str | None = None
    iana_id: str | None = None
    whois_server: str | None = None  # the "Registrar WHOIS Server:" referral, if any
    url: str | None = None
    rdap_url: str | None = None  # the registrar's RDAP document ("related" link), if any
    abuse_email: str | None = None
    abuse_phone: str | None = None
    country: str | None = None


@dataclass
class RegistrationFacts:
    """What WHOIS or RDAP says about a domain's registration."""

    domain: str  # ASCII (A-label) form
    registrar: Registrar | None = None
    contacts: list[Contact] = field(default_factory=list)
    nameservers: list[str] = field(default_factory=list)  # ASCII, lower-case, no root dot
    statuses: list[str] = field(default_factory=list)
    created: datetime | None = None
    updated: datetime | None = None
    expires: datetime | None = None
    dnssec: str | None = None
    redacted: list[str] = field(default_factory=list)  # RFC 9537 paths or field names


@dataclass
class NetworkFacts:
    """What RDAP (or WHOIS) says about an IP address block or autonomous system."""

    query: str
    handle: str | None = None
    name: str | None = None
    cidrs: list[str] = field(default_factory=list)
    start_address: str | None = None
    end_address: str | None = None
    asn: int | None = None  # origin AS where the source gives one
    country: str | None = None
    abuse_email: str | None = None
    abuse_phone: str | None = None
    organisation: str | None = None
    contacts: list[Contact] = field(default_factory=list)


@dataclass
class DnsFacts:
    """The answers of one resolver for one name: each record type's values, as text.

    `outcomes` says, per record type, ok / not_found / no_data / failed, so a missing
    MX is distinguishable from a resolver that never answered.
    """

    name: str
    records: dict[str, list[str]] = field(default_factory=dict)  # "A" -> ["192.0.2.10"]
    outcomes: dict[str, LookupStatus] = field(default_factory=dict)
    ptr: dict[str, list[str]] = field(default_factory=dict)  # address -> names
    # Per address: the PTR query's ok / not_found / no_data / failed, like `outcomes`.
    ptr_outcomes: dict[str, LookupStatus] = field(default_factory=dict)
    # Why a record type (key "MX") or a PTR (key "PTR 192.0.2.10") is not ok: "NXDOMAIN",
    # "server answered SERVFAIL", "no answer within 2 s", ...
    reasons: dict[str, str] = field(default_factory=dict)

    @property
    def addresses(self) -> list[str]:
        return [*self.records.get("A", []), *self.records.get("AAAA", [])]
