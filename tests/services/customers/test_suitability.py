"""Suitability (适当性): no sale or recommendation above the customer's risk level."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from crm.core.clock import local_today
from crm.core.inputs import InvalidInput
from crm.extensions import db
from crm.models import Experience, Policy, Product
from crm.models.enums import ExperienceStatus, PlanOrigin, ProductType, RiskLevel, Touchpoint
from crm.services.customers import policies, suitability
from crm.services.experiences import recording


def sale(**fields) -> dict:
    return {
        "policy_number": "PX0001",
        "product_name": "鑫享年年年金保险",
        "product_type": "annuity",
        "premium": "20000.00",
        "payment_mode": "regular",
        "start_date": date(2026, 1, 1),
        **fields,
    }


# Seed 000's compliance record, which an investment-type sale needs.
COMPLIANCE = {
    "dual_recording_ref": "SL-2024-000123",
    "returns_notice_shown": True,
    "risk_acknowledged": True,
}


def shelf(kind: ProductType) -> Product:
    return db.session.scalars(sa.select(Product).where(Product.product_type == kind)).one()


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


@pytest.mark.parametrize(
    "level, allowed",
    [
        (
            RiskLevel.R1,
            {"protection", "accident", "medical", "critical_illness", "whole_life", "deposit"},
        ),
        (
            RiskLevel.R2,
            {
                *("protection", "accident", "medical", "critical_illness", "whole_life"),
                *("participating", "annuity", "deposit"),
            },
        ),
        (RiskLevel.R4, {t.value for t in ProductType}),
    ],
)
def test_the_shelf_a_customer_may_be_offered(world, level, allowed):
    customer = world.alice_customer
    customer.risk_level = level
    assert {p.product_type.value for p in suitability.suitable_products(customer)} == allowed


def test_a_sale_above_the_customers_level_is_refused_with_the_reason(world):
    customer = world.alice_customer
    customer.risk_level = RiskLevel.R1
    db.session.commit()
    with pytest.raises(InvalidInput) as refused:
        policies.add_policy(world.alice, customer, sale())
    db.session.rollback()
    with force_locale("en"):
        message = str(refused.value.errors["product_type"])
    assert "R2" in message and "R1" in message and "protection products only" in message
    assert count(Policy) == 0

    with pytest.raises(InvalidInput) as refused:
        policies.add_policy(world.alice, customer, sale(product_id=shelf(ProductType.UNIVERSAL).id))
    db.session.rollback()
    assert "R3" in str(refused.value.errors["product_id"])
    assert count(Policy) == 0

    held = policies.add_policy(
        world.alice, customer, sale(product_type="accident", product_name="综合意外险")
    )
    db.session.commit()
    assert held.id


def test_a_shelf_product_names_the_policy(world):
    customer = world.alice_customer
    customer.risk_level = RiskLevel.R3
    product = shelf(ProductType.UNIVERSAL)
    held = policies.add_policy(
        world.alice,
        customer,
        sale(product_id=product.id, product_name="", product_type="", **COMPLIANCE),
    )
    db.session.commit()
    assert (held.product_id, held.product_name, held.product_type) == (
        product.id,
        product.name,
        ProductType.UNIVERSAL,
    )


def test_a_policy_held_before_a_lower_reassessment_stays_editable(world):
    customer = world.alice_customer
    customer.risk_level = RiskLevel.R2
    held = policies.add_policy(world.alice, customer, sale())
    db.session.commit()
    customer.risk_level = RiskLevel.R1
    db.session.commit()
    policies.update_policy(world.alice, held, sale(premium="25000.00"), held.version)
    db.session.commit()
    assert str(held.premium) == "25000.00"
    with pytest.raises(InvalidInput):
        policies.update_policy(
            world.alice, held, sale(product_type="universal"), held.version
        )  # changing what was sold is a new sale
    db.session.rollback()


def test_a_recommendation_above_the_level_is_refused_when_recording(world):
    customer = world.alice_customer
    customer.risk_level = RiskLevel.R1
    experience = Experience(
        customer=customer,
        category=Touchpoint.VISIT,
        origin=PlanOrigin.STAFF,
        due_on=local_today() - timedelta(days=1),
        planned_cost=80,
        version=1,
    )
    db.session.add(experience)
    db.session.commit()
    data = {
        "outcome": "done",
        "held_on": local_today(),
        "response": "positive",
        "product_id": shelf(ProductType.INVESTMENT_LINKED).id,
    }
    with pytest.raises(InvalidInput) as refused:
        recording.record_experience(
            world.alice, experience, data, experience.version, customer.version
        )
    db.session.rollback()
    assert "R4" in str(refused.value.errors["product_id"])
    db.session.refresh(experience)
    assert experience.status == ExperienceStatus.PLANNED and experience.product_id is None

    data["product_id"] = shelf(ProductType.CRITICAL_ILLNESS).id
    recording.record_experience(world.alice, experience, data, experience.version, customer.version)
    db.session.commit()
    assert experience.product.product_type == ProductType.CRITICAL_ILLNESS
