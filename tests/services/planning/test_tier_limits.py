"""Cost limits per quadrant × asset tier (seed 002): a ¥5M+ pamper customer may be allowed
more than a ¥1M one; where no tier limit is set, the quadrant's applies, in every budget check."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from crm.core.inputs import InvalidInput
from crm.extensions import db
from crm.models import AuditLog, Experience, Setting
from crm.models.enums import MoveCause, Quadrant, Touchpoint
from crm.services.advice import suggestions
from crm.services.customers import tiering
from crm.services.experiences import plans
from crm.services.planning import budget, matrix, planner
from tests.services.planning.test_planner import TODAY, planned
from tests.support.factories import make_customer


def pamper_with(owner, assets: str, n: int):
    customer = make_customer(
        owner, f"pamper{n}", f"+8613755{n:06d}", liquid_assets=Decimal(assets), willingness=90
    )
    tiering.place(customer, MoveCause.IMPORT, None, first=True)
    db.session.flush()
    assert customer.quadrant == Quadrant.PAMPER
    return customer


def tier_limit_settings() -> list[str]:
    db.session.expire_all()
    return db.session.scalars(
        sa.select(Setting.key).where(Setting.key.like("budget.limit.%"))
    ).all()


def test_a_tier_limit_applies_to_its_tier_and_the_quadrants_elsewhere(world, app):
    just_under = pamper_with(world.alice, "4999999.99", 1)
    exactly = pamper_with(world.alice, "5000000.00", 2)
    matrix.update_matrix(world.admin, {"limit.pamper": "1000.00", "limit.pamper.3": "150000"})
    db.session.commit()

    assert budget.budget_for(just_under).limit == Decimal("1000.00")
    assert budget.budget_for(exactly).limit == Decimal("150000.00")
    limits = matrix.customer_limits()
    assert limits.of("pamper", Decimal("4999999.99")) == Decimal("1000.00")
    assert limits.of(Quadrant.PAMPER, Decimal("5000000")) == Decimal("150000.00")
    assert limits.of("cultivate", Decimal("5000000")) == limits.quadrants[Quadrant.CULTIVATE]
    # The change is audited and attributable.
    audited = db.session.scalars(
        sa.select(AuditLog).where(AuditLog.entity == "matrix", AuditLog.field == "limit.pamper.3")
    ).one()
    assert audited.actor_id == world.admin.id and audited.new_value == "150000.00"


def test_the_planner_budgets_each_customer_by_their_tiers_limit(world, app):
    low = pamper_with(world.alice, "2000000", 1)
    high = pamper_with(world.alice, "6000000", 2)
    db.session.commit()
    planner.plan_contacts(TODAY + timedelta(days=28), today=TODAY)
    full = {e.category for e in planned(low)}
    assert full == {e.category for e in planned(high)} and full != {Touchpoint.ROUTINE}
    db.session.execute(sa.delete(Experience))
    # The quadrant's ¥1 holds none of the experiences; the ¥5M+ tier may have all of them.
    matrix.update_matrix(world.admin, {"limit.pamper": "1.00", "limit.pamper.3": "200000"})
    db.session.commit()

    planner.plan_contacts(TODAY + timedelta(days=28), today=TODAY)

    assert {e.category for e in planned(low)} <= {Touchpoint.ROUTINE}
    assert sum(e.planned_cost for e in planned(low)) <= Decimal("1.00")
    assert {e.category for e in planned(high)} == full


def test_hand_planning_and_suggestions_read_the_same_limit(world, app):
    low = pamper_with(world.alice, "2000000", 1)
    high = pamper_with(world.alice, "5000000", 2)
    matrix.update_matrix(world.admin, {"limit.pamper": "500.00", "limit.pamper.3": "90000"})
    db.session.commit()

    assert "planned_cost" in plans.refusal_reasons(low, Touchpoint.LIFESTYLE, Decimal("800"), TODAY)
    assert plans.refusal_reasons(high, Touchpoint.LIFESTYLE, Decimal("800"), TODAY) == {}
    for customer in (low, high):
        remaining = budget.budget_for(customer, TODAY).remaining
        for suggestion in suggestions.for_customers([customer], TODAY)[customer.id]:
            assert suggestion.cost <= remaining
    assert any(s.cost > 500 for s in suggestions.for_customers([high], TODAY)[high.id])


def test_clearing_a_tier_limit_brings_back_the_quadrants(world, app):
    customer = pamper_with(world.alice, "5000000", 1)
    matrix.update_matrix(world.admin, {"limit.pamper.3": "120000"})
    db.session.commit()
    changes = matrix.update_matrix(world.admin, {"limit.pamper.3": "  "})
    db.session.commit()
    assert changes == {"limit.pamper.3": (Decimal("120000.00"), None)}
    assert "budget.limit.pamper.3" not in tier_limit_settings()
    assert budget.budget_for(customer).limit == matrix.cost_limits()[Quadrant.PAMPER]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("lots", "请输入金额"),
        ("-5000", "金额不能为负数"),
        ("1000000000000", "金额过大"),
        ("100.001", "最多保留两位小数"),
    ],
)
def test_a_bad_tier_limit_is_refused_and_nothing_is_written(world, app, value, message):
    with pytest.raises(InvalidInput) as refused:
        matrix.update_matrix(world.admin, {"limit.cultivate.2": "30000", "limit.pamper.3": value})
    db.session.rollback()
    assert message in str(refused.value.errors["limit.pamper.3"])
    assert tier_limit_settings() == []
    assert not db.session.scalar(
        sa.select(sa.func.count()).select_from(AuditLog).where(AuditLog.entity == "matrix")
    )
