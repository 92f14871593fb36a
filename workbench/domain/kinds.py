"""The closed vocabularies of the model: entity kinds, link types, statuses.

They are `StrEnum`s so that they store as plain text and compare equal to it.
"""

from enum import StrEnum
from typing import TypeVar

from workbench.domain.errors import InvalidInput


class CaseStatus(StrEnum):
    OPEN = "open"
    REFERRED = "referred"
    CLOSED = "closed"


class EntityKind(StrEnum):
    STOREFRONT = "storefront"
    DOMAIN = "domain"
    PERSON = "person"
    ORGANISATION = "organisation"
    REGISTRAR = "registrar"
    COLLECTING_SOCIETY = "collecting_society"
    LICENCE = "licence"
    PAYMENT_PROCESSOR = "payment_processor"
    IP_ADDRESS = "ip_address"
    NETWORK = "network"
    NAMESERVER = "nameserver"
    EMAIL = "email"
    PHONE = "phone"
    URL = "url"
    HOST = "host"  # a DNS name that is not a registrable domain: MX hosts, PTR and CNAME targets


class LinkType(StrEnum):
    OPERATES = "operates"
    REGISTERED_TO = "registered_to"
    REGISTERED_VIA = "registered_via"
    CLAIMS_LICENCE_FROM = "claims_licence_from"
    LICENCE_ISSUED_BY = "licence_issued_by"
    ACCEPTS_PAYMENT_VIA = "accepts_payment_via"
    RESOLVES_TO = "resolves_to"
    USES_NAMESERVER = "uses_nameserver"
    MAIL_HANDLED_BY = "mail_handled_by"
    HOSTED_BY = "hosted_by"
    CONTACT_EMAIL = "contact_email"
    CONTACT_PHONE = "contact_phone"
    SAME_AS = "same_as"
    ALIAS_OF = "alias_of"  # a DNS CNAME
    REVERSE_DNS = "reverse_dns"  # an address's PTR name
    SERVED_AT = "served_at"  # a storefront is served at a domain or URL
    # Anything else is free-form: stored as `related` with the user's label kept.
    RELATED = "related"


class EvidenceKind(StrEnum):
    WHOIS = "whois"
    RDAP = "rdap"
    DNS = "dns"
    PAGE_CAPTURE = "page_capture"
    EMAIL = "email"
    DOCUMENT = "document"
    NOTE = "note"
    FILE = "file"


class EventKind(StrEnum):
    OBSERVATION = "observation"
    LOOKUP = "lookup"
    CONTACT_ATTEMPT = "contact_attempt"
    NOTICE_SENT = "notice_sent"
    RESPONSE = "response"
    LEGAL_ACTION = "legal_action"
    NOTE = "note"


class LineType(StrEnum):
    VOICE = "voice"
    FAX = "fax"
    UNKNOWN = "unknown"


class Recognition(StrEnum):
    """Whether the labels recognise a collecting society's licences."""

    YES = "yes"
    NO = "no"
    UNKNOWN = "unknown"


E = TypeVar("E", bound=StrEnum)


def parse_enum(enum: type[E], field: str, value: str) -> E:
    """Read `value` as a member of `enum`, or say which values are allowed."""
    try:
        return enum(value.strip().lower())
    except ValueError:
        allowed = ", ".join(member.value for member in enum)
        raise InvalidInput(field, value, f"must be one of: {allowed}") from None
