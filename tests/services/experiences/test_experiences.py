"""Planning one experience by hand, and recording it: budget, matrix, the operating loop."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from crm.core.clock import local_today
from crm.core.inputs import InvalidInput
from crm.core.revisions import StaleDossier
from crm.extensions import db
from crm.models import AuditLog, Customer, Experience, QuadrantEvent
from crm.models.enums import (
    ExperienceStatus,
    MoveCause,
    PlanOrigin,
    Quadrant,
    Response,
    Touchpoint,
)
from crm.services.customers import tiering
from crm.services.experiences import plans, recording
from crm.services.planning import agenda as agenda_service
from crm.services.planning import budget


@pytest.fixture
def develop(world) -> Customer:
    """Alice's customer in develop (¥300 a year), willingness 57: three short of maintain."""
    customer = world.alice_customer
    customer.willingness = 57
    tiering.place(customer, MoveCause.IMPORT, None, first=True)
    db.session.commit()
    assert customer.quadrant == Quadrant.DEVELOP
    return customer


def plan(user, customer, **data) -> Experience:
    values = {"category": "visit", "due_on": local_today(), **data}
    experience = plans.add_experience(user, customer, values)
    db.session.commit()
    return experience


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_exactly_at_the_limit_is_allowed_and_one_fen_over_is_refused(world, develop):
    plan(world.alice, develop, planned_cost="200.00")
    plan(world.alice, develop, planned_cost="100.00")  # ¥300.00: exactly the limit
    assert budget.budget_for(develop).remaining == Decimal("0.00")

    with pytest.raises(InvalidInput) as refused:
        plans.add_experience(
            world.alice,
            develop,
            {"category": "routine", "due_on": local_today(), "planned_cost": "0.01"},
        )
    db.session.rollback()
    assert "0.01" in str(refused.value.errors["planned_cost"])
    assert count(Experience) == 2


def test_over_the_limit_a_manager_approves_with_a_reason(world, develop):
    data = {"category": "visit", "due_on": local_today(), "planned_cost": "400.00"}
    with pytest.raises(InvalidInput) as refused:
        plans.add_experience(world.alice, develop, data)
    db.session.rollback()
    assert "100.00" in str(refused.value.errors["planned_cost"])  # by how much

    with pytest.raises(InvalidInput) as no_reason:
        plans.add_experience(world.manager, develop, data)
    db.session.rollback()
    assert "approval_reason" in no_reason.value.errors
    assert count(Experience) == 0

    approved = plan(world.manager, develop, **data, approval_reason="子女留学咨询, 重点客户")
    assert approved.approved_by_id == world.manager.id
    row = db.session.scalars(
        sa.select(AuditLog).where(
            AuditLog.entity == "experience", AuditLog.field == "approved_by_id"
        )
    ).one()
    assert row.reason == "子女留学咨询, 重点客户" and row.customer_id == develop.id


def test_a_never_category_is_refused_unless_approved(world, develop):
    with pytest.raises(InvalidInput) as refused:
        plans.add_experience(
            world.alice,
            develop,
            {"category": "bespoke", "due_on": local_today(), "planned_cost": "0"},
        )
    db.session.rollback()
    assert "category" in refused.value.errors
    assert count(Experience) == 0


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"planned_cost": "-5"}, "planned_cost"),
        ({"planned_cost": "abc"}, "planned_cost"),
        ({"planned_cost": "1.234"}, "planned_cost"),
        ({"category": "parachute"}, "category"),
        ({"due_on": None}, "due_on"),
        ({"notes": "bad\x00note"}, "notes"),
    ],
)
def test_bad_plans_are_refused_and_nothing_is_written(world, develop, data, field):
    with pytest.raises(InvalidInput) as refused:
        plans.add_experience(
            world.alice, develop, {"category": "visit", "due_on": local_today(), **data}
        )
    db.session.rollback()
    assert field in refused.value.errors
    assert count(Experience) == 0


def test_an_experience_dated_before_the_customer_existed_is_refused(world, develop):
    develop.created_at = develop.created_at - timedelta(days=3)
    db.session.commit()
    before = plans.opened_on(develop) - timedelta(days=1)
    with pytest.raises(InvalidInput) as refused:
        plans.add_experience(world.alice, develop, {"category": "visit", "due_on": before})
    db.session.rollback()
    assert "due_on" in refused.value.errors

    visit = plan(world.alice, develop)
    with pytest.raises(InvalidInput) as refused:
        recording.record_experience(
            world.alice,
            visit,
            {"outcome": "done", "held_on": before, "response": "positive"},
            visit.version,
            develop.version,
        )
    db.session.rollback()
    assert "held_on" in refused.value.errors


def record(user, experience, **data):
    values = {"outcome": "done", "held_on": local_today(), "response": "positive", **data}
    result = recording.record_experience(
        user, experience, values, experience.version, experience.customer.version
    )
    db.session.commit()
    return result


