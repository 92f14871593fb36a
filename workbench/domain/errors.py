"""Exceptions that say what went wrong, in words an investigator can act on.

Every error the user can cause derives from `WorkbenchError`; the command line turns
these into one line on stderr and exit code 2, the UI into an inline message.
"""


class WorkbenchError(Exception):
    """Base class for errors the user can see and fix."""


class InvalidInput(WorkbenchError):
    """A value the user (or a file they opened) gave is not acceptable.

    `field` names what was being read ("domain", "price", "--at"), `value` is what was
    given, `reason` says why it was refused.
    """

    def __init__(self, field: str, value: object, reason: str):
        self.field = field
        self.value = value
        self.reason = reason
        super().__init__(f"invalid {field} {_show(value)}: {reason}")


class NotFound(WorkbenchError):
    """A case, entity, evidence item or event id that the store does not hold."""

    def __init__(self, what: str, ident: object):
        self.what = what
        self.ident = ident
        super().__init__(f"no {what} with id {_show(ident)}")


class StoreError(WorkbenchError):
    """The store file cannot be used: not SQLite, from a newer version, unwritable."""


class RedactedValue(InvalidInput):
    """A registrant field holds a privacy placeholder, which is never an entity."""

    def __init__(self, field: str, value: object):
        super().__init__(field, value, "is a redaction placeholder, not an identity")


def _show(value: object) -> str:
    """Quote a value for a message, with control characters made visible and length capped."""
    text = repr(value) if isinstance(value, str) else repr(str(value))
    return text if len(text) <= 120 else text[:117] + "...'"
