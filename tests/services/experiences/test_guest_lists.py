"""Finding guests by name, and inviting a chosen list (quadrant, tag, asset tier) in one step."""

from decimal import Decimal

import pytest
from flask_babel import force_locale

from crm.core.inputs import InvalidInput
from crm.extensions import db
from crm.models.enums import MoveCause, Quadrant
from crm.services.customers import tags, tiering
from crm.services.experiences import event_types, events, guest_lists, invitations
from tests.services.experiences.event_helpers import data, message, written
from tests.support.factories import make_customer


def placed(owner, name, phone, assets="100000.00", willingness=40):
    customer = make_customer(
        owner, name, phone, liquid_assets=Decimal(assets), willingness=willingness
    )
    db.session.flush()
    tiering.place(customer, MoveCause.DOSSIER_EDIT, None, first=True)
    return customer


@pytest.fixture
def bank(world):
    """Alice's customers: three pampered (one at ¥5,000,000), two to develop; Bob's one
    pampered customer, whom Alice may not see."""
    rich = [
        placed(world.alice, "钱一", "+8613700000001", "1200000.00", 70),
        placed(world.alice, "钱二", "+8613700000002", "2500000.00", 80),
        placed(world.alice, "钱三", "+8613700000003", "5000000.00", 90),
    ]
    poor = [
        placed(world.alice, "孙一", "+8613700000004"),
        placed(world.alice, "孙二", "+8613700000005"),
    ]
    bobs = placed(world.bob, "钱四", "+8613700000006", "3000000.00", 90)
    db.session.commit()
    assert {c.quadrant for c in rich} == {Quadrant.PAMPER}
    return rich, poor, bobs


def event_of(world, **fields):
    """A premium event by default: the matrix offers it to pampered customers (a general
    event, never)."""
    event = events.create_event(world.manager, data(**{"category": "premium_event", **fields}))
    db.session.commit()
    return event


def test_nothing_chosen_or_an_unknown_choice_is_refused(world):
    with pytest.raises(InvalidInput) as error:
        guest_lists.read_choice({"quadrant": "", "tag": "", "tier": ""})
    assert message(error, "") == "Choose a quadrant, a tag or an asset tier."
    with pytest.raises(InvalidInput) as error:
        guest_lists.read_choice({"quadrant": "rich"})
    assert message(error, "quadrant") == "Choose one of the listed values."
    with pytest.raises(InvalidInput) as error:
        guest_lists.read_choice({"tier": "9"})
    assert message(error, "tier") == "Choose one of the listed values."
    with pytest.raises(InvalidInput) as error:
        guest_lists.read_choice({"tag": "无此标签"})
    assert "No customer carries the tag" in message(error, "tag")


def test_a_quadrant_is_invited_in_one_step_within_the_users_scope(world, bank):
    rich, _, bobs = bank
    event = event_of(world)
    choice = guest_lists.read_choice({"quadrant": "pamper"})
    result = guest_lists.invite_list(world.alice, event, choice)
    db.session.commit()
    assert sorted(c.name for c in result.invited) == ["钱一", "钱三", "钱二"]
    assert bobs not in result.invited  # Bob's customer is not Alice's to invite
    assert invitations.seats_taken(event) == 3
    # Asked again, they are already invited and nothing more is written.
    before = written()
    again = guest_lists.invite_list(world.alice, event, choice)
    db.session.commit()
    assert again.invited == [] and len(again.already) == 3
    assert written() == before


def test_the_preview_applies_the_invitations_rules_and_writes_nothing(world, bank):
    _, poor, _ = bank
    # ¥5,000 a seat: past a develop customer's 12-month budget.
    event = event_of(world, category="event", total_cost="50000.00", capacity="10")
    before = written()
    choice = guest_lists.read_choice({"tier": "1"})
    preview = guest_lists.preview(world.alice, event, choice)
    assert written() == before
    assert preview.invited == []
    assert {c.name for c, _ in preview.refused} == {"孙一", "孙二", "张伟"}
    with force_locale("en"):
        why = [" ".join(map(str, texts)) for _, texts in preview.refused]
    assert all("pass the customer's 12-month budget" in text for text in why)
    result = guest_lists.invite_list(world.alice, event, choice)
    db.session.commit()
    assert result.invited == [] and [c.name for c, _ in result.refused] == [
        c.name for c, _ in preview.refused
    ]
    assert poor[0] not in result.invited


def test_a_list_over_the_places_left_is_refused_whole(world, bank):
    event = event_of(world, capacity="2", total_cost="200.00")
    before = written()
    with pytest.raises(InvalidInput) as error:
        guest_lists.invite_list(world.alice, event, guest_lists.read_choice({"quadrant": "pamper"}))
    db.session.rollback()
    assert "3 of the chosen customers can be invited, but only 2 places are left" in message(
        error, ""
    )
    assert written() == before
    preview = guest_lists.preview(
        world.alice, event, guest_lists.read_choice({"quadrant": "pamper"})
    )
    assert len(preview.invited) == 2 and len(preview.no_place) == 1


def test_a_tag_and_a_tier_narrow_the_list(world, bank):
    rich, _, _ = bank
    tags.set_tags(rich[0], ["高尔夫"])
    tags.set_tags(rich[2], ["高尔夫"])
    db.session.commit()
    event = event_of(world)
    choice = guest_lists.read_choice({"tag": "高尔夫", "tier": "3"})
    result = guest_lists.invite_list(world.alice, event, choice)
    db.session.commit()
    assert [c.name for c in result.invited] == ["钱三"]  # ¥5,000,000 exactly: the third tier


def test_customers_outside_the_types_tiers_are_invited_only_once_confirmed(world, bank):
    event = event_of(world, event_type="private_board", category="premium_event")
    choice = guest_lists.read_choice({"quadrant": "pamper"})
    before = written()
    with pytest.raises(event_types.OutsideTiers) as question:
        guest_lists.invite_list(world.alice, event, choice)
    db.session.rollback()
    assert written() == before
    assert sorted(c.name for c in question.value.customers) == ["钱一", "钱二"]
    preview = guest_lists.preview(world.alice, event, choice)
    assert sorted(c.name for c in preview.outside) == ["钱一", "钱二"]
    result = guest_lists.invite_list(world.alice, event, choice, outside_tiers_confirmed=True)
    db.session.commit()
    assert len(result.invited) == 3


@pytest.mark.parametrize("text", ["钱", "qian", "qy", "0003", "13700000003"])
def test_guests_are_found_by_name_pinyin_initials_or_phone_tail(world, bank, text):
    event = event_of(world)
    found = {c.name for c in guest_lists.find_guests(world.alice, event, text)}
    assert found
    assert "钱四" not in found  # Bob's customer
    if text.isdigit():
        assert found == {"钱三"}


def test_a_manager_finds_the_whole_branch(world, bank):
    event = event_of(world)
    found = {c.name for c in guest_lists.find_guests(world.manager, event, "钱")}
    assert found == {"钱一", "钱二", "钱三", "钱四"}
    assert guest_lists.find_guests(world.manager, event, "   ") == []
