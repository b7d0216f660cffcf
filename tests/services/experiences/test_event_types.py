"""Group event types (微沙龙, 答谢会, 私董会, 财富传承讲座) and the asset tiers each suits."""

from decimal import Decimal

import pytest
import sqlalchemy as sa

from crm.core.inputs import InvalidInput
from crm.extensions import db
from crm.models import AuditLog, Experience
from crm.models.enums import EventType
from crm.services.experiences import event_types, events, invitations
from tests.services.experiences.event_helpers import count, data, message, written
from tests.support.factories import make_customer

ALL = frozenset({1, 2, 3})


def customer_with(world, assets: str, name: str = "钱多多", phone: str = "+8613700009999"):
    customer = make_customer(world.alice, name, phone, liquid_assets=Decimal(assets))
    db.session.commit()
    return customer


def private_board(world, **overrides):
    """A private board held as a general event: the matrix offers it to these customers
    (their quadrant is left as a new dossier's, develop)."""
    event = events.create_event(world.manager, data(event_type="private_board", **overrides))
    db.session.commit()
    return event


def test_each_type_suits_the_tiers_seed_002_gives_it_by_default(world):
    assert event_types.suited_tiers() == {
        EventType.SALON: ALL,
        EventType.APPRECIATION: ALL,
        EventType.PRIVATE_BOARD: frozenset({3}),
        EventType.LEGACY_LECTURE: frozenset({2, 3}),
    }


def test_an_event_is_created_with_its_type_audited_and_a_salon_when_none_is_named(world):
    board = private_board(world)
    assert board.event_type == EventType.PRIVATE_BOARD
    created = db.session.scalars(
        sa.select(AuditLog).where(
            AuditLog.entity == "group_event",
            AuditLog.entity_id == board.id,
            AuditLog.field == "event_type",
        )
    ).one()
    assert created.new_value == "private_board"
    plain = events.create_event(world.manager, data())
    assert plain.event_type == EventType.SALON


def test_an_unknown_type_is_refused_and_nothing_written(world):
    before = written()
    with pytest.raises(InvalidInput) as error:
        events.create_event(world.manager, data(event_type="gala"))
    db.session.rollback()
    assert message(error, "event_type") == "Choose one of the listed values."
    assert written() == before


@pytest.mark.parametrize(
    ("assets", "asks"),
    [("4999999.99", True), ("5000000.00", False), ("1000000.00", True), ("80000000.00", False)],
)
def test_inviting_outside_the_suited_tiers_asks_first_at_the_exact_bound(world, assets, asks):
    board = private_board(world)
    customer = customer_with(world, assets)
    if not asks:
        invitations.invite(world.alice, board, customer)
        db.session.commit()
        assert invitations.seats_taken(board) == 1
        return
    before = written()
    with pytest.raises(event_types.OutsideTiers) as question:
        invitations.invite(world.alice, board, customer)
    db.session.rollback()
    assert question.value.customers == [customer]
    assert "钱多多" in message(question, "outside_tiers")
    assert "does not suit their asset tier" in message(question, "outside_tiers")
    assert written() == before
    invitations.invite(world.alice, board, customer, outside_tiers_confirmed=True)
    db.session.commit()
    assert count(Experience) == 1


def test_a_salon_invites_every_tier_without_asking(world):
    salon = events.create_event(world.manager, data(event_type="salon"))
    db.session.commit()
    invitations.invite(world.alice, salon, customer_with(world, "20000000.00"))
    invitations.invite(world.alice, salon, world.alice_customer)  # ¥100,000
    db.session.commit()
    assert invitations.seats_taken(salon) == 2


def test_admins_change_the_tiers_a_type_suits_audited(world):
    chosen = {t.value: ["1", "2", "3"] for t in EventType}
    chosen["private_board"] = ["2", "3"]
    changes = event_types.save_suited_tiers(world.admin, chosen, event_types.fingerprint())
    db.session.commit()
    assert changes
    assert event_types.suited_tiers()[EventType.PRIVATE_BOARD] == {2, 3}
    row = db.session.scalars(sa.select(AuditLog).where(AuditLog.entity == "setting")).one()
    assert row.actor_id == world.admin.id and "private_board:2,3" in row.new_value
    # A ¥1,000,000 customer now suits the private board: invited without a question.
    invitations.invite(world.alice, private_board(world), customer_with(world, "1000000.00"))


def test_a_type_suiting_no_tier_or_an_unknown_tier_is_refused_and_nothing_written(world):
    seen, before = event_types.fingerprint(), written()
    chosen = {t.value: ["1"] for t in EventType}
    chosen["salon"] = []
    with pytest.raises(InvalidInput) as error:
        event_types.save_suited_tiers(world.admin, chosen, seen)
    assert message(error, "salon") == "Choose at least one tier."
    chosen["salon"] = ["7"]
    with pytest.raises(InvalidInput) as error:
        event_types.save_suited_tiers(world.admin, chosen, seen)
    assert message(error, "salon") == "Choose one of the listed values."
    db.session.rollback()
    assert event_types.fingerprint() == seen
    assert written() == before


def test_saving_over_someone_elses_change_is_refused(world):
    seen = event_types.fingerprint()
    first = {t.value: ["1", "2", "3"] for t in EventType}
    first["legacy_lecture"] = ["3"]
    event_types.save_suited_tiers(world.admin, first, seen)
    db.session.commit()
    second = {t.value: ["1"] for t in EventType}
    with pytest.raises(InvalidInput) as error:
        event_types.save_suited_tiers(world.admin, second, seen)
    db.session.rollback()
    assert "in the meantime" in message(error, "")
    assert event_types.suited_tiers()[EventType.LEGACY_LECTURE] == {3}
