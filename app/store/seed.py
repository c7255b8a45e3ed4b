"""The demo business (ARCHITECTURE section 5): docs, tests and outside checks all rely on it."""
from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa

from app.dialog.business import Customer, Order, Store
from app.store.business import BUSINESS_TABLES, customers, orders, phone_digits, stores_table
from app.store.database import ensure_tables

JANE = "+15550100"
SAM = "+15550166"         # owns the other orders: an unknown caller proves it with 0166
HOURS = (("Monday to Saturday", "9 am to 8 pm"), ("Sunday", "10 am to 6 pm"))

DEMO_CUSTOMERS = (Customer(name="Jane Doe", phone=JANE, order_numbers=("48217", "30512")),
                  Customer(name="Sam Lee", phone=SAM,
                           order_numbers=("55129", "10347", "77201", "44810", "33602")))

DEMO_STORES = (
    Store(city="Portland", address="415 Alder Street", hours=HOURS),
    Store(city="Seattle", address="1520 Pine Street", hours=HOURS),
    Store(city="Denver", address="2300 Larimer Street", hours=HOURS),
    Store(city="Austin", address="601 Congress Avenue", hours=HOURS),
    Store(city="Boston", address="88 Boylston Street", hours=HOURS),
    Store(city="Chicago", address="233 Wabash Avenue", hours=HOURS),
)


class AlreadySeeded(RuntimeError):
    """The database already holds business data and replacing it was not asked for."""


def demo_orders(today: date) -> tuple[Order, ...]:
    """The demo orders, dated relative to `today` so "expected in two days" is true when seeded."""
    def ago(days: int) -> date:
        return today - timedelta(days=days)

    return (
        # Jane's orders: 48217 placed before 30512, so her most recent open order is 30512.
        Order("48217", "shipped", JANE, "blue rain jacket", "UPS",
              placed_on=ago(4), expected_delivery=ago(-2)),
        Order("30512", "processing", JANE, "pair of hiking boots",
              placed_on=ago(1), expected_delivery=ago(-6)),
        # The rest are Sam's (section 5 names only Jane's two): callers other than Sam hear their
        # details only after keying in the last 4 digits of his number (IVR_ORDER_DETAILS).
        Order("55129", "delivered", SAM, "coffee grinder", "FedEx",
              placed_on=ago(11), expected_delivery=ago(5), delivered_on=ago(5)),
        Order("10347", "delayed", SAM, "wool blanket", "USPS",
              placed_on=ago(9), expected_delivery=ago(-3)),  # the carrier's new estimate
        Order("77201", "cancelled", SAM, "desk lamp", placed_on=ago(6)),
        Order("44810", "delivered", SAM, "leather backpack", "UPS",
              placed_on=ago(15), expected_delivery=ago(10), delivered_on=ago(10)),
        Order("33602", "returned", SAM, "pair of running shoes", "USPS",
              placed_on=ago(30), expected_delivery=ago(24), delivered_on=ago(24),
              refund_issued_on=ago(3), refund_method="card"),
    )


def is_seeded(engine: sa.Engine) -> bool:
    """True when the business tables exist and hold any row (demo or the operator's own data)."""
    inspector = sa.inspect(engine)
    present = [t for t in BUSINESS_TABLES if inspector.has_table(t.name)]
    if not present:
        return False
    with engine.connect() as conn:
        return any(conn.execute(sa.select(t).limit(1)).first() is not None for t in present)


def seed_demo(engine: sa.Engine, today: date, replace: bool = False) -> None:
    """Write exactly the demo data; refuse (AlreadySeeded) over existing data unless `replace`."""
    ensure_tables(engine, BUSINESS_TABLES)
    try:
        with engine.begin() as conn:
            if replace:
                for table in reversed(BUSINESS_TABLES):
                    conn.execute(table.delete())
            elif any(conn.execute(sa.select(t).limit(1)).first() is not None for t in BUSINESS_TABLES):
                raise AlreadySeeded("the database already holds business data")
            conn.execute(customers.insert(), [_customer_row(c) for c in DEMO_CUSTOMERS])
            conn.execute(orders.insert(), [_order_row(o) for o in demo_orders(today)])
            conn.execute(stores_table.insert(), [_store_row(i, s) for i, s in enumerate(DEMO_STORES)])
    except sa.exc.IntegrityError:
        # Another process (a second `ivr seed --if-absent`) seeded between our check and insert.
        raise AlreadySeeded("the database already holds business data") from None


def _customer_row(customer: Customer) -> dict[str, object]:
    """A customers row (order numbers live on the orders rows)."""
    return {"phone": customer.phone, "phone_digits": phone_digits(customer.phone), "name": customer.name}


def _order_row(order: Order) -> dict[str, object]:
    """An orders row: column names are Order's field names."""
    return {c.name: getattr(order, c.name) for c in orders.columns}


def _store_row(position: int, store: Store) -> dict[str, object]:
    """A stores row; hours go in as a JSON list of [days, hours] pairs."""
    return {"city": store.city, "position": position, "address": store.address,
            "hours": [list(pair) for pair in store.hours]}
