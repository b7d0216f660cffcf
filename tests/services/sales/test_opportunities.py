"""Opportunities (商机): opened, moved a stage at a time, lost with a reason or won by
recording the policy under seed 000's compliance; bad input refused with nothing written."""

from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from crm.core.clock import local_today
from crm.core.inputs import InvalidInput
from crm.core.revisions import StaleDossier
from crm.extensions import db
from crm.models import AuditLog, Opportunity, Policy, Product
from crm.models.enums import ProductType, RiskLevel, SalesStage
from crm.services.sales import opportunities

COMPLIANCE = {
    "dual_recording_ref": "SL-2026-000123",
    "returns_notice_shown": True,
    "risk_acknowledged": True,
}
INVESTMENT = {ProductType.PARTICIPATING, ProductType.UNIVERSAL, ProductType.INVESTMENT_LINKED}


@pytest.fixture(autouse=True)
def in_english(app):
    """The refusals' words are asserted in English."""
    with force_locale("en"):
        yield


def shelf(kind: ProductType) -> Product:
    return db.session.scalars(sa.select(Product).where(Product.product_type == kind)).first()


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def lead(**changes) -> dict:
    return {
        "product_id": str(shelf(ProductType.ANNUITY).id),
        "expected_premium": "50,000",
        "payment_mode": "regular",
        "expected_close_on": (local_today() + timedelta(days=30)).isoformat(),
        "source": "other",
    } | changes


def opened(world, **changes) -> Opportunity:
    customer = world.alice_customer
    customer.risk_level = RiskLevel.R5
    found = opportunities.open_opportunity(world.alice, customer, lead(**changes))
    db.session.commit()
    return found


def to_closing(world, opportunity: Opportunity) -> None:
    while opportunity.stage != SalesStage.CLOSING:
        opportunities.advance(world.alice, opportunity, opportunity.version)
        db.session.commit()


def test_an_opportunity_opens_as_a_lead_with_its_premium_and_is_audited(world):
    found = opened(world)
    assert (found.stage, found.expected_premium, found.opened_on) == (
        SalesStage.LEAD,
        Decimal("50000.00"),
        local_today(),
    )
    rows = db.session.scalars(
        sa.select(AuditLog).where(AuditLog.entity == "opportunity", AuditLog.action == "create")
    ).all()
    assert {r.customer_id for r in rows} == {world.alice_customer.id}
    assert ("expected_premium", "50000.00") in [(r.field, r.new_value) for r in rows]


def test_every_stage_move_goes_one_step_and_is_audited(world):
    found = opened(world)
    seen = [found.stage]
    while found.stage != SalesStage.CLOSING:
        opportunities.advance(world.alice, found, found.version)
        db.session.commit()
        seen.append(found.stage)
    assert seen == [SalesStage.LEAD, SalesStage.NEEDS, SalesStage.PROPOSAL, SalesStage.CLOSING]
    with pytest.raises(InvalidInput, match="recorded as won"):
        opportunities.advance(world.alice, found, found.version)
    moves = db.session.scalars(
        sa.select(AuditLog.new_value)
        .where(AuditLog.entity == "opportunity", AuditLog.action == "move")
        .order_by(AuditLog.id)
    ).all()
    assert moves == ["needs", "proposal", "closing"]


@pytest.mark.parametrize("stage", [SalesStage.LEAD, SalesStage.PROPOSAL, SalesStage.CLOSING])
def test_lost_from_any_open_stage_keeps_where_it_got_and_why(world, stage):
    found = opened(world)
    while found.stage != stage:
        opportunities.advance(world.alice, found, found.version)
    db.session.commit()
    with pytest.raises(InvalidInput, match="Say why"):
        opportunities.lose(world.alice, found, "  ", found.version)
    opportunities.lose(world.alice, found, "客户选择了他行产品", found.version)
    db.session.commit()
    assert (found.stage, found.lost_from, found.lost_reason, found.closed_on) == (
        SalesStage.LOST,
        stage,
        "客户选择了他行产品",
        local_today(),
    )


def test_a_closed_opportunity_cannot_move_or_change(world):
    found = opened(world)
    opportunities.lose(world.alice, found, "预算不足", found.version)
    db.session.commit()
    before = count(AuditLog)
    for attempt in (
        lambda: opportunities.advance(world.alice, found, found.version),
        lambda: opportunities.lose(world.alice, found, "again", found.version),
        lambda: opportunities.update_opportunity(world.alice, found, lead(), found.version),
        lambda: opportunities.win(world.alice, found, {"policy_number": "X1"}, found.version),
    ):
        with pytest.raises(InvalidInput, match="closed"):
            attempt()
        db.session.rollback()
    assert count(AuditLog) == before and found.stage == SalesStage.LOST


