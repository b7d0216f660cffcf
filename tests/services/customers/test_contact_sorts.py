"""The customer list sorted by last contact (最近联系) and by next planned experience
(下次计划体验): both directions page forward and back over the same customers, ties by id,
and customers without a value come last whichever way the list sorts. The dates come from
the experiences as ``crm.services.planning.contact_dates`` reads them: held (done or a
no-show) for contact, still planned from today on for the next."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from crm.core.clock import local_today
from crm.extensions import db
from crm.models import Experience
from crm.models.enums import ExperienceStatus, PlanOrigin, Touchpoint
from crm.services.customers.customer_list import CustomerFilters, list_customers
from crm.services.planning import contact_dates
from tests.services.customers.test_customer_list import walk
from tests.support.factories import make_customer

DONE, NO_SHOW = ExperienceStatus.DONE, ExperienceStatus.NO_SHOW
PLANNED, CANCELLED = ExperienceStatus.PLANNED, ExperienceStatus.CANCELLED

# Alice's five, made in this order after the world's 张伟 (who has no experience at all):
# (status, days from today) of each one's experiences.
HISTORY = {
    "孙丽": [(DONE, -34), (PLANNED, 20)],
    "周强": [(NO_SHOW, -34), (DONE, -60), (PLANNED, 10)],  # ties 孙丽's contact
    "吴敏": [(DONE, -65), (PLANNED, -3), (CANCELLED, 5)],  # overdue and cancelled: no next
    "郑洁": [(PLANNED, 10), (CANCELLED, -1)],  # ties 周强's next; never contacted
    "冯涛": [(PLANNED, 0), (PLANNED, 30)],  # due today is next; never contacted
}

EXPECTED = {
    "contact_recent": ["周强", "孙丽", "吴敏", "冯涛", "郑洁", "张伟"],
    "contact_oldest": ["吴敏", "孙丽", "周强", "张伟", "郑洁", "冯涛"],
    "planned_soonest": ["冯涛", "周强", "郑洁", "孙丽", "张伟", "吴敏"],
    "planned_latest": ["孙丽", "郑洁", "周强", "冯涛", "吴敏", "张伟"],
}


def add_experience(customer, status, days, today):
    day = today + timedelta(days=days)
    db.session.add(
        Experience(
            customer=customer,
            category=Touchpoint.VISIT,
            status=status,
            origin=PlanOrigin.STAFF,
            due_on=day,
            held_on=day if status in (DONE, NO_SHOW) else None,
            planned_cost=Decimal("100.00"),
            version=1,
        )
    )


@pytest.fixture
def bank(world):
    today = local_today()
    made = []
    for n, (name, history) in enumerate(HISTORY.items()):
        customer = make_customer(world.alice, name, f"+86137100{n:05d}")
        made.append(customer)
        for status, days in history:
            add_experience(customer, status, days, today)
    db.session.flush()
    contact_dates.refresh([c.id for c in made])
    db.session.commit()
    return world


def test_the_stored_dates_are_the_last_held_and_the_next_still_planned(bank, backend):
    today = local_today()
    page = list_customers(bank.alice, CustomerFilters(sort="contact_recent"))
    dates = {c.name: (c.last_contact_on, c.next_planned_on) for c in page.customers}
    assert dates == {
        "孙丽": (today - timedelta(days=34), today + timedelta(days=20)),
        "周强": (today - timedelta(days=34), today + timedelta(days=10)),
        "吴敏": (today - timedelta(days=65), None),
        "郑洁": (None, today + timedelta(days=10)),
        "冯涛": (None, today),
        "张伟": (None, None),
    }


@pytest.mark.parametrize("sort", sorted(EXPECTED))
@pytest.mark.parametrize("size", [1, 2, 4, 50])
def test_each_sort_pages_forward_and_back_with_no_value_last(bank, backend, sort, size):
    forward, backward = walk(bank.alice, CustomerFilters(sort=sort), size)
    assert forward == EXPECTED[sort]
    assert backward == forward


def test_a_branch_manager_and_the_admin_see_every_visible_customer_in_order(bank, backend):
    for user, also in ((bank.manager, ["李娜"]), (bank.admin, ["李娜", "王芳"])):
        forward, backward = walk(user, CustomerFilters(sort="contact_oldest"), 2)
        # The customers with no contact, by id: the world's three first, then alice's two.
        assert forward == ["吴敏", "孙丽", "周强", "张伟", *also, "郑洁", "冯涛"]
        assert backward == forward


def test_a_cursor_among_the_customers_without_a_value_reads_as_such(bank, backend):
    first = list_customers(bank.alice, CustomerFilters(sort="contact_oldest"), page_size=4)
    assert first.next_cursor.endswith(":-")  # 张伟, the first without a contact
    rest = list_customers(
        bank.alice, CustomerFilters(sort="contact_oldest"), before=first.next_cursor
    )
    assert [c.name for c in rest.customers] == ["郑洁", "冯涛"]


@pytest.mark.parametrize("cursor", ["3:2026-13-01", "3:yesterday", "3:", ":-", "x:-"])
def test_a_date_cursor_that_does_not_parse_is_the_first_page(bank, backend, cursor):
    filters = CustomerFilters(sort="planned_soonest")
    first = [c.name for c in list_customers(bank.alice, filters, page_size=3).customers]
    for side in ("before", "after"):
        page = list_customers(bank.alice, filters, page_size=3, **{side: cursor})
        assert [c.name for c in page.customers] == first
