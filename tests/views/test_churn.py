"""Churn warning on the pages: the dossier shows the level and its reasons and sets the
relationship status (bad input refused, nothing written); the list filters by churn risk."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from crm.core.clock import local_today
from crm.extensions import db
from crm.models import AuditLog, Customer
from crm.models.base import utcnow
from crm.models.enums import ChurnLevel, LostReason, RelationshipStatus
from crm.services.retention import scoring
from tests.support.factories import make_customer
from tests.support.pages import EN, flash, text_of

pytestmark = pytest.mark.backends("sqlite")


def silent_for(customer, days: int) -> None:
    customer.created_at = utcnow() - timedelta(days=days)


def test_the_dossier_shows_the_level_and_its_reasons(world, auth):
    customer = world.alice_customer
    silent_for(customer, 200)
    db.session.commit()
    scoring.score_all()
    db.session.commit()
    auth.login("alice")
    page = auth.client.get(f"/customers/{customer.id}", headers=EN).get_data(as_text=True)
    text = text_of(page)
    assert "Churn risk" in text and "25 of 100" in text
    assert "no positive contact for 200 days" in text
    zh = auth.client.get(f"/customers/{customer.id}", headers={"Accept-Language": "zh-CN"})
    assert "200 天无正面接触" in text_of(zh.get_data(as_text=True))


def post_status(auth, customer, **data):
    return auth.client.post(
        f"/customers/{customer.id}/relationship",
        data={"version": customer.version, **data},
        headers=EN,
        follow_redirects=True,
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"lost_on": "2026-01-01"}, "Say why the customer was lost."),
        ({"lost_reason": "deceased", "lost_on": "2999-01-01"}, "cannot be in the future"),
        ({"lost_reason": "deceased", "lost_on": "2000-01-01"}, "before the dossier was opened"),
    ],
)
def test_a_bad_status_is_refused_with_a_message_and_nothing_written(world, auth, data, message):
    customer = world.alice_customer
    auth.login("alice")
    response = post_status(auth, customer, relationship_status="lost", **data)
    assert response.status_code == 200
    assert message in text_of(response.get_data(as_text=True))
    db.session.expire_all()
    assert db.session.get(Customer, customer.id).relationship_status == RelationshipStatus.ACTIVE
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditLog)) == 0


def test_staff_mark_a_customer_lost_from_the_dossier(world, auth):
    customer = world.alice_customer
    auth.login("alice")
    today = local_today().isoformat()
    response = post_status(
        auth, customer, relationship_status="lost", lost_reason="moved_away", lost_on=today
    )
    page = response.get_data(as_text=True)
    assert "Relationship status saved." in flash(page)
    db.session.expire_all()
    saved = db.session.get(Customer, customer.id)
    assert (saved.relationship_status, saved.lost_reason) == (
        RelationshipStatus.LOST,
        LostReason.MOVED_AWAY,
    )
    assert "Moved away" in text_of(page)


def test_the_list_filters_by_churn_risk(world, auth):
    high = make_customer(world.alice, "高风险", "+8613800009991", churn_level=ChurnLevel.HIGH)
    make_customer(world.alice, "低风险", "+8613800009992", churn_level=ChurnLevel.LOW)
    db.session.commit()
    auth.login("alice")
    page = auth.client.get("/customers?churn=high", headers=EN).get_data(as_text=True)
    assert high.name in page and "低风险" not in page and world.alice_customer.name not in page
    everyone = auth.client.get("/customers?churn=nonsense", headers=EN).get_data(as_text=True)
    assert "低风险" in everyone and high.name in everyone
