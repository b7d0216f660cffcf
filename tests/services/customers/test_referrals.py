"""Referrals (链式反应): the referrer is credited, the chain reads up and down, no circles."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from crm.core.inputs import InvalidInput
from crm.extensions import db
from crm.models import AuditLog, Customer, QuadrantEvent
from crm.models.enums import MoveCause, Quadrant
from crm.services.customers import dossier, referrals, tiering
from tests.support.factories import make_customer


def revise(user, customer, **changes):
    data = {**dossier.form_values(customer), **changes}
    data["willingness"] = customer.willingness
    dossier.update_customer(user, customer, data, customer.version)
    db.session.commit()


def new_customer(user, name, phone, **fields) -> Customer:
    data = {
        "name": name,
        "phone": phone,
        "gender": "female",
        "risk_level": "R1",
        "willingness": 30,
        "liquid_assets": "10000.00",
        **fields,
    }
    customer = dossier.create_customer(user, data)
    db.session.commit()
    return customer


def test_a_referral_given_raises_the_referrers_willingness(world):
    referrer = world.alice_customer
    before = referrer.willingness
    referred = new_customer(world.alice, "赵敏", "13800009999", referred_by_id=referrer.id)
    assert referred.referred_by_id == referrer.id
    assert referrer.willingness == before + 5
    row = db.session.scalars(
        sa.select(AuditLog).where(
            AuditLog.entity_id == referrer.id, AuditLog.field == "willingness"
        )
    ).one()
    assert row.actor_id == world.alice.id and f"#{referred.id}" in row.reason


def test_a_referral_can_move_the_referrer_with_the_referral_as_cause(world):
    referrer = world.alice_customer
    referrer.willingness = 58
    tiering.place(referrer, MoveCause.IMPORT, None, first=True)
    db.session.commit()
    new_customer(world.alice, "赵敏", "13800009999", referred_by_id=referrer.id)
    assert referrer.quadrant == Quadrant.MAINTAIN
    move = db.session.scalars(
        sa.select(QuadrantEvent).where(QuadrantEvent.cause == MoveCause.REFERRAL)
    ).one()
    assert move.customer_id == referrer.id


def test_naming_the_referrer_on_an_existing_dossier_credits_once(world):
    referrer, referred = world.alice_customer, make_customer(world.alice, "赵敏", "+8613800009999")
    db.session.commit()
    before = referrer.willingness
    revise(world.alice, referred, referred_by_id=referrer.id)
    revise(world.alice, referred, notes="复核")  # unchanged referral: no second credit
    assert referrer.willingness == before + 5


def test_a_referral_that_would_make_a_circle_is_refused(world):
    a = world.alice_customer
    b = new_customer(world.alice, "赵敏", "13800009999", referred_by_id=a.id)
    c = new_customer(world.alice, "钱多", "13800008888", referred_by_id=b.id)
    version, willingness = a.version, c.willingness
    with pytest.raises(InvalidInput) as refused:
        revise(world.alice, a, referred_by_id=c.id)
    db.session.rollback()
    with force_locale("en"):
        assert "circle" in str(refused.value.errors["referred_by_id"])
    db.session.refresh(a)
    assert a.referred_by_id is None and a.version == version
    assert c.willingness == willingness


def test_the_chain_reads_up_and_down_and_hides_names_outside_the_readers_scope(world):
    top = world.carol_customer  # west branch
    a = world.alice_customer
    a.referred_by_id = top.id
    b = new_customer(world.alice, "赵敏", "13800009999", referred_by_id=a.id)
    c = new_customer(world.alice, "钱多", "13800008888", referred_by_id=b.id)
    d = new_customer(world.alice, "孙丽", "13800007777", referred_by_id=a.id)
    db.session.commit()

    def seen(links):
        """Each link as the reader sees it: whom (None: hidden) and how many steps away."""
        return [
            ((link.customer.id, link.customer.name) if link.customer else None, link.depth)
            for link in links
        ]

    chain = referrals.chain(world.alice, b)
    assert seen(chain.up) == [((a.id, a.name), 1), (None, 2)]
    assert seen(chain.down) == [((c.id, c.name), 1)]

    chain = referrals.chain(world.alice, a)
    assert seen(chain.down) == [((b.id, b.name), 1), ((d.id, d.name), 1), ((c.id, c.name), 2)]
    assert not chain.more_below
