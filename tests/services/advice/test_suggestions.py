"""Next best experience: what the matrix offers and the budget allows, due by cadence,
strategic first, never an unsuitable product; planning one is checked as planning by hand."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
import scipy.stats
import sqlalchemy as sa

from crm.core.clock import local_today
from crm.core.inputs import InvalidInput
from crm.extensions import db
from crm.models import Experience
from crm.models.enums import (
    ChurnLevel,
    ExperienceStatus,
    Mark,
    MoveCause,
    PlanOrigin,
    Quadrant,
    RelationshipStatus,
    Response,
    RiskLevel,
    Touchpoint,
)
from crm.services.advice import effects, suggestions
from crm.services.customers import suitability, tiering
from crm.services.experiences import plans
from crm.services.planning import budget, matrix
from tests.support.factories import make_customer

# Liquid assets and willingness that place a customer in each quadrant by default.
PLACES = {
    Quadrant.DEVELOP: (Decimal("100000"), 30),
    Quadrant.MAINTAIN: (Decimal("100000"), 70),
    Quadrant.CULTIVATE: (Decimal("2000000"), 30),
    Quadrant.PAMPER: (Decimal("2000000"), 70),
}


@pytest.fixture(autouse=True)
def fresh_history(app):
    effects.forget()
    yield
    effects.forget()


def customer_in(world, quadrant: Quadrant, phone: str, **fields):
    assets, willingness = PLACES[quadrant]
    customer = make_customer(
        world.alice, f"客户{phone[-4:]}", phone, liquid_assets=assets, willingness=willingness
    )
    for name, value in fields.items():
        setattr(customer, name, value)
    db.session.flush()
    tiering.place(customer, MoveCause.IMPORT, None, first=True)
    db.session.commit()
    assert customer.quadrant == quadrant
    return customer


def held(customer, category: Touchpoint, days_ago: int, response=Response.NEUTRAL, cost=None):
    day = local_today() - timedelta(days=days_ago)
    experience = Experience(
        customer=customer,
        category=category,
        status=ExperienceStatus.DONE,
        origin=PlanOrigin.STAFF,
        due_on=day,
        held_on=day,
        planned_cost=cost if cost is not None else matrix.unit_cost(category),
        actual_cost=cost if cost is not None else matrix.unit_cost(category),
        response=response,
        recorded_at=sa.func.now(),
        version=1,
    )
    db.session.add(experience)
    db.session.commit()
    return experience


def test_suggestions_are_never_a_category_the_matrix_refuses(world, backend):
    rules = matrix.rules()
    for i, quadrant in enumerate(Quadrant):
        customer = customer_in(world, quadrant, f"+861370000{i:04d}", sms_consent=True)
        found = suggestions.for_customer(customer)
        assert found, quadrant
        assert len(found) <= suggestions.MOST
        for s in found:
            assert s.mark != Mark.NEVER
            assert rules[(quadrant, s.category)].mark == s.mark != Mark.NEVER
        # Nothing is held yet, so every planned (☆/√) category is due: ◎ waits behind them.
        assert all(s.mark in (Mark.STRATEGIC, Mark.SHOULD) for s in found)
        # Strategic first.
        marks = [suggestions.ORDER[s.mark] for s in found]
        assert marks == sorted(marks)


def test_a_pamper_customer_gets_the_strategic_lifestyle_and_bespoke_first(world, backend):
    customer = customer_in(world, Quadrant.PAMPER, "+8613700001001")
    found = suggestions.for_customer(customer)
    assert [s.category for s in found[:2]] == [Touchpoint.LIFESTYLE, Touchpoint.BESPOKE]
    # Same mark: ranked by expected effect per yuan (lifestyle ¥5,000 beats bespoke ¥20,000).
    assert found[0].per_yuan > found[1].per_yuan
    assert Touchpoint.EVENT not in {s.category for s in found}  # × for pamper


def test_suggestions_never_pass_the_remaining_budget(world, backend):
    customer = customer_in(world, Quadrant.MAINTAIN, "+8613700002001", sms_consent=True)
    limit = budget.budget_for(customer).limit
    # Everything but ¥100 of the 12-month budget is already spent.
    held(customer, Touchpoint.PREMIUM_EVENT, 30, cost=limit - Decimal("100.00"))
    remaining = budget.budget_for(customer).remaining
    assert remaining == Decimal("100.00")
    found = suggestions.for_customer(customer)
    assert {s.category for s in found} == {Touchpoint.VISIT, Touchpoint.ROUTINE}
    assert all(s.cost <= remaining for s in found)
    # The general event (☆, ¥150) would be first, but does not fit.
    assert Touchpoint.EVENT not in {s.category for s in found}


def test_planning_a_suggestion_that_no_longer_fits_is_refused_with_the_amount(world, backend):
    customer = customer_in(world, Quadrant.MAINTAIN, "+8613700002002")
    limit = budget.budget_for(customer).limit
    held(customer, Touchpoint.PREMIUM_EVENT, 30, cost=limit - Decimal("100.00"))
    (visit,) = [s for s in suggestions.for_customer(customer) if s.category == Touchpoint.VISIT]
    # Meanwhile someone spends another ¥50: the ¥80 visit now passes the budget by ¥30.
    held(customer, Touchpoint.ROUTINE, 1, cost=Decimal("50.00"))
    with pytest.raises(InvalidInput) as refused:
        plans.add_experience(
            world.alice, customer, {"category": visit.category.value, "due_on": local_today()}
        )
    db.session.rollback()
    assert "¥30.00" in str(refused.value.errors["planned_cost"])
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).where(
                Experience.customer_id == customer.id, Experience.status == ExperienceStatus.PLANNED
            )
        )
        == 0
    )
    assert suggestions.for_customer(customer) == [] or all(
        s.cost <= budget.budget_for(customer).remaining for s in suggestions.for_customer(customer)
    )


def test_due_by_cadence_not_planned_and_discretionary_only_when_nothing_planned_fits(
    world, backend
):
    customer = customer_in(world, Quadrant.DEVELOP, "+8613700003001")  # no SMS consent
    held(customer, Touchpoint.VISIT, 100)  # every 180 days: not due for 80 more days
    found = suggestions.for_customer(customer)
    # Routine SMS cannot reach this customer, the visit is not due: the ◎ general event.
    assert [(s.category, s.mark) for s in found] == [(Touchpoint.EVENT, Mark.DISCRETIONARY)]
    held(customer, Touchpoint.EVENT, 10, cost=Decimal("50.00"))  # a seat at a shared event
    assert suggestions.for_customer(customer) == []  # an event ten days ago: nothing
    later = local_today() + timedelta(days=81)
    (due,) = suggestions.for_customer(customer, today=later)
    assert (due.category, due.mark) == (Touchpoint.VISIT, Mark.SHOULD)
    assert due.last_held == local_today() - timedelta(days=100)
    # Planned already: not suggested again.
    plans.add_experience(world.alice, customer, {"category": "visit", "due_on": later})
    db.session.commit()
    assert Touchpoint.VISIT not in {
        s.category for s in suggestions.for_customer(customer, today=later)
    }


@pytest.mark.parametrize(
    "age, risk",
    [(a, r) for a in (25, 35, 45, 55, 70) for r in RiskLevel],
)
def test_a_suggested_product_is_never_above_the_customers_risk_level(world, backend, age, risk):
    today = local_today()
    customer = customer_in(
        world,
        Quadrant.PAMPER,
        "+8613700004001",
        birth_date=date(today.year - age, 1, 1),
        risk_level=risk,
    )
    found = suggestions.for_customer(customer)
    assert found
    for s in found:
        if s.product is not None:
            assert suitability.allows(risk, s.product.risk_level)
            assert suitability.refusal(customer, s.product.risk_level) is None
        assert s.deposit == (age > 60)  # seed 003: from 61, a deposit


def test_a_product_is_offered_where_one_suits(world, backend):
    today = local_today()
    customer = customer_in(
        world,
        Quadrant.PAMPER,
        "+8613700004002",
        birth_date=date(today.year - 45, 1, 1),
        risk_level=RiskLevel.R3,
    )
    products = [s.product for s in suggestions.for_customer(customer)]
    assert any(p is not None for p in products)


def test_high_churn_risk_raises_a_personal_touch_and_lost_customers_get_nothing(world, backend):
    customer = customer_in(world, Quadrant.DEVELOP, "+8613700005001", sms_consent=True)
    calm = {s.category: s for s in suggestions.for_customer(customer)}
    customer.churn_level = ChurnLevel.HIGH
    db.session.commit()
    worried = {s.category: s for s in suggestions.for_customer(customer)}
    visit = worried[Touchpoint.VISIT]
    assert visit.churn_raised and visit.per_yuan == pytest.approx(
        calm[Touchpoint.VISIT].per_yuan * suggestions.CHURN_RAISE
    )
    assert not worried[Touchpoint.ROUTINE].churn_raised
    customer.relationship_status = RelationshipStatus.LOST
    db.session.commit()
    assert suggestions.for_customer(customer) == []


def test_the_banks_history_moves_the_expected_effect(world, backend):
    first = customer_in(world, Quadrant.DEVELOP, "+8613700006001")
    (visit,) = [s for s in suggestions.for_customer(first) if s.category == Touchpoint.VISIT]
    prior = visit.effect
    assert prior.held == 0
    assert prior.share == pytest.approx(effects.PRIOR_SHARE[Touchpoint.VISIT])
    others = [customer_in(world, Quadrant.DEVELOP, f"+86137000060{i:02d}") for i in range(2, 12)]
    for other in others:  # ten visits, every one answered enthusiastically
        held(other, Touchpoint.VISIT, 20, Response.ENTHUSIASTIC)
    effects.forget()
    (visit,) = [s for s in suggestions.for_customer(first) if s.category == Touchpoint.VISIT]
    after = visit.effect
    assert (after.held, after.positive) == (10, 10)
    assert after.share > prior.share


@pytest.mark.parametrize("held_, positive", [(0, 0), (3, 1), (40, 30), (500, 20)])
def test_the_expected_effect_is_the_beta_posterior_mean(app, held_, positive):
    share = effects.PRIOR_SHARE[Touchpoint.VISIT]
    a, b = share * effects.PRIOR_WEIGHT, (1 - share) * effects.PRIOR_WEIGHT
    expected = scipy.stats.beta(a + positive, b + held_ - positive).mean()
    assert effects.expected(Touchpoint.VISIT, held_, positive).share == pytest.approx(expected)


def test_an_experience_that_moved_its_customer_counts_for_the_quadrant_it_moved_them_from(
    world, backend
):
    customer = customer_in(world, Quadrant.DEVELOP, "+8613700007001")
    experience = held(customer, Touchpoint.VISIT, 10, Response.ENTHUSIASTIC)
    customer.willingness = 75  # the visit moved them to maintain
    tiering.place(customer, MoveCause.EXPERIENCE, world.alice, experience_id=experience.id)
    db.session.commit()
    assert customer.quadrant == Quadrant.MAINTAIN
    seen = effects.history(local_today())
    assert seen[(Quadrant.DEVELOP, Touchpoint.VISIT)] == (1, 1)
    assert seen.get((Quadrant.MAINTAIN, Touchpoint.VISIT), (0, 0)) == (0, 0)


def test_a_category_an_admin_marks_never_is_no_longer_suggested(world, backend):
    customer = customer_in(world, Quadrant.DEVELOP, "+8613700008001")
    assert Touchpoint.VISIT in {s.category for s in suggestions.for_customer(customer)}
    matrix.update_matrix(world.admin, {"mark.develop.visit": Mark.NEVER.value})
    db.session.commit()
    found = suggestions.for_customer(customer)
    assert Touchpoint.VISIT not in {s.category for s in found}
    assert all(s.mark != Mark.NEVER for s in found)
