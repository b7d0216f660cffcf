"""The product shelf (crm.services.products.shelf): its rules, its audit, and suitability and
the call-back hints reading it as an admin leaves it."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from crm.core.clock import local_today
from crm.core.inputs import InvalidInput
from crm.extensions import db
from crm.models import AuditLog, Policy, Product
from crm.models.enums import ProductType, RiskLevel
from crm.services.customers import policies, suitability
from crm.services.followup import hints
from crm.services.products import shelf


def fields(**changes) -> dict:
    return {
        "name": "鑫享安康年金保险",
        "insurer": "平安人寿",
        "product_type": "annuity",
        "risk_level": "R2",
        "term_years": "10",
        "single_premium": True,
        "regular_years": "3、5，10",
        "investment_type": False,
        "age_bands": "31-40, 61+",
        "active_from": date(2026, 1, 1),
        "active_to": "",
        **changes,
    }


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def audit_of(product: Product) -> list[AuditLog]:
    return list(
        db.session.scalars(
            sa.select(AuditLog)
            .where(AuditLog.entity == "product", AuditLog.entity_id == product.id)
            .order_by(AuditLog.id)
        )
    )


def test_an_admin_adds_a_product_read_as_typed_and_audited(world):
    product = shelf.add_product(world.admin, fields())
    db.session.commit()
    assert product.regular_terms == [3, 5, 10] and product.single_premium
    assert product.bands == [(31, 40), (61, None)] and shelf.band_text(product) == "31-40, 61+"
    assert product.suits_age(35) and product.suits_age(80) and not product.suits_age(45)
    rows = audit_of(product)
    assert {r.field for r in rows} >= {"name", "insurer", "risk_level", "age_bands"}
    assert all(r.actor_id == world.admin.id and r.action == "create" for r in rows)


@pytest.mark.parametrize(
    "changes, field, words",
    [
        ({"risk_level": "R6"}, "risk_level", "R1 to R5"),
        ({"term_years": "ten"}, "term_years", "whole number of years"),
        ({"term_years": "2.5"}, "term_years", "whole number of years"),
        ({"regular_years": "3, five"}, "regular_years", "whole numbers of years"),
        ({"active_to": date(2025, 12, 31)}, "active_to", "cannot be before the first"),
        ({"age_bands": "40-31"}, "age_bands", "age bands such as"),
        ({"product_type": "lottery"}, "product_type", "listed product types"),
        ({"name": " "}, "name", "product's name"),
    ],
)
def test_bad_input_is_refused_with_a_message_and_nothing_written(world, changes, field, words):
    before = count(Product), count(AuditLog)
    with pytest.raises(InvalidInput) as refused:
        shelf.add_product(world.admin, fields(**changes))
    db.session.rollback()
    with force_locale("en"):
        assert words in str(refused.value.errors[field])
    assert (count(Product), count(AuditLog)) == before


def test_a_duplicate_name_and_insurer_is_refused_another_insurer_is_not(world):
    shelf.add_product(world.admin, fields())
    db.session.commit()
    with pytest.raises(InvalidInput) as refused:
        shelf.add_product(world.admin, fields(risk_level="R3"))
    db.session.rollback()
    with force_locale("zh_CN"):
        assert "保险公司" in str(refused.value.errors["name"])
    shelf.add_product(world.admin, fields(insurer="国寿"))
    db.session.commit()
    same_name = sa.select(Product).where(Product.name == fields()["name"])
    assert len(db.session.scalars(same_name).all()) == 2


def test_an_edit_is_audited_field_by_field_and_a_stale_one_refused(world):
    product = shelf.add_product(world.admin, fields())
    db.session.commit()
    read_at = product.version
    shelf.update_product(world.admin, product, fields(risk_level="R3"), read_at)
    db.session.commit()
    changed = [r for r in audit_of(product) if r.action == "update"]
    assert [(r.field, r.old_value, r.new_value) for r in changed] == [("risk_level", "R2", "R3")]
    with pytest.raises(InvalidInput) as refused:
        shelf.update_product(world.admin, product, fields(risk_level="R4"), read_at)
    db.session.rollback()
    with force_locale("en"):
        assert "Someone else saved this product" in str(refused.value.errors[""])
    assert db.session.get(Product, product.id).risk_level == RiskLevel.R3


def test_a_product_a_policy_names_is_retired_never_deleted(world):
    product = shelf.add_product(world.admin, fields(age_bands=""))
    world.alice_customer.risk_level = RiskLevel.R2
    db.session.commit()
    policies.add_policy(
        world.alice,
        world.alice_customer,
        {
            "policy_number": "PX0001",
            "product_name": product.name,
            "product_type": "annuity",
            "product_id": product.id,
            "premium": "20000.00",
            "payment_mode": "regular",
            "start_date": date(2026, 2, 1),
        },
    )
    db.session.commit()
    assert count(Policy) == 1
    with pytest.raises(InvalidInput) as refused:
        shelf.delete_product(world.admin, product)
    db.session.rollback()
    with force_locale("en"):
        assert "Retire it instead" in str(refused.value.errors[""])
    shelf.retire_product(world.admin, product)
    db.session.commit()
    assert db.session.get(Product, product.id) is not None
    assert product not in shelf.on_sale(local_today())
    assert [r.action for r in audit_of(product)][-1] == "retire"
    # A product nothing names, entered by mistake, may go.
    mistake = shelf.add_product(world.admin, fields(name="录错的产品"))
    db.session.commit()
    shelf.delete_product(world.admin, mistake)
    db.session.commit()
    assert shelf.find("录错的产品", "平安人寿") is None


def test_suitability_reads_the_shelf_as_edited(world):
    """Re-rating a product changes what a customer may be offered and sold at once."""
    customer = world.alice_customer
    customer.risk_level = RiskLevel.R2
    db.session.commit()
    annuity = db.session.scalars(
        sa.select(Product).where(Product.product_type == ProductType.ANNUITY)
    ).one()
    assert annuity in suitability.suitable_products(customer)
    shelf.update_product(world.admin, annuity, {**_as_fields(annuity), "risk_level": "R3"})
    db.session.commit()
    assert annuity not in suitability.suitable_products(customer)
    # A policy typed in without a shelf product is rated as the shelf rates its type.
    assert suitability.risk_of(ProductType.ANNUITY) == RiskLevel.R3
    # Off sale after its last day: no longer offered, though not retired.
    medical = db.session.scalars(
        sa.select(Product).where(Product.product_type == ProductType.MEDICAL)
    ).one()
    yesterday = local_today() - timedelta(days=1)
    shelf.update_product(
        world.admin,
        medical,
        {**_as_fields(medical), "active_from": date(2020, 1, 1), "active_to": yesterday},
    )
    db.session.commit()
    assert medical not in suitability.suitable_products(customer)
    errors: dict = {}
    assert suitability.shelf_product(medical.id, "product_id", errors) is None and errors


def test_the_call_back_hints_read_the_shelf_as_edited(world):
    today = local_today()
    customer = world.alice_customer
    customer.birth_date = date(today.year - 45, 1, 1)
    customer.risk_level = RiskLevel.R2
    db.session.commit()
    assert {p.name for p in hints.hint_for(customer, today).products} == {"年金保险"}
    added = shelf.add_product(
        world.admin, fields(name="颐养天年养老年金", risk_level="R2", age_bands="41-55")
    )
    db.session.commit()
    assert added in hints.hint_for(customer, today).products
    shelf.retire_product(world.admin, added)
    db.session.commit()
    assert added not in hints.hint_for(customer, today).products
    # From 61 the seed's deposit advice lists the deposits on the shelf.
    customer.birth_date = date(today.year - 70, 1, 1)
    hint = hints.hint_for(customer, today)
    assert hint.deposit and {p.product_type for p in hint.products} == {ProductType.DEPOSIT}


def _as_fields(product: Product) -> dict:
    return {
        **{f: getattr(product, f) for f in shelf.FIELDS},
        "product_type": product.product_type.value,
        "risk_level": product.risk_level.value,
        "term_years": product.term_years or "",
        "age_bands": shelf.band_text(product),
    }
