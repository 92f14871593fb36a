"""Prices as a storefront shows them: an exact amount, a currency, and what it buys."""

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from workbench.domain.errors import InvalidInput

_CURRENCY = re.compile(r"^[A-Z]{3}$")
_UNIT = re.compile(r"^[^\W\d_][\w -]{0,39}$")


@dataclass(frozen=True)
class Price:
    """`amount` stays a Decimal: 0.14 USD must not become 0.14000000000000001."""

    amount: Decimal
    currency: str  # ISO 4217
    unit: str  # track, album, song, month, ...

    def as_dict(self) -> dict:
        return {"amount": str(self.amount), "currency": self.currency, "unit": self.unit}

    @classmethod
    def from_dict(cls, data: dict) -> "Price":
        return cls(Decimal(data["amount"]), data["currency"], data["unit"])

    def __str__(self) -> str:
        return f"{self.amount} {self.currency} per {self.unit}"


def parse_price(text: str, field: str = "price") -> Price:
    """`AMOUNT:CURRENCY:UNIT`, e.g. `0.14:USD:track` or `1.76:usd:album`."""
    parts = (text or "").split(":")
    if len(parts) != 3:
        raise InvalidInput(field, text, "must be AMOUNT:CURRENCY:UNIT, e.g. 0.14:USD:track")
    amount_text, currency, unit = (part.strip() for part in parts)
    try:
        amount = Decimal(amount_text)
    except InvalidOperation:
        raise InvalidInput(field, text, f"amount {amount_text!r} is not a number") from None
    if not amount.is_finite() or amount < 0:
        raise InvalidInput(field, text, "amount must be a finite number of 0 or more")
    if amount.as_tuple().exponent < -6 or amount > Decimal("1e12"):
        raise InvalidInput(field, text, "amount is out of range")
    currency = currency.upper()
    if not _CURRENCY.match(currency):
        raise InvalidInput(field, text, f"currency {currency!r} is not an ISO 4217 code")
    unit = unit.lower()
    if not _UNIT.match(unit):
        raise InvalidInput(field, text, f"unit {unit!r} must be a word such as track or album")
    return Price(amount, currency, unit)
