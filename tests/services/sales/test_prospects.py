"""Prospects (潜在客户) as the domain keeps them, whoever calls: one person one record, the
status steps, discarding with a reason, conversion into a dossier that keeps the history,
and walk-in guests at an event."""

from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from crm.core import audit, revisions
from crm.core.clock import local_today
from crm.core.inputs import InvalidInput
from crm.extensions import db
from crm.models import AuditLog, Customer, GroupEvent, Prospect, QuadrantEvent
from crm.models.enums import Channel, ProspectStatus, Quadrant, RiskLevel, Touchpoint
from crm.services.sales import conversion, prospects, walk_ins


def data(**overrides):
    values = {
        "name": "孙悦",
        "phone": "13712345678",
        "channel": "cold_visit",
        "notes": "想了解年金",
    }
    values.update(overrides)
    return values


def written() -> tuple[int, int, int]:
    db.session.expire_all()
    return tuple(
        db.session.scalar(sa.select(sa.func.count()).select_from(model))
        for model in (Prospect, Customer, AuditLog)
    )


def english(error, field: str) -> str:
    with force_locale("en"):
        return str(error.value.errors[field])


def added(world, **overrides) -> Prospect:
    prospect = prospects.create_prospect(world.alice, data(**overrides))
    db.session.commit()
    return prospect


def moved(world, prospect, *steps, reason=None) -> Prospect:
    for step in steps:
        prospects.move_prospect(world.alice, prospect, step, prospect.version, reason)
        db.session.commit()
    return prospect


def test_a_prospect_is_added_new_with_its_number_normalised_and_audited(world):
    prospect = added(world)
    assert prospect.status == ProspectStatus.NEW
    assert prospect.phone == "+8613712345678" and prospect.phone_last4 == "5678"
    assert (prospect.owner_id, prospect.branch_id) == (world.alice.id, world.east.id)
    assert prospect.channel == Channel.COLD_VISIT
    rows = db.session.scalars(sa.select(AuditLog).where(AuditLog.entity == "prospect")).all()
    assert {r.field for r in rows} >= {"name", "phone", "channel", "prospect_status"}
    assert {r.actor_id for r in rows} == {world.alice.id}


def test_a_number_another_prospect_has_is_refused_naming_it(world):
    first = added(world)
    before = written()
    with pytest.raises(prospects.DuplicatePhone) as error:
        # The same number, typed another way.
        prospects.create_prospect(world.bob, data(name="孙月", phone="+86 137 1234 5678"))
    assert error.value.existing == prospects.Existing("prospect", first.id)
    assert english(error, "phone") == f"Prospect #{first.id} already has this phone number."
    db.session.rollback()
    assert written() == before


def test_a_number_a_customer_has_is_refused_naming_the_dossier(world):
    before = written()
    with pytest.raises(prospects.DuplicatePhone) as error:
        prospects.create_prospect(world.alice, data(phone="13800001111"))  # 张伟's
    assert error.value.existing == prospects.Existing("customer", world.alice_customer.id)
    assert f"#{world.alice_customer.id}" in english(error, "phone")
    db.session.rollback()
    assert written() == before


def test_a_prospect_without_a_number_or_a_channel_is_refused(world):
    before = written()
    with pytest.raises(InvalidInput) as error:
        prospects.create_prospect(world.alice, data(phone="", channel=""))
    assert english(error, "phone") == "Enter a mobile phone number."
    assert "channel" in error.value.errors
    db.session.rollback()
    assert written() == before


def test_an_edit_cannot_take_another_ones_number_and_keeps_its_own_when_left_empty(world):
    mine = added(world)
    other = added(world, name="周杰", phone="13912340000")
    with pytest.raises(prospects.DuplicatePhone):
        prospects.update_prospect(world.alice, other, data(phone="13712345678"), other.version)
    db.session.rollback()
    changes = prospects.update_prospect(
        world.alice, mine, data(phone="", notes="孩子明年上大学"), mine.version
    )
    db.session.commit()
    assert set(changes) == {"notes"} and mine.phone == "+8613712345678"


def test_staff_see_their_own_prospects_managers_their_branch(world):
    prospect = added(world)
    assert prospects.prospect_for(world.alice, prospect.id) is prospect
    assert prospects.prospect_for(world.manager, prospect.id) is prospect
    assert prospects.prospect_for(world.admin, prospect.id) is prospect
    assert prospects.prospect_for(world.bob, prospect.id) is None
    assert prospects.prospect_for(world.carol, prospect.id) is None
    assert prospects.list_prospects(world.bob) == ([], None)


def test_the_status_moves_one_step_at_a_time(world):
    prospect = added(world)
    with pytest.raises(InvalidInput) as error:
        prospects.move_prospect(world.alice, prospect, "qualified", prospect.version)
    assert "one step at a time" in english(error, "status")
    db.session.rollback()
    moved(world, prospect, "contacted", "qualified")
    assert prospect.status == ProspectStatus.QUALIFIED
    with pytest.raises(InvalidInput):
        prospects.move_prospect(world.alice, prospect, "converted", prospect.version)
    db.session.rollback()
    statuses = db.session.scalars(
        sa.select(AuditLog.new_value)
        .where(AuditLog.entity == "prospect", AuditLog.field == "prospect_status")
        .order_by(AuditLog.id)
    ).all()
    assert statuses == ["new", "contacted", "qualified"]