def test_a_positive_visit_moves_the_customer_to_maintain_with_the_experience_as_cause(
    world, develop
):
    visit = plan(world.alice, develop)
    result = record(world.alice, visit, liquid_assets="120000.00", notes="聊了子女教育")

    assert (result.moved_from, result.moved_to) == (Quadrant.DEVELOP, Quadrant.MAINTAIN)
    db.session.refresh(develop)
    assert develop.willingness == 62  # 57 + 5 for a positive response
    assert develop.liquid_assets == Decimal("120000.00")
    assert develop.quadrant == Quadrant.MAINTAIN
    move = db.session.scalars(
        sa.select(QuadrantEvent).where(QuadrantEvent.from_quadrant == Quadrant.DEVELOP)
    ).one()
    assert move.cause == MoveCause.EXPERIENCE and move.experience_id == visit.id
    assert move.actor_id == world.alice.id
    assert visit.status == ExperienceStatus.DONE and visit.actual_cost == Decimal("80.00")
    # The plan now suits maintain: its strategic event is planned.
    events = db.session.scalars(
        sa.select(Experience).where(
            Experience.customer_id == develop.id,
            Experience.category == Touchpoint.EVENT,
            Experience.status == ExperienceStatus.PLANNED,
        )
    ).all()
    assert events and all(e.origin == PlanOrigin.CADENCE for e in events)
    # The dossier revision is attributed to the recording staff member.
    revision = db.session.scalars(
        sa.select(AuditLog).where(AuditLog.entity == "customer", AuditLog.field == "willingness")
    ).one()
    assert revision.actor_id == world.alice.id and revision.reason == f"experience #{visit.id}"


def test_staff_may_set_willingness_themselves(world, develop):
    visit = plan(world.alice, develop)
    result = record(world.alice, visit, response="enthusiastic", willingness="58")
    assert result.moved_to is None
    db.session.refresh(develop)
    assert develop.willingness == 58 and develop.quadrant == Quadrant.DEVELOP


def test_a_no_show_counts_as_no_response(world, develop):
    visit = plan(world.alice, develop)
    record(world.alice, visit, outcome="no_show", response="")
    db.session.refresh(develop)
    assert visit.response == Response.NO_RESPONSE and develop.willingness == 55


def test_recording_twice_is_refused(world, develop):
    visit = plan(world.alice, develop)
    record(world.alice, visit)
    willingness = develop.willingness
    with pytest.raises(InvalidInput) as refused:
        record(world.alice, visit, response="enthusiastic")
    db.session.rollback()
    with force_locale("en"):
        assert "already been recorded" in str(refused.value.errors[""])
    db.session.refresh(develop)
    assert develop.willingness == willingness


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"actual_cost": "-1"}, "actual_cost"),
        ({"actual_cost": "eighty"}, "actual_cost"),
        ({"held_on": None}, "held_on"),
        ({"response": ""}, "response"),
        ({"response": "ecstatic"}, "response"),
        ({"outcome": "planned"}, "outcome"),
        ({"willingness": "101"}, "willingness"),
        ({"liquid_assets": "-3"}, "liquid_assets"),
    ],
)
def test_bad_records_are_refused_and_nothing_is_written(world, develop, data, field):
    visit = plan(world.alice, develop)
    audit_rows = count(AuditLog)
    with pytest.raises(InvalidInput) as refused:
        record(world.alice, visit, **data)
    db.session.rollback()
    assert field in refused.value.errors
    db.session.refresh(visit)
    db.session.refresh(develop)
    assert visit.status == ExperienceStatus.PLANNED and visit.recorded_at is None
    assert develop.willingness == 57 and count(AuditLog) == audit_rows


def test_a_future_experience_cannot_be_recorded_as_done(world, develop):
    visit = plan(world.alice, develop, due_on=local_today() + timedelta(days=3))
    with pytest.raises(InvalidInput) as refused:
        record(world.alice, visit, held_on=local_today() + timedelta(days=3))
    assert "held_on" in refused.value.errors


def test_a_stale_record_does_not_overwrite_a_newer_dossier(world, develop):
    visit = plan(world.alice, develop)
    seen = develop.version
    develop.notes = "changed by someone else"
    db.session.commit()
    with pytest.raises(StaleDossier):
        recording.record_experience(
            world.alice,
            visit,
            {"outcome": "done", "held_on": local_today(), "response": "positive"},
            visit.version,
            seen,
        )
    db.session.rollback()
    db.session.refresh(visit)
    assert visit.status == ExperienceStatus.PLANNED


def test_agenda_lists_overdue_first_and_leaves_out_sms_and_others_customers(world, develop):
    today = local_today()
    plan(world.alice, develop, due_on=today)
    develop.created_at = develop.created_at - timedelta(days=5)
    late = plan(world.alice, develop, due_on=today - timedelta(days=2))
    plan(world.alice, develop, category="routine", due_on=today)
    plan(world.bob, world.bob_customer, due_on=today)
    db.session.commit()
    agenda = agenda_service.agenda(world.alice, today)
    assert [e.id for e in agenda.overdue] == [late.id]
    assert len(agenda.today) == 1 and agenda.today[0].category == Touchpoint.VISIT
    assert all(e.customer.owner_id == world.alice.id for e in agenda.this_week)
