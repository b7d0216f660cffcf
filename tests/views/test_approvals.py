"""Approval requests on the pages: a refused plan offers to ask; the request waits at
/approvals and on the manager's today page; approving plans it, declining says why."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from crm.core.clock import local_today
from crm.extensions import db
from crm.models import ApprovalRequest, ApprovalStatus, Experience
from crm.models.enums import MoveCause
from crm.services.customers import tiering

pytestmark = pytest.mark.backends("sqlite")
EN = {"Accept-Language": "en"}


@pytest.fixture
def develop(world):
    tiering.place(world.alice_customer, MoveCause.IMPORT, None, first=True)
    db.session.commit()
    return world.alice_customer


def _ask(client, customer, reason="重要客户的到期续保"):
    plan = {
        "category": "premium_event",
        "due_on": local_today().isoformat(),
        "planned_cost": "1500.00",
        "notes": "酒会",
    }
    refused = client.post(f"/customers/{customer.id}/experiences/new", data=plan, headers=EN)
    page = refused.get_data(as_text=True)
    assert 'data-testid="ask-approval"' in page
    link = re.search(r'href="(/customers/\d+/approvals/new\?[^"]+)"', page)[1].replace("&amp;", "&")
    form = client.get(link, headers=EN).get_data(as_text=True)
    assert 'value="1500.00"' in form and "酒会" in form
    return client.post(
        f"/customers/{customer.id}/approvals/new", data={**plan, "reason": reason}, headers=EN
    )


def test_staff_ask_and_the_manager_approves(world, develop, auth, client):
    auth.login("alice")
    response = _ask(client, develop)
    assert response.status_code == 302
    request = db.session.scalars(sa.select(ApprovalRequest)).one()
    auth.logout()

    auth.login("manager")
    today = client.get("/today", headers=EN).get_data(as_text=True)
    assert "1 approval request waits for your decision" in today
    waiting = client.get("/approvals", headers=EN).get_data(as_text=True)
    assert f'data-request="{request.id}"' in waiting and "重要客户的到期续保" in waiting
    decided = client.post(
        f"/approvals/{request.id}/approve", data={"decision_reason": "同意"}, headers=EN
    )
    assert decided.status_code == 302
    experience = db.session.scalars(sa.select(Experience)).one()
    assert (experience.approved_by_id, experience.approval_reason) == (world.manager.id, "同意")
    again = client.post(
        f"/approvals/{request.id}/decline",
        data={"decision_reason": "不"},
        headers=EN,
        follow_redirects=True,
    )
    assert "This request has already been decided." in again.get_data(as_text=True)
    auth.logout()

    auth.login("alice")
    mine = client.get("/approvals", headers=EN).get_data(as_text=True)
    assert "Approved" in mine and "同意" in mine
    # Written in Alice's language (none chosen: Chinese), whatever the page is read in.
    assert "已批准：" in client.get("/notifications", headers=EN).get_data(as_text=True)


def test_declining_needs_a_reason_and_tells_the_staff_member(world, develop, auth, client):
    auth.login("alice")
    _ask(client, develop)
    request = db.session.scalars(sa.select(ApprovalRequest)).one()
    auth.logout()
    auth.login("manager")
    empty = client.post(
        f"/approvals/{request.id}/decline",
        data={"decision_reason": ""},
        headers={"Accept-Language": "zh-CN"},
        follow_redirects=True,
    )
    assert "请说明原因，以便告知员工。" in empty.get_data(as_text=True)
    client.post(f"/approvals/{request.id}/decline", data={"decision_reason": "预算不足"})
    db.session.expire_all()
    assert db.session.get(ApprovalRequest, request.id).status == ApprovalStatus.DECLINED
    assert db.session.scalars(sa.select(Experience)).all() == []


def test_an_empty_reason_is_refused_on_the_form(world, develop, auth, client):
    auth.login("alice")
    response = _ask(client, develop, reason="")
    assert response.status_code == 422
    assert "Say why the customer should have it." in response.get_data(as_text=True)
    assert db.session.scalars(sa.select(ApprovalRequest)).all() == []


def test_others_cannot_reach_a_request(world, develop, auth, client):
    auth.login("alice")
    _ask(client, develop)
    request = db.session.scalars(sa.select(ApprovalRequest)).one()
    auth.logout()
    auth.login("carol")  # staff of the other branch
    assert client.post(f"/approvals/{request.id}/approve", data={}).status_code == 404
    auth.logout()
    auth.login("bob")  # staff of the same branch, not a manager
    assert client.post(f"/approvals/{request.id}/approve", data={}).status_code == 404
    assert db.session.scalars(sa.select(Experience)).all() == []