def test_a_move_from_a_version_read_before_anothers_is_refused(world):
    found = opened(world)
    opportunities.advance(world.alice, found, 1)
    db.session.commit()
    with pytest.raises(StaleDossier):
        opportunities.advance(world.alice, found, 1)


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"expected_premium": "-5"}, "expected_premium"),
        ({"expected_premium": "五万"}, "expected_premium"),
        ({"expected_premium": "0"}, "expected_premium"),
        ({"expected_close_on": "2020-01-01"}, "expected_close_on"),
        ({"expected_close_on": "soon"}, "expected_close_on"),
        ({"payment_mode": "monthly"}, "payment_mode"),
        ({"product_id": "999999"}, "product_id"),
    ],
)
def test_bad_input_is_refused_with_nothing_written(world, changes, field):
    before = (count(Opportunity), count(AuditLog))
    with pytest.raises(InvalidInput) as refused:
        opportunities.open_opportunity(world.alice, world.alice_customer, lead(**changes))
    db.session.rollback()
    assert field in refused.value.errors
    assert (count(Opportunity), count(AuditLog)) == before


def test_an_unsuitable_product_or_a_customer_out_of_sight_is_refused(world):
    customer = world.alice_customer
    customer.risk_level = RiskLevel.R1
    db.session.commit()
    bold = shelf(ProductType.INVESTMENT_LINKED)  # R4
    with pytest.raises(InvalidInput, match="product_id: .*R4.*R1"):
        opportunities.open_opportunity(world.alice, customer, lead(product_id=str(bold.id)))
    db.session.rollback()
    with pytest.raises(InvalidInput, match="customer_id: "):
        opportunities.open_opportunity(world.carol, customer, lead())
    db.session.rollback()
    assert count(Opportunity) == 0


@pytest.mark.parametrize("kind", list(ProductType))
def test_winning_needs_the_compliance_record_for_investment_types_only(world, kind):
    found = opened(world, product_id=str(shelf(kind).id))
    to_closing(world, found)
    sale = {"policy_number": f"W-{kind.value}"}
    if kind in INVESTMENT:
        for missing in COMPLIANCE:
            partial = sale | {k: v for k, v in COMPLIANCE.items() if k != missing}
            with pytest.raises(InvalidInput) as refused:
                opportunities.win(world.alice, found, partial, found.version)
            db.session.rollback()
            assert list(refused.value.errors) == [missing]
        assert count(Policy) == 0 and found.stage == SalesStage.CLOSING
        sale |= COMPLIANCE
    policy = opportunities.win(world.alice, found, sale, found.version)
    db.session.commit()
    assert (policy.opportunity_id, policy.product_type, found.stage) == (
        found.id,
        kind,
        SalesStage.WON,
    )
    audited = db.session.scalars(
        sa.select(AuditLog.field).where(
            AuditLog.entity == "policy", AuditLog.entity_id == policy.id
        )
    ).all()
    assert "opportunity_id" in audited
    if kind in INVESTMENT:
        assert set(COMPLIANCE) <= set(audited)


def test_winning_a_product_above_a_lowered_risk_level_is_refused(world):
    found = opened(world, product_id=str(shelf(ProductType.UNIVERSAL).id))  # R3
    to_closing(world, found)
    world.alice_customer.risk_level = RiskLevel.R2  # re-assessed before the sale
    db.session.commit()
    with pytest.raises(InvalidInput, match="product_id: .*R3.*R2"):
        opportunities.win(world.alice, found, {"policy_number": "W-1"} | COMPLIANCE, found.version)
    db.session.rollback()
    assert count(Policy) == 0 and found.stage == SalesStage.CLOSING


def test_winning_records_the_sale_premium_on_the_opportunity(world):
    found = opened(world)
    to_closing(world, found)
    opportunities.win(
        world.alice,
        found,
        {"policy_number": "W-2", "premium": "60000", "payment_mode": "single"},
        found.version,
    )
    db.session.commit()
    assert (found.expected_premium, found.payment_mode.value, found.closed_on) == (
        Decimal("60000.00"),
        "single",
        local_today(),
    )


def test_winning_before_closing_is_refused(world):
    found = opened(world)
    with pytest.raises(InvalidInput, match="closing"):
        opportunities.win(world.alice, found, {"policy_number": "W-3"}, found.version)
