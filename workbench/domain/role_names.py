"""Names that describe a desk, not a person: "Hostmaster", "Technical Department",
"Vienna Domains Abuse Desk". Registrars put them in the tech and admin contacts of every
customer's domain, so as persons they would link unrelated customers, the same false link
a redaction placeholder would make."""

import re

_ROLE_WORDS = re.compile(
    r"\b(host|post|web)master\b|\bhostmaster|\btech(nical)?\b|\badmin(istrat(or|ion))?\b"
    r"|\babuse\b|\bsupport\b|\bnoc\b|\bhelp\s*desk\b|\bdesk\b|\bdepartment\b|\bteam\b"
    r"|\boperations\b|\bdomain\s+(manager|management|admin)\b|\bdns\b|\bbilling\b",
    re.IGNORECASE,
)


def is_role_name(name: str | None) -> bool:
    """True when `name` names a function ("Hostmaster") rather than someone."""
    return bool(name and _ROLE_WORDS.search(name))
