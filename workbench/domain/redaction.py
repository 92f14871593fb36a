"""Recognise privacy placeholders in registration data.

Registries and registrars replace registrant data with placeholders ("REDACTED FOR
PRIVACY", "Data Protected", RFC 9537 markers). Such a value says nothing about who the
registrant is, so it is recorded as redacted and never becomes an entity: two domains
that both say "REDACTED FOR PRIVACY" are not linked by it.
"""

import re

_PLACEHOLDERS = re.compile(
    r"""
    redacted                                  # REDACTED FOR PRIVACY, [REDACTED], Redacted by ...
    | data\s+protected                        # Data Protected, Not Disclosed - Data Protected
    | not\s+disclosed | non[-\s]?public\s+data | not\s+available\s+from\s+registry
    | withheld | gdpr | privacy\s+(service|protect|guard) | whois\s*guard
    | domains\s+by\s+proxy | contact\s+privacy | perfect\s+privacy | privacyprotect
    | identity\s+protect | domain\s+protection\s+services | statutory\s+masking
    | please\s+query\s+the\s+rdds | hidden\s+upon\s+user\s+request | registration\s+private
    | ^\s*private\s+person\s*$                # TCI (.ru, .su, .рф) for every private registrant
    | ^\s*(n/?a|none|null|private|hidden|unknown|-+|\*+|x+)\s*$
    """,
    re.IGNORECASE | re.VERBOSE,
)

# Email addresses that forward to the real registrant without naming them.
_FORWARDING_EMAIL = re.compile(
    r"@(.+\.)?(withheldforprivacy|domainsbyproxy|contactprivacy|privacyguardian|whoisguard"
    r"|anonymize|proxy\.dreamhost|privacy)\.",
    re.IGNORECASE,
)


def is_redacted(value: str | None) -> bool:
    """True when `value` is a privacy placeholder rather than real registrant data."""
    if value is None:
        return False
    text = value.strip()
    if not text:
        return False
    return bool(_PLACEHOLDERS.search(text) or _FORWARDING_EMAIL.search(text))
