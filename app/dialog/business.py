"""Business records the dialog reasons about: customers, orders, stores (plain dataclasses)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

ORDER_STATUSES = ("processing", "shipped", "delivered", "delayed", "cancelled", "returned")


@dataclass(frozen=True)
class Customer:
    """A known caller."""

    name: str
    phone: str
    order_numbers: tuple[str, ...] = ()

    @property
    def first_name(self) -> str:
        """The name the bot greets with."""
        return self.name.split()[0] if self.name else ""


@dataclass(frozen=True)
class Order:
    """One order as the business system knows it."""

    number: str
    status: str
    customer_phone: str | None = None
    item: str = ""
    carrier: str | None = None
    placed_on: date | None = None
    expected_delivery: date | None = None
    delivered_on: date | None = None
    refund_issued_on: date | None = None
    refund_method: str | None = None
    return_window_days: int = 30

    @property
    def can_cancel(self) -> bool:
        """Only an order that has not left the warehouse can be cancelled."""
        return self.status == "processing"

    def return_deadline(self) -> date | None:
        """Last day a delivered order can be sent back."""
        if self.status != "delivered" or self.delivered_on is None:
            return None
        from datetime import timedelta
        return self.delivered_on + timedelta(days=self.return_window_days)


@dataclass(frozen=True)
class Store:
    """A shop callers can visit."""

    city: str
    address: str
    hours: tuple[tuple[str, str], ...] = field(default_factory=tuple)  # (days, "9 am to 8 pm")
