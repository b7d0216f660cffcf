"""The today page (今日工作台) as staff meet it after logging in: what is due, the call-back
quota, complaints to answer, new churn warnings and the next best experiences, each count
linking to its full list; and planning a suggestion from the dossier or from here."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from crm.core.clock import local_today
from crm.extensions import db
from crm.models import ChurnScoreDay, Experience, Policy
from crm.models.base import utcnow
from crm.models.enums import (
    ChurnLevel,
    ExperienceStatus,
    MoveCause,
    PaymentMode,
    PlanOrigin,
    PolicyStatus,
    ProductType,
    Touchpoint,
)
from crm.services.advice import effects
from crm.services.customers import tiering
from crm.services.followup import calls, complaints
from crm.services.planning import budget
from tests.support.factories import make_customer

pytestmark = pytest.mark.backends("sqlite")


@pytest.fixture(autouse=True)
def fresh_history(app):
    effects.forget()


def planned(customer, category: Touchpoint, due_on: date, cost="80.00") -> Experience:
    experience = Experience(
        customer=customer,
        category=category,
        status=ExperienceStatus.PLANNED,
        origin=PlanOrigin.STAFF,
        due_on=due_on,
        planned_cost=Decimal(cost),
        version=1,
    )
    db.session.add(experience)
    db.session.commit()
    return experience


@pytest.fixture
def alices(world):
    """Alice's customers: one placed in develop with a dossier opened a month ago."""
    customer = world.alice_customer
    customer.created_at = customer.created_at - timedelta(days=30)
    tiering.place(customer, MoveCause.IMPORT, None, first=True)
    db.session.commit()
    return customer


def test_logging_in_lands_on_today_and_an_explicit_next_still_wins(world, auth, client):
    response = auth.login("alice")
    assert response.headers["Location"] == "/today"
    assert client.get("/").headers["Location"] == "/today"
    page = client.get("/today").get_data(as_text=True)
    assert "今日工作台" in page and 'href="/today">今日</a>' in page
    auth.logout()
    response = auth.login("alice", query_string={"next": "/customers"})
    assert response.headers["Location"] == "/customers"


def test_today_lists_what_is_due_with_links_to_record_it(world, alices, auth, client):
    today = local_today()
    overdue = planned(alices, Touchpoint.VISIT, today - timedelta(days=3))
    due = planned(alices, Touchpoint.EVENT, today, "150.00")
    later = planned(alices, Touchpoint.VISIT, today + timedelta(days=2))
    sms = planned(alices, Touchpoint.ROUTINE, today, "0.10")
    bobs = planned(world.bob_customer, Touchpoint.VISIT, today)
    auth.login("alice")
    page = client.get("/today").get_data(as_text=True)
    assert f"/experiences/{overdue.id}/record" in page
    assert f"/experiences/{due.id}/record" in page
    for absent in (later, sms, bobs):  # not yet due; the scheduler's SMS; bob's customer
        assert f"/experiences/{absent.id}/record" not in page
    assert "2 项到期，其中 1 项逾期" in page and 'href="/agenda"' in page
    assert "逾期" in page


def test_call_backs_with_the_days_quota_and_complaints_due(world, alices, auth, client):
    today = local_today()
    db.session.add(
        Policy(
            customer=alices,
            policy_number="P7000001",
            product_name="千里马两全保险(分红型)",
            product_type=ProductType.PARTICIPATING,
            premium=Decimal("50000.00"),
            payment_mode=PaymentMode.SINGLE,
            start_date=date(2019, 1, 1),
            maturity_date=today + timedelta(days=5),
            status=PolicyStatus.IN_FORCE,
        )
    )
    calls.maturity_scan(today)
    late = complaints.open_complaint(
        world.alice,
        alices,
        {"point": "满期收益低于预期", "opened_at": utcnow() - timedelta(days=8)},
    )
    fresh = complaints.open_complaint(world.alice, alices, {"point": "网点排队太久"})
    db.session.commit()
    auth.login("alice")
    page = client.get("/today").get_data(as_text=True)
    assert "今日已回访 0 / 20" in page and "P7000001" in page and 'href="/callbacks"' in page
    assert f"/complaints/{late.id}/answer" in page  # past its 7 days
    assert f"/complaints/{fresh.id}/answer" not in page  # six days left
    assert "1 件一天内到期或已逾期" in page and 'href="/complaints"' in page
    # Recording the only call-back: nothing open, the day's progress still shown.
    (task,) = calls.day_of_callbacks(world.alice, today).open
    calls.record_callback(world.alice, task, {"intent": "renew"}, task.version)
    db.session.commit()
    page = client.get("/today").get_data(as_text=True)
    assert "今日已回访 1 / 20" in page and "P7000001" not in page and "待回访 0 个" in page