def test_discarding_needs_a_reason_and_a_discarded_one_may_be_reopened(world):
    prospect = added(world)
    version = prospect.version
    with pytest.raises(InvalidInput) as error:
        prospects.move_prospect(world.alice, prospect, "discarded", version, "  ")
    assert english(error, "discard_reason") == "Say why the prospect is discarded."
    db.session.rollback()
    assert db.session.get(Prospect, prospect.id).status == ProspectStatus.NEW
    moved(world, prospect, "discarded", reason="已在他行购买")
    assert (prospect.status, prospect.discard_reason) == (ProspectStatus.DISCARDED, "已在他行购买")
    moved(world, prospect, "new")
    assert (prospect.status, prospect.discard_reason) == (ProspectStatus.NEW, None)


def test_a_move_from_a_version_that_moved_on_is_refused(world):
    prospect = added(world)
    old = prospect.version
    moved(world, prospect, "contacted")
    with pytest.raises(revisions.StaleDossier) as stale:
        prospects.move_prospect(world.alice, prospect, "discarded", old, "无意向")
    assert {row.field for row in stale.value.missed} == {"prospect_status"}
    db.session.rollback()
    assert db.session.get(Prospect, prospect.id).status == ProspectStatus.CONTACTED


def convert(world, prospect, **fields):
    values = {
        "gender": "female",
        "risk_level": "R3",
        "liquid_assets": Decimal("1500000.00"),
        "willingness": 65,
    }
    values.update(fields)
    customer = conversion.convert_prospect(world.alice, prospect, values, prospect.version)
    db.session.commit()
    return customer


def test_only_a_qualified_prospect_converts(world):
    prospect = added(world)
    moved(world, prospect, "contacted")
    before = written()
    with pytest.raises(InvalidInput):
        convert(world, prospect)
    db.session.rollback()
    assert written() == before


def test_conversion_opens_a_placed_dossier_that_keeps_the_prospects_history(world):
    prospect = added(world, channel="referral", referred_by_id=world.alice_customer.id)
    moved(world, prospect, "contacted", "qualified")
    customer = convert(world, prospect)
    # What the prospect knew, and what the staff member added.
    assert (customer.name, customer.phone) == ("孙悦", "+8613712345678")
    assert customer.channel == Channel.REFERRAL
    assert customer.referred_by_id == world.alice_customer.id
    assert customer.notes == "想了解年金"
    assert customer.risk_level == RiskLevel.R3
    # Placed in the grid: high capability and willingness.
    assert customer.quadrant == Quadrant.PAMPER
    assert (
        db.session.scalar(
            sa.select(QuadrantEvent.to_quadrant).where(QuadrantEvent.customer_id == customer.id)
        )
        == Quadrant.PAMPER
    )
    assert prospect.status == ProspectStatus.CONVERTED and prospect.customer_id == customer.id
    assert conversion.converted_from(customer.id) == prospect.id
    # The dossier's history holds the prospect's: added, contacted, qualified, converted.
    history = audit.dossier_history(customer.id)
    steps = [
        r.new_value
        for r in reversed(history)
        if r.entity == "prospect" and r.field == "prospect_status"
    ]
    assert steps == ["new", "contacted", "qualified", "converted"]
    notes = [r.new_value for r in history if r.entity == "prospect" and r.field == "notes"]
    assert notes == ["想了解年金"]
    assert any(r.entity == "customer" and r.action == "create" for r in history)
    # A converted prospect is kept as it was.
    with pytest.raises(InvalidInput):
        prospects.update_prospect(world.alice, prospect, data(notes="改"), prospect.version)
    db.session.rollback()


def test_a_conversion_the_dossier_rules_refuse_writes_nothing(world):
    prospect = added(world)
    moved(world, prospect, "contacted", "qualified")
    before = written()
    with pytest.raises(InvalidInput) as error:
        convert(world, prospect, willingness=150)
    assert "willingness" in error.value.errors
    db.session.rollback()
    assert written() == before
    assert db.session.get(Prospect, prospect.id).status == ProspectStatus.QUALIFIED


def event_of(world) -> GroupEvent:
    event = GroupEvent(
        category=Touchpoint.EVENT,
        title="客户联谊会",
        held_on=local_today() - timedelta(days=1),
        place="城东支行",
        capacity=30,
        total_cost=Decimal("3000.00"),
        branch=world.east,
        organiser_id=world.manager.id,
    )
    db.session.add(event)
    db.session.commit()
    return event


def test_walk_in_guests_become_prospects_from_the_event(world):
    event = event_of(world)
    made = walk_ins.add_walk_ins(
        world.alice, event, "王敏 13912345678\n\n赵强，１３６ ０００１ ２２２２\n"
    )
    db.session.commit()
    assert [(p.name, p.phone) for p in made] == [
        ("王敏", "+8613912345678"),
        ("赵强", "+8613600012222"),
    ]
    for prospect in made:
        assert prospect.channel == Channel.EVENT and prospect.group_event_id == event.id
        assert prospect.owner_id == world.alice.id and prospect.status == ProspectStatus.NEW


def test_one_bad_walk_in_line_refuses_the_whole_list_saying_which(world):
    event = event_of(world)
    taken = added(world)
    before = written()
    with pytest.raises(InvalidInput) as error:
        walk_ins.add_walk_ins(
            world.alice,
            event,
            "王敏 13912345678\n只有名字\n孙悦 13712345678\n王敏妹妹 13912345678",
        )
    with force_locale("en"):
        said = {k: str(v) for k, v in error.value.errors.items()}
    assert set(said) == {"line 2", "line 3", "line 4"}
    assert "Enter a mobile phone number." in said["line 2"]
    assert f"Prospect #{taken.id}" in said["line 3"]
    assert "line 1" in said["line 4"]
    db.session.rollback()
    assert written() == before


def test_an_event_one_cannot_see_is_refused_as_an_origin(world):
    event = event_of(world)  # 城东支行's
    with pytest.raises(InvalidInput) as error:
        prospects.create_prospect(world.carol, data(group_event_id=event.id))
    assert "group_event_id" in error.value.errors
