"""Complaints (客户投诉) as staff record and answer them: the 7-day answer, willingness lowered
on opening, an answer dated before the complaint refused, overdue exactly after the due time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from crm.extensions import db
from crm.models import AuditLog, Complaint, Customer
from crm.services.followup import complaints
from tests.support.pages import EN, count, flash, text_of


def test_opening_a_complaint_lowers_willingness_and_sets_the_answer_due(world, auth):
    customer = world.alice_customer
    auth.login("alice")
    response = auth.client.post(
        f"/customers/{customer.id}/complaints/new",
        # Entered in the branch's local time (Shanghai, UTC+8).
        data={"point": "满期金到账晚了三天", "opened_at": "2025-03-02T09:30"},
        headers=EN,
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert response.request.path == f"/customers/{customer.id}"
    assert "Complaint recorded. A definite answer is due by Mar 9, 2025, 9:30" in flash(page)
    assert "满期金到账晚了三天" in page and "overdue" in text_of(page)

    db.session.expire_all()
    saved = db.session.scalars(sa.select(Complaint)).one()
    assert saved.opened_at == datetime(2025, 3, 2, 1, 30, tzinfo=UTC)
    assert saved.due_at == datetime(2025, 3, 9, 1, 30, tzinfo=UTC)
    assert db.session.get(Customer, customer.id).willingness == 30  # 40 − 10
    listed = auth.client.get("/complaints", headers=EN).get_data(as_text=True)
    assert f'data-complaint="{saved.id}" class="overdue"' in listed


def test_a_complaint_without_its_point_is_refused(world, auth):
    auth.login("alice")
    response = auth.client.post(
        f"/customers/{world.alice_customer.id}/complaints/new", data={"point": " "}, headers=EN
    )
    assert response.status_code == 422
    assert "Say what the customer complains about." in response.get_data(as_text=True)
    assert count(Complaint) == 0
    assert db.session.get(Customer, world.alice_customer.id).willingness == 40


def test_an_answer_before_the_complaint_was_opened_is_refused(world, auth):
    opened = datetime(2025, 3, 2, 1, 30, tzinfo=UTC)
    complaint = complaints.open_complaint(
        world.alice, world.alice_customer, {"point": "态度差", "opened_at": opened}
    )
    db.session.commit()
    auth.login("alice")
    response = auth.client.post(
        f"/complaints/{complaint.id}/answer",
        data={
            "handling_opinion": "已致歉",
            "non_routine_surrender": "no",
            "satisfied": "yes",
            "answered_at": "2025-03-02T09:00",  # 30 minutes before it came in
            "version": str(complaint.version),
        },
        headers=EN,
    )
    assert response.status_code == 422
    assert "cannot be answered before it was opened" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Complaint, complaint.id).answered_at is None
    assert count_answers() == 0

    ok = auth.client.post(
        f"/complaints/{complaint.id}/answer",
        data={
            "handling_opinion": "已致歉",
            "non_routine_surrender": "no",
            "satisfied": "yes",
            "answered_at": "2025-03-05T16:00",
            "version": str(complaint.version),
        },
        headers=EN,
        follow_redirects=True,
    )
    assert "Complaint answered within its due time." in flash(ok.get_data(as_text=True))
    db.session.expire_all()
    assert db.session.get(Complaint, complaint.id).answered_at == datetime(
        2025, 3, 5, 8, 0, tzinfo=UTC
    )


def count_answers() -> int:
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(AuditLog)
        .where(AuditLog.entity == "complaint", AuditLog.action == "answer")
    )


def test_a_complaint_is_overdue_just_after_its_due_time_and_not_at_it(world, auth, monkeypatch):
    opened = datetime(2025, 3, 2, 1, 30, tzinfo=UTC)
    complaint = complaints.open_complaint(
        world.alice, world.alice_customer, {"point": "理赔慢", "opened_at": opened}
    )
    db.session.commit()
    due = complaint.due_at
    assert due == opened + timedelta(days=7)
    auth.login("alice")

    monkeypatch.setattr(complaints, "utcnow", lambda: due)
    at_due = auth.client.get("/complaints", headers=EN).get_data(as_text=True)
    assert f'data-complaint="{complaint.id}" class=""' in at_due
    assert "Mar 9, 2025, 9:30" in at_due  # the due time in the branch's zone (UTC+8)

    monkeypatch.setattr(complaints, "utcnow", lambda: due + timedelta(seconds=1))
    after = auth.client.get("/complaints", headers=EN).get_data(as_text=True)
    assert f'data-complaint="{complaint.id}" class="overdue"' in after
    assert "1 overdue" in text_of(after)
