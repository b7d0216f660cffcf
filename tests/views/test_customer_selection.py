"""Bulk actions on the customer list, as a form without script: tick rows (or all on the
page), then add or remove a tag, or invite them to an event."""

import re

import pytest
import sqlalchemy as sa

from crm.extensions import db
from crm.models import AuditLog, Customer, Experience
from crm.services.experiences import events
from tests.services.experiences.event_helpers import data
from tests.support.factories import make_customer
from tests.support.pages import EN, count, flash, text_of


def tags_of(customer) -> list[str]:
    db.session.expire_all()
    return db.session.get(Customer, customer.id).tag_names


@pytest.fixture
def listed(world):
    """Alice's three customers."""
    more = [make_customer(world.alice, n, p) for n, p in (("赵敏", "+8613700000001"),)]
    more.append(make_customer(world.alice, "孙丽", "+8613700000002"))
    db.session.commit()
    return [world.alice_customer, *more]


def test_the_list_has_a_checkbox_per_row_and_the_bulk_actions(listed, auth):
    auth.login("alice")
    page = auth.client.get("/customers", headers=EN).get_data(as_text=True)
    boxes = re.findall(r'name="ids" value="(\d+)" form="selection"', page)
    assert sorted(map(int, boxes)) == sorted(c.id for c in listed)
    assert sorted(map(int, re.findall(r'name="page_ids" value="(\d+)"', page))) == sorted(
        c.id for c in listed
    )
    for words in ("Select all on this page", "Add tag", "Remove tag", "Invite to an event"):
        assert words in page


def test_ticked_rows_are_tagged_and_the_list_comes_back_filtered_as_it_was(listed, auth):
    auth.login("alice")
    back = "/customers?quadrant=develop"
    response = auth.client.post(
        "/customers/selection",
        data={"ids": [listed[0].id, listed[2].id], "tag": "高净值", "action": "tag", "next": back},
        headers=EN,
    )
    assert response.status_code == 302 and response.headers["Location"] == back
    page = auth.client.get(back, headers=EN).get_data(as_text=True)
    assert flash(page) == "Tag “高净值” added to 2 customers."
    assert [tags_of(c) for c in listed] == [["高净值"], [], ["高净值"]]
    rows = db.session.scalars(sa.select(AuditLog).where(AuditLog.field == "tags")).all()
    assert {(r.customer_id, r.actor_id) for r in rows} == {
        (listed[0].id, listed[0].owner_id),
        (listed[2].id, listed[0].owner_id),
    }


def test_all_on_this_page_tags_every_row_of_the_page_without_script(listed, auth, settings):
    settings(CRM_PAGE_SIZE=2)
    auth.login("alice")
    page = auth.client.get("/customers").get_data(as_text=True)
    on_page = re.findall(r'name="page_ids" value="(\d+)"', page)
    assert len(on_page) == 2
    auth.client.post(
        "/customers/selection",
        data={"all_on_page": "1", "page_ids": on_page, "tag": "退休", "action": "tag"},
    )
    tagged = [c.id for c in listed if tags_of(c) == ["退休"]]
    assert sorted(tagged) == sorted(map(int, on_page))


def test_a_tag_is_removed_in_chinese_words(listed, auth):
    auth.login("alice")
    for action in ("tag", "untag"):
        auth.client.post(
            "/customers/selection",
            data={"ids": [listed[1].id], "tag": "退休", "action": action},
        )
        page = auth.client.get("/customers").get_data(as_text=True)
    assert flash(page) == "已从 1 位客户移除标签“退休”。"
    assert tags_of(listed[1]) == []


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"tag": "退休", "action": "tag"}, "Select at least one customer."),
        ({"ids": ["1"], "tag": "", "action": "tag"}, "Enter the tag."),
        ({"ids": ["1", "2"], "tag": "退休", "action": "tag"}, "not yours to change"),
        ({"ids": ["x"], "tag": "退休", "action": "tag"}, "not a customer"),
        ({"ids": ["1"], "tag": "退休", "action": "delete"}, "Choose what to do"),
    ],
)
def test_bad_input_says_why_and_changes_nothing(world, auth, form, message):
    auth.login("alice")
    before = count(AuditLog)
    response = auth.client.post(
        "/customers/selection", data={**form, "next": "https://evil.example/"}, headers=EN
    )
    assert response.status_code == 302 and response.headers["Location"] == "/customers"
    page = auth.client.get("/customers", headers=EN).get_data(as_text=True)
    assert message in page
    assert count(AuditLog) == before
    assert tags_of(world.bob_customer) == [] and tags_of(world.alice_customer) == []


