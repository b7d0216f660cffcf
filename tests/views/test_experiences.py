"""Experiences as staff meet them: the plan and budget on the dossier, the record form, the
agenda."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from crm.core.clock import local_today
from crm.extensions import db
from crm.models import Experience, QuadrantEvent
from crm.models.enums import ExperienceStatus, MoveCause, Quadrant
from crm.services.customers import tiering
from crm.services.experiences import plans
from crm.services.planning import planner

# Pages, forms and messages over domain code that tests/services runs on both databases;
# nothing here depends on the dialect, so SQLite is enough.
pytestmark = pytest.mark.backends("sqlite")


@pytest.fixture
def develop(world):
    customer = world.alice_customer
    customer.willingness = 57
    customer.sms_consent = True
    tiering.place(customer, MoveCause.IMPORT, None, first=True)
    customer.created_at = customer.created_at - timedelta(days=30)
    db.session.commit()
    return customer


def visit(user, customer, due_on=None) -> Experience:
    experience = plans.add_experience(
        user, customer, {"category": "visit", "due_on": due_on or local_today()}
    )
    db.session.commit()
    return experience


def test_dossier_shows_the_budget_and_the_plan(world, develop, auth):
    planner.plan_contacts(local_today() + timedelta(days=28))
    auth.login("alice")
    page = auth.client.get(f"/customers/{develop.id}").get_data(as_text=True)
    assert "12 个月费用上限" in page and "¥300.00" in page
    planned = db.session.scalar(
        sa.select(sa.func.sum(Experience.planned_cost)).where(Experience.customer_id == develop.id)
    )
    assert f"¥{planned:,.2f}" in page  # committed
    assert "常规服务" in page and "计划一次体验" in page


def test_record_form_moves_the_customer_and_the_dossier_says_so(world, develop, auth):
    experience = visit(world.alice, develop)
    auth.login("alice")
    form = auth.client.get(f"/experiences/{experience.id}/record").get_data(as_text=True)
    assert "档案修正" in form and "积极 +5" in form
    response = auth.client.post(
        f"/experiences/{experience.id}/record",
        data={
            "outcome": "done",
            "held_on": local_today().isoformat(),
            "response": "positive",
            "actual_cost": "95.50",
            "liquid_assets": "150000",
            "willingness": "",
            "notes": "客户对子女教育金感兴趣",
            "version": experience.version,
            "customer_version": develop.version,
        },
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "客户由“开发”迁至“维系”" in page
    assert 'data-testid="quadrant">维系' in page
    assert "¥95.50" in page and "客户对子女教育金感兴趣" in page
    move = db.session.scalars(sa.select(QuadrantEvent).where(QuadrantEvent.cause == "experience"))
    assert move.one().experience_id == experience.id


def test_bad_record_shows_the_message_and_writes_nothing(world, develop, auth):
    experience = visit(world.alice, develop)
    auth.login("alice")
    response = auth.client.post(
        f"/experiences/{experience.id}/record",
        data={
            "outcome": "done",
            "held_on": local_today().isoformat(),
            "response": "positive",
            "actual_cost": "-20",
            "version": experience.version,
            "customer_version": develop.version,
        },
    )
    assert response.status_code == 200
    assert "金额不能为负数" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Experience, experience.id).status == ExperienceStatus.PLANNED
    assert db.session.get(type(develop), develop.id).willingness == 57


def test_over_budget_plan_is_refused_with_the_amount_and_approved_by_a_manager(
    world, develop, auth
):
    auth.login("alice")
    data = {"category": "visit", "due_on": local_today().isoformat(), "planned_cost": "350"}
    page = auth.client.post(f"/customers/{develop.id}/experiences/new", data=data)
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "¥50.00" in text and "主管可以" in text
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Experience)) == 0

    auth.logout()
    auth.login("manager")
    response = auth.client.post(
        f"/customers/{develop.id}/experiences/new",
        data={**data, "approval_reason": "客户生日, 行长特批"},
        follow_redirects=True,
    )
    assert "已按您的批准计划" in response.get_data(as_text=True)
    approved = db.session.scalars(sa.select(Experience)).one()
    assert approved.approved_by_id == world.manager.id


def test_others_cannot_open_an_experience(world, develop, auth):
    experience = visit(world.alice, develop)
    auth.login("carol")
    assert auth.client.get(f"/experiences/{experience.id}/record").status_code == 404
    assert auth.client.post(f"/experiences/{experience.id}/record", data={}).status_code == 404
    assert auth.client.get(f"/customers/{develop.id}/experiences/new").status_code == 404


def test_agenda_puts_overdue_first(world, develop, auth):
    late = visit(world.alice, develop, local_today() - timedelta(days=3))
    today = visit(world.alice, develop)
    auth.login("alice")
    page = auth.client.get("/agenda").get_data(as_text=True).split("<main>")[1]  # not the nav
    assert page.index("逾期") < page.index("今日")
    assert page.index(f"/experiences/{late.id}/record") < page.index(
        f"/experiences/{today.id}/record"
    )
    auth.client.post("/language", data={"language": "en"})
    english = auth.client.get("/agenda").get_data(as_text=True)
    assert "Overdue" in english and "Periodic visit" in english


def test_develop_quadrant_label_on_plan_form(world, develop, auth):
    auth.login("alice")
    page = auth.client.get(f"/customers/{develop.id}/experiences/new").get_data(as_text=True)
    assert develop.quadrant == Quadrant.DEVELOP
    assert "× 不予体验" in page and "¥80.00" in page


def test_dossier_history_names_the_experience_and_its_approver(world, develop, auth):
    plans.add_experience(
        world.manager,
        develop,
        {
            "category": "bespoke",
            "due_on": local_today(),
            "planned_cost": "0",
            "approval_reason": "行长特批",
        },
    )
    db.session.commit()
    auth.login("alice")
    history = auth.client.get(f"/customers/{develop.id}").get_data(as_text=True)
    history = history[history.index('class="history"') :]
    assert "体验记录 #" in history and "量身定制" in history
    assert "行长特批" in history
    approver = history[history.index("批准人") :]
    assert approver.index("Manager") < approver.index("</tr>")  # a name, not an id