def test_new_churn_warnings_are_customers_who_became_high_risk_since_yesterday(
    world, alices, auth, client
):
    others = [make_customer(world.alice, f"客户{i}", f"+86137100000{i:02d}") for i in range(3)]
    db.session.flush()
    today = local_today()
    for customer, level, became in zip(
        others,
        (ChurnLevel.HIGH, ChurnLevel.HIGH, ChurnLevel.MEDIUM),
        (today, today - timedelta(days=5), today),
        strict=True,
    ):
        customer.churn_level, customer.churn_score = level, 80 if level == ChurnLevel.HIGH else 50
        customer.churn_reasons = [["silence", 30, 140]]
        customer.churn_scored_at = utcnow()
        db.session.add(
            ChurnScoreDay(
                customer_id=customer.id,
                scored_on=became,
                score=customer.churn_score,
                level=level,
                previous_level=ChurnLevel.MEDIUM if level == ChurnLevel.HIGH else ChurnLevel.LOW,
            )
        )
    db.session.commit()
    auth.login("alice")
    client.post("/language", data={"language": "en", "next": "/today"})
    page = client.get("/today").get_data(as_text=True)
    section = page.split('data-testid="today-churn"')[1].split("</section>")[0]
    assert f"/customers/{others[0].id}" in section
    assert "no positive contact for 140 days" in section  # the reasons in words
    assert f"/customers/{others[1].id}" not in section  # high for days: not new
    assert f"/customers/{others[2].id}" not in section  # medium
    assert "1 newly at high risk" in section and 'href="/customers?churn=high"' in section


def test_suggestions_on_today_and_the_dossier_plan_through_the_hand_planning_form(
    world, alices, auth, client
):
    auth.login("alice")
    today_page = client.get("/today").get_data(as_text=True)
    section = today_page.split('data-testid="today-suggestions"')[1].split("</section>")[0]
    assert alices.name in section and "计划此项" in section
    dossier = client.get(f"/customers/{alices.id}").get_data(as_text=True)
    assert "下一步体验建议" in dossier and "定期拜访" in dossier
    assert f'action="/customers/{alices.id}/experiences/new"' in dossier
    page = client.post(
        f"/customers/{alices.id}/experiences/new",
        data={"category": "visit", "due_on": local_today().isoformat(), "planned_cost": ""},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "体验已计划。" in page
    visit = db.session.scalar(sa.select(Experience).where(Experience.customer_id == alices.id))
    assert (visit.category, visit.planned_cost, visit.created_by_id) == (
        Touchpoint.VISIT,
        Decimal("80.00"),
        world.alice.id,
    )
    # Planned now: the visit is no longer suggested.
    after = client.get(f"/customers/{alices.id}").get_data(as_text=True)
    assert 'data-category="visit"' not in after


def test_a_suggestion_past_the_budget_by_now_is_refused_with_the_amount(
    world, alices, auth, client
):
    auth.login("alice")
    assert 'data-category="visit"' in client.get(f"/customers/{alices.id}").get_data(as_text=True)
    # Before "plan it" is pressed, the budget (¥300 for develop) is spent down to ¥50.
    left = budget.budget_for(alices).remaining
    planned(alices, Touchpoint.ROUTINE, local_today(), f"{left - Decimal('50'):.2f}")
    response = client.post(
        f"/customers/{alices.id}/experiences/new",
        data={"category": "visit", "due_on": local_today().isoformat(), "planned_cost": ""},
    )
    page = response.get_data(as_text=True)
    assert "¥30.00" in page  # ¥80 against ¥50 left
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).where(
                Experience.customer_id == alices.id, Experience.category == Touchpoint.VISIT
            )
        )
        == 0
    )
    # And the dossier no longer offers it.
    dossier = client.get(f"/customers/{alices.id}").get_data(as_text=True)
    assert 'data-category="visit"' not in dossier


def test_a_manager_sees_their_own_customers_and_the_team_link(world, alices, auth, client):
    mine = make_customer(world.manager, "主管客户", "+8613720000001")
    db.session.flush()
    tiering.place(mine, MoveCause.IMPORT, None, first=True)
    db.session.commit()
    auth.login("manager")
    page = client.get("/today").get_data(as_text=True)
    assert 'href="/followup"' in page
    section = page.split('data-testid="today-suggestions"')[1].split("</section>")[0]
    assert "主管客户" in section and alices.name not in section


def test_today_in_english(world, alices, auth, client):
    auth.login("alice")
    client.post("/language", data={"language": "en", "next": "/today"})
    page = client.get("/today").get_data(as_text=True)
    assert "Today&#39;s work" in page or "Today's work" in page
    assert "Next best experiences" in page and "Plan it" in page