def test_inviting_the_selection_shows_who_was_invited_and_who_not_and_why(world, auth):
    event = events.create_event(world.manager, data(capacity="5", total_cost="10000.00"))
    cheap = events.create_event(world.manager, data(title="茶话会", total_cost="100.00"))
    db.session.commit()
    auth.login("manager")
    ids = [world.alice_customer.id, world.bob_customer.id]
    chooser = auth.client.post(
        "/customers/selection", data={"ids": ids, "action": "invite"}, headers=EN
    )
    page = chooser.get_data(as_text=True)
    assert chooser.status_code == 200
    assert "2 customers selected" in page and "张伟" in page and "李娜" in page
    assert f'<option value="{event.id}">' in page and f'<option value="{cheap.id}">' in page
    assert count(Experience) == 0

    # A ¥1,000 seat passes a develop customer's ¥300 budget: both refused, in words.
    done = auth.client.post(
        "/customers/selection/invite", data={"ids": ids, "event": event.id}, headers=EN
    )
    text = text_of(done.get_data(as_text=True))
    assert "0 customers invited" in text and "2 customers not invited" in text
    assert "12-month budget by ¥" in text
    assert count(Experience) == 0

    done = auth.client.post(
        "/customers/selection/invite", data={"ids": ids, "event": cheap.id}, headers=EN
    )
    assert "2 customers invited" in text_of(done.get_data(as_text=True))
    assert count(Experience) == 2


def test_more_customers_than_places_left_asks_for_fewer(world, auth):
    event = events.create_event(world.manager, data(capacity="1", total_cost="100.00"))
    db.session.commit()
    auth.login("manager")
    ids = [world.alice_customer.id, world.bob_customer.id]
    response = auth.client.post("/customers/selection/invite", data={"ids": ids, "event": event.id})
    assert response.status_code == 422
    assert "只剩 1 个名额" in text_of(response.get_data(as_text=True))
    assert count(Experience) == 0


def test_staff_cannot_invite_customers_they_do_not_see(world, auth):
    event = events.create_event(world.manager, data(total_cost="100.00"))
    db.session.commit()
    auth.login("alice")
    response = auth.client.post(
        "/customers/selection/invite",
        data={"ids": [world.bob_customer.id], "event": event.id},
        headers=EN,
    )
    assert response.status_code == 302
    assert count(Experience) == 0


def test_the_message_says_how_many_already_had_the_tag(listed, auth):
    auth.login("alice")
    ids = [c.id for c in listed]
    auth.client.post("/customers/selection", data={"ids": ids[:1], "tag": "退休", "action": "tag"})
    auth.client.get("/customers")
    auth.client.post("/customers/selection", data={"ids": ids, "tag": "退休", "action": "tag"})
    page = auth.client.get("/customers").get_data(as_text=True)
    assert flash(page) == "已为 2 位客户添加标签“退休”。另有 1 位客户已有该标签。"
    auth.client.post(
        "/customers/selection", data={"ids": ids, "tag": "退休", "action": "untag"}, headers=EN
    )
    page = auth.client.get("/customers", headers=EN).get_data(as_text=True)
    assert flash(page) == "Tag “退休” removed from 3 customers."


def test_customers_outside_the_events_tiers_are_invited_only_once_confirmed(world, auth):
    # A private board suits ¥5M and more; the world's customers hold far less.
    board = events.create_event(
        world.manager, data(event_type="private_board", capacity="5", total_cost="100.00")
    )
    db.session.commit()
    auth.login("manager")
    ids = [world.alice_customer.id, world.bob_customer.id]
    asked = auth.client.post(
        "/customers/selection/invite", data={"ids": ids, "event": board.id}, headers=EN
    )
    page = asked.get_data(as_text=True)
    assert asked.status_code == 422
    assert "does not suit their asset tier" in text_of(page)
    assert 'name="outside_tiers_confirmed"' in page
    assert f'<option value="{board.id}" selected>' in page
    assert count(Experience) == 0

    confirmed = auth.client.post(
        "/customers/selection/invite",
        data={"ids": ids, "event": board.id, "outside_tiers_confirmed": "yes"},
        headers=EN,
    )
    assert "2 customers invited" in text_of(confirmed.get_data(as_text=True))
    assert count(Experience) == 2
