"""Times are UTC, stored as ISO 8601 text that sorts as it reads: 2026-11-22T19:32:50.123456Z."""

from datetime import UTC, date, datetime, time

from workbench.domain.errors import InvalidInput


def utc_now() -> datetime:
    return datetime.now(UTC)


def to_iso(moment: datetime) -> str:
    """Aware datetime -> fixed-width UTC text (microseconds kept so order is exact)."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: every time in the store is UTC and must say so")
    # isoformat, not strftime: the same text (years 1000-9999) at a fraction of the cost,
    # and every stored row carries times.
    return moment.astimezone(UTC).isoformat(timespec="microseconds")[:-6] + "Z"


def from_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def parse_when(text: str, field: str) -> datetime:
    """A date or date-time typed by a person. A date means midnight UTC; a time without an
    offset is taken as UTC (the store keeps only UTC, and says so everywhere it shows time)."""
    raw = (text or "").strip()
    if not raw:
        raise InvalidInput(field, text, "is empty")
    try:
        if len(raw) == 10:
            moment = datetime.combine(date.fromisoformat(raw), time(), UTC)
        else:
            moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(
            field,
            text,
            "is not an ISO 8601 date or date-time (e.g. 2026-11-22 or 2026-11-22T14:30:00+01:00)",
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    if not 1970 <= moment.year <= 2200:
        raise InvalidInput(field, text, "is outside 1970-2200")
    return moment.astimezone(UTC)
