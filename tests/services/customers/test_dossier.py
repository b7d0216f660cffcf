"""Dossier rules as the domain applies them, whoever calls."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from crm.core import revisions
from crm.core.inputs import InvalidInput
from crm.extensions import db
from crm.models import AuditLog, Customer, Tag
from crm.models.enums import RiskLevel
from crm.services.customers import dossier, policies


def data(**overrides):
    values = {
        "name": "赵磊",
        "phone": "13512345678",
        "gender": "male",
        "risk_level": "R2",
        "liquid_assets": Decimal("1200000.50"),
        "willingness": 55,
        "tags": "高净值， 企业主,高净值",
        "sms_consent": True,
    }
    values.update(overrides)
    return values


def count(model):
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_create_normalises_and_audits(world):
    customer = dossier.create_customer(world.alice, data())
    db.session.commit()
    assert customer.phone == "+8613512345678"
    assert customer.phone_last4 == "5678"
    assert customer.tag_names == ["企业主", "高净值"]
    assert customer.owner == world.alice and customer.branch == world.east
    assert customer.sms_consent_at is not None
    rows = db.session.scalars(sa.select(AuditLog).where(AuditLog.customer_id == customer.id)).all()
    assert {r.field for r in rows} >= {"name", "phone", "liquid_assets", "tags"}
    assert all(r.actor_id == world.alice.id and r.action == "create" for r in rows)


@pytest.mark.parametrize(
    "field, value",
    [
        ("phone", "12345"),
        ("liquid_assets", Decimal("-1")),
        # Two days ahead: the future in Shanghai whatever the machine's own zone and hour.
        ("birth_date", date.today() + timedelta(days=2)),
        ("name", "名" * 61),
        ("willingness", 101),
        ("risk_level", "R9"),
        ("email", "not-an-address"),
        ("owner_id", 999999),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(world, field, value):
    before = (count(Customer), count(AuditLog), count(Tag))
    with pytest.raises(InvalidInput) as error:
        dossier.create_customer(world.alice, data(**{field: value}))
    db.session.rollback()
    assert field in error.value.errors
    assert (count(Customer), count(AuditLog), count(Tag)) == before


def test_duplicate_phone_is_refused(world):
    with pytest.raises(InvalidInput) as error:
        dossier.create_customer(world.alice, data(phone="138 0000 1111"))
    assert "phone" in error.value.errors


def test_staff_cannot_give_a_customer_to_someone_else(world):
    with pytest.raises(InvalidInput) as error:
        dossier.create_customer(world.alice, data(owner_id=world.bob.id))
    assert "owner_id" in error.value.errors


def test_manager_can_assign_within_branch_but_not_across(world):
    customer = dossier.create_customer(
        world.manager, data(owner_id=world.bob.id, branch_id=world.east.id)
    )
    assert customer.owner == world.bob
    with pytest.raises(InvalidInput) as error:
        dossier.create_customer(world.manager, data(phone="13612345678", owner_id=world.carol.id))
    assert "owner_id" in error.value.errors


def test_admin_owner_must_work_at_the_chosen_branch(world):
    with pytest.raises(InvalidInput) as error:
        dossier.create_customer(world.admin, data(owner_id=world.carol.id, branch_id=world.east.id))
    assert "owner_id" in error.value.errors


def test_update_records_each_changed_field_with_old_and_new(world):
    customer = world.alice_customer
    values = dossier.form_values(customer) | {"willingness": 70, "occupation": "医生"}
    changes = dossier.update_customer(world.alice, customer, values, expected_version=1)
    db.session.commit()
    assert set(changes) == {"willingness", "occupation"}
    assert customer.version == 2
    rows = db.session.scalars(
        sa.select(AuditLog).where(AuditLog.customer_id == customer.id, AuditLog.action == "update")
    ).all()
    assert {(r.field, r.old_value, r.new_value) for r in rows} == {
        ("willingness", "40", "70"),
        ("occupation", None, "医生"),
    }


def test_tag_only_change_moves_the_version(world):
    customer = world.alice_customer
    dossier.update_customer(
        world.alice, customer, dossier.form_values(customer) | {"tags": "退休"}, 1
    )
    db.session.commit()
    assert customer.version == 2 and customer.tag_names == ["退休"]


def test_stale_version_is_refused_with_what_was_missed(world):
    customer = world.alice_customer
    dossier.update_customer(
        world.alice, customer, dossier.form_values(customer) | {"willingness": 65}, 1
    )
    db.session.commit()
    with pytest.raises(revisions.StaleDossier) as stale:
        dossier.update_customer(
            world.manager, customer, dossier.form_values(customer) | {"willingness": 20}, 1
        )
    db.session.rollback()
    assert [(r.field, r.new_value) for r in stale.value.missed] == [("willingness", "65")]
    assert db.session.get(Customer, customer.id).willingness == 65


def test_concurrent_writer_between_read_and_write_is_caught(world, app):
    """Two sessions load version 1; the second to flush must fail, not overwrite."""
    customer = world.alice_customer
    other = db.session.registry()  # noqa: F841  (the scoped session of this thread)
    with db.engine.begin() as conn:
        # Someone else's committed update, straight to the table, as another worker would.
        conn.execute(
            sa.update(Customer.__table__)
            .where(Customer.__table__.c.id == customer.id)
            .values(willingness=90, version=2)
        )
    with pytest.raises(revisions.StaleDossier):
        dossier.update_customer(
            world.alice, customer, dossier.form_values(customer) | {"willingness": 10}, 1
        )
    db.session.rollback()
    db.session.expire_all()
    assert db.session.get(Customer, customer.id).willingness == 90


def test_consent_withdrawn_records_the_opt_out_time(world):
    customer = dossier.create_customer(world.alice, data())
    db.session.commit()
    dossier.update_customer(
        world.alice, customer, dossier.form_values(customer) | {"sms_consent": False}, 1
    )
    db.session.commit()
    assert customer.sms_consent is False and customer.sms_opt_out_at is not None


def test_policy_rules(world):
    world.alice_customer.risk_level = RiskLevel.R2  # participating policies are rated R2
    good = {
        "policy_number": "p-001",
        "product_name": "鑫享两全保险（分红型）",
        "product_type": "participating",
        "premium": Decimal("50000"),
        "payment_mode": "single",
        "start_date": date(2021, 3, 1),
        "maturity_date": date(2026, 3, 1),
        "status": "in_force",
        # Seed 000's compliance record, which a participating policy's sale needs.
        "dual_recording_ref": "SL-2021-000123",
        "returns_notice_shown": True,
        "risk_acknowledged": True,
    }
    policy = policies.add_policy(world.alice, world.alice_customer, good)
    db.session.commit()
    assert policy.policy_number == "P-001"
    for bad in (
        {"maturity_date": date(2020, 1, 1)},
        {"premium": Decimal("-5")},
        {"product_type": "crypto"},
        {"policy_number": "P-001"},
    ):
        with pytest.raises(InvalidInput):
            policies.add_policy(world.alice, world.alice_customer, good | bad)
        db.session.rollback()


def test_simultaneous_save_of_the_same_phone_is_explained_not_crashed(world, monkeypatch):
    """Two clerks open dossiers for one person at once: both pass the duplicate check,
    the database's unique constraint catches the second."""
    real_apply = dossier._apply

    def someone_else_saves_first(customer, values):
        with db.engine.begin() as conn:
            conn.execute(
                sa.insert(Customer.__table__).values(
                    name="别人",
                    phone=values["phone"],
                    phone_last4="5678",
                    gender="male",
                    liquid_assets=0,
                    willingness=30,
                    risk_level="R1",
                    owner_id=world.bob.id,
                    branch_id=world.east.id,
                    sms_consent=False,
                    version=1,
                    created_at=world.alice.created_at,
                    updated_at=world.alice.created_at,
                )
            )
        real_apply(customer, values)

    monkeypatch.setattr(dossier, "_apply", someone_else_saves_first)
    with pytest.raises(InvalidInput) as error:
        dossier.create_customer(world.alice, data())
    assert "phone" in error.value.errors
    db.session.rollback()
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).select_from(Customer).where(Customer.name == "赵磊")
        )
        == 0
    )
