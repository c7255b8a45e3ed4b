"""Business data (customers, orders, stores): the interface and its SQL implementation."""
from __future__ import annotations

import re
from typing import Protocol, runtime_checkable

import sqlalchemy as sa

from app.dialog.business import Customer, Order, Store
from app.store.database import ensure_tables, metadata

# An order in one of these states needs nothing more from the caller or the carrier.
CLOSED_STATUSES = ("delivered", "cancelled", "returned")

customers = sa.Table(
    "customers", metadata,
    sa.Column("phone", sa.String(32), primary_key=True),          # E.164, as shown to people
    sa.Column("phone_digits", sa.String(32), nullable=False, unique=True),  # lookup key
    sa.Column("name", sa.String(200), nullable=False),
)

orders = sa.Table(
    "orders", metadata,
    sa.Column("number", sa.String(32), primary_key=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("customer_phone", sa.String(32), nullable=True, index=True),
    sa.Column("item", sa.String(200), nullable=False, default=""),
    sa.Column("carrier", sa.String(64), nullable=True),
    sa.Column("placed_on", sa.Date, nullable=True),
    sa.Column("expected_delivery", sa.Date, nullable=True),
    sa.Column("delivered_on", sa.Date, nullable=True),
    sa.Column("refund_issued_on", sa.Date, nullable=True),
    sa.Column("refund_method", sa.String(32), nullable=True),
    sa.Column("return_window_days", sa.Integer, nullable=False, default=30),
)

stores_table = sa.Table(
    "stores", metadata,
    sa.Column("city", sa.String(64), primary_key=True),
    sa.Column("position", sa.Integer, nullable=False),              # keeps the operator's order
    sa.Column("address", sa.String(200), nullable=False),
    sa.Column("hours", sa.JSON, nullable=False),                    # [[days, hours], ...]
)

BUSINESS_TABLES = [customers, orders, stores_table]


@runtime_checkable
class BusinessData(Protocol):
    """What the dialog asks of the business system; an operator can plug in their own."""

    def customer_by_phone(self, phone: str) -> Customer | None:
        """The customer with this phone number, whatever its formatting."""

    def order(self, number: str) -> Order | None:
        """One order by its number."""

    def recent_open_order(self, phone: str) -> Order | None:
        """The caller's open order with the latest placed_on (ties: the higher number)."""

    def stores(self) -> tuple[Store, ...]:
        """Every store, in the operator's order."""

    def cancel_order(self, number: str) -> Order | None:
        """Cancel a processing order; return the order as it now is (unchanged if not cancellable)."""


def phone_digits(phone: str) -> str:
    """The digits of a phone number: '+1 (555) 0100' and '15550100' are the same caller."""
    return re.sub(r"\D", "", phone or "")


def order_from_row(row: sa.Row) -> Order:
    """Columns are named after Order's fields, so a row maps straight onto it."""
    return Order(**row._mapping)


class SqlBusinessData:
    """BusinessData over the customers, orders and stores tables of any SQLAlchemy engine."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        ensure_tables(engine, BUSINESS_TABLES)

    def customer_by_phone(self, phone: str) -> Customer | None:
        """The customer with this phone number, whatever its formatting."""
        digits = phone_digits(phone)
        if not digits:
            return None  # "anonymous", "client:alice": no number to match
        with self.engine.connect() as conn:
            rows = conn.execute(_CUSTOMER, {"digits": digits}).all()
        if not rows:
            return None
        numbers = tuple(row.number for row in rows if row.number is not None)
        return Customer(name=rows[0].name, phone=rows[0].phone, order_numbers=numbers)

    def order(self, number: str) -> Order | None:
        """One order by its number."""
        with self.engine.connect() as conn:
            row = conn.execute(_ORDER, {"number": number.strip()}).first()
        return order_from_row(row) if row is not None else None

    def recent_open_order(self, phone: str) -> Order | None:
        """The caller's open order with the latest placed_on (ties: the higher number)."""
        digits = phone_digits(phone)
        if not digits:
            return None
        with self.engine.connect() as conn:
            row = conn.execute(_RECENT_OPEN, {"digits": digits}).first()
        return order_from_row(row) if row is not None else None

    def stores(self) -> tuple[Store, ...]:
        """Every store, in the operator's order."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(stores_table).order_by(stores_table.c.position)).all()
        return tuple(
            Store(city=r.city, address=r.address, hours=tuple((days, hours) for days, hours in r.hours))
            for r in rows
        )

    def cancel_order(self, number: str) -> Order | None:
        """Cancel a processing order; return the order as it now is (unchanged if not cancellable)."""
        number = number.strip()
        # One conditional UPDATE: two callers cancelling at once cannot both pass a status check.
        with self.engine.begin() as conn:
            conn.execute(
                orders.update()
                .where(orders.c.number == number, orders.c.status == "processing")
                .values(status="cancelled")
            )
        return self.order(number)


# Built once and given their values at execution: every new call runs them, and building a
# statement costs more CPU than SQLite takes to answer it.
# The customer and their order numbers in one query: a row per order, or one with no number.
_CUSTOMER = (sa.select(customers.c.name, customers.c.phone, orders.c.number)
             .select_from(customers.outerjoin(orders, orders.c.customer_phone == customers.c.phone))
             .where(customers.c.phone_digits == sa.bindparam("digits"))
             .order_by(orders.c.placed_on, orders.c.number))
_ORDER = sa.select(orders).where(orders.c.number == sa.bindparam("number"))
_RECENT_OPEN = (
    sa.select(orders)
    .where(orders.c.customer_phone == sa.select(customers.c.phone)
           .where(customers.c.phone_digits == sa.bindparam("digits")).scalar_subquery(),
           orders.c.status.not_in(CLOSED_STATUSES))
    .order_by(orders.c.placed_on.desc().nulls_last(), orders.c.number.desc())
    .limit(1)
)
