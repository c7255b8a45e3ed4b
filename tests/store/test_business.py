"""SqlBusinessData over the seeded demo data, on SQLite and PostgreSQL (ARCHITECTURE section 5)."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.dialog.business import Customer, Order, Store
from app.store.business import BusinessData, SqlBusinessData, customers
from tests.store.conftest import TODAY

HOURS = (("Monday to Saturday", "9 am to 8 pm"), ("Sunday", "10 am to 6 pm"))
CITIES = ("Portland", "Seattle", "Denver", "Austin", "Boston", "Chicago")


def days(n: int):
    """TODAY shifted by n days (negative: in the past)."""
    return TODAY + timedelta(days=n)


@pytest.fixture
def data(seeded: sa.Engine) -> SqlBusinessData:
    return SqlBusinessData(seeded)


def test_it_is_a_business_data(data: SqlBusinessData) -> None:
    assert isinstance(data, BusinessData)


@pytest.mark.parametrize("phone", ["+15550100", "15550100", "+1 555 0100", "+1 (555) 01-00", " +1-555-0100 "])
def test_jane_is_found_whatever_the_formatting(data: SqlBusinessData, phone: str) -> None:
    jane = data.customer_by_phone(phone)
    assert jane == Customer(name="Jane Doe", phone="+15550100", order_numbers=("48217", "30512"))
    assert jane.first_name == "Jane"


def test_a_customer_without_orders_is_still_known(data: SqlBusinessData, seeded: sa.Engine) -> None:
    with seeded.begin() as conn:
        conn.execute(customers.insert(), {"phone": "+15550177", "phone_digits": "15550177", "name": "Sam Lee"})
    assert data.customer_by_phone("+1 555 0177") == Customer(name="Sam Lee", phone="+15550177", order_numbers=())
    assert data.recent_open_order("+15550177") is None


@pytest.mark.parametrize("phone", ["+15550199", "5550100", "", "anonymous", "client:alice"])
def test_unknown_callers(data: SqlBusinessData, phone: str) -> None:
    assert data.customer_by_phone(phone) is None
    assert data.recent_open_order(phone) is None


def test_shipped_order_is_on_its_way_due_in_two_days(data: SqlBusinessData) -> None:
    order = data.order("48217")
    assert order.status == "shipped" and order.customer_phone == "+15550100"
    assert order.carrier == "UPS" and order.item == "blue rain jacket"
    assert order.expected_delivery == days(2) and order.delivered_on is None
    assert not order.can_cancel


def test_processing_order_can_be_cancelled(data: SqlBusinessData) -> None:
    order = data.order("30512")
    assert order.status == "processing" and order.customer_phone == "+15550100"
    assert order.carrier is None and order.delivered_on is None
    assert order.can_cancel


def test_delivered_order(data: SqlBusinessData) -> None:
    order = data.order("55129")
    assert order.status == "delivered" and order.delivered_on == days(-5)
    assert order.customer_phone == "+15550166"      # Sam Lee's: other callers verify before details


def test_delayed_order_is_with_the_carrier(data: SqlBusinessData) -> None:
    order = data.order("10347")
    assert order.status == "delayed" and order.carrier and order.delivered_on is None


def test_cancelled_order(data: SqlBusinessData) -> None:
    order = data.order("77201")
    assert order.status == "cancelled" and not order.can_cancel and order.delivered_on is None


def test_delivered_ten_days_ago_is_returnable_for_thirty(data: SqlBusinessData) -> None:
    order = data.order("44810")
    assert order.status == "delivered" and order.delivered_on == days(-10)
    assert order.return_window_days == 30 and order.return_deadline() == days(20)


def test_returned_order_was_refunded_to_the_card(data: SqlBusinessData) -> None:
    order = data.order("33602")
    assert order.status == "returned"
    assert order.refund_issued_on == days(-3) and order.refund_method == "card"


def test_every_demo_order_has_an_item_and_a_placed_date(data: SqlBusinessData) -> None:
    for number in ("48217", "30512", "55129", "10347", "77201", "44810", "33602"):
        order = data.order(number)
        assert isinstance(order, Order) and order.number == number
        assert order.item and order.placed_on is not None and order.placed_on <= TODAY


def test_unknown_order(data: SqlBusinessData) -> None:
    assert data.order("99999") is None
    assert data.order(" 48217 ").number == "48217"


def test_recent_open_order_is_the_latest_placed(data: SqlBusinessData) -> None:
    # Both of Jane's orders are open; 30512 was placed yesterday, 48217 four days ago.
    assert data.recent_open_order("+1 555 0100").number == "30512"
    data.cancel_order("30512")
    assert data.recent_open_order("+15550100").number == "48217"


def test_stores(data: SqlBusinessData) -> None:
    stores = data.stores()
    assert tuple(s.city for s in stores) == CITIES
    for store in stores:
        assert isinstance(store, Store) and store.hours == HOURS
        assert store.address[0].isdigit() and store.address.endswith(("Street", "Avenue"))


def test_cancel_processing_order(data: SqlBusinessData) -> None:
    cancelled = data.cancel_order("30512")
    assert cancelled.status == "cancelled" and not cancelled.can_cancel
    assert data.order("30512").status == "cancelled"


@pytest.mark.parametrize("number", ["48217", "55129", "10347", "77201", "44810", "33602"])
def test_cancel_leaves_other_orders_unchanged(data: SqlBusinessData, number: str) -> None:
    before = data.order(number)
    assert data.cancel_order(number) == before
    assert data.order(number) == before


def test_cancel_unknown_order(data: SqlBusinessData) -> None:
    assert data.cancel_order("99999") is None


def test_empty_database_answers_nothing(engine: sa.Engine) -> None:
    data = SqlBusinessData(engine)  # creates the tables it needs
    assert data.customer_by_phone("+15550100") is None
    assert data.order("48217") is None and data.stores() == ()
