"""A handover of more customers than a request should move: queued for the scheduler
process, shown on the page as it goes, and moving exactly what an inline handover moves."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from crm.core import jobs as queue
from crm.extensions import db
from crm.models import BackgroundJob, Customer
from crm.scheduler import jobs as scheduler_jobs
from tests.support.pages import EN, text_of


def owners() -> dict[int, int]:
    db.session.expire_all()
    return dict(db.session.execute(sa.select(Customer.id, Customer.owner_id)).all())


@pytest.fixture
def few_inline(app, monkeypatch):
    """Every handover counts as large: none moves within the request."""
    monkeypatch.setitem(app.config, "CRM_HANDOVER_INLINE", 0)


def test_a_large_handover_is_queued_and_the_scheduler_moves_it(world, auth, few_inline):
    before = owners()
    auth.login("manager")
    response = auth.client.post(
        "/customers/handover",
        data={"giver": world.alice.id, "receiver": world.bob.id},
        headers=EN,
    )
    assert response.status_code == 302
    page = text_of(auth.client.get(response.headers["Location"], headers=EN).get_data(True))
    assert "the handover is queued and runs in the background" in page
    assert "Queued at" in page
    assert owners() == before  # nothing moved within the request

    # The scheduler process claims it and runs it, as it runs a re-tier.
    queue.run(queue.claim("test"), scheduler_jobs.LONG_WORK)
    moved = owners()
    assert moved[world.alice_customer.id] == world.bob.id
    assert {c: o for c, o in moved.items() if c != world.alice_customer.id} == {
        c: o for c, o in before.items() if c != world.alice_customer.id
    }
    done = text_of(auth.client.get("/customers/handover", headers=EN).get_data(True))
    assert "Customers handed over from Alice to Bob: 1, with" in done
    chinese = text_of(auth.client.get("/customers/handover").get_data(True))
    assert "完成：" in chinese and "Alice" in chinese


def test_a_refusal_is_said_at_once_and_nothing_is_queued(world, auth, few_inline):
    auth.login("manager")
    response = auth.client.post(
        "/customers/handover",
        data={"giver": world.alice.id, "receiver": world.alice.id},
        headers=EN,
    )
    assert response.status_code == 422
    assert "Customers cannot be handed over to the same staff member." in text_of(
        response.get_data(True)
    )
    assert db.session.scalar(sa.select(sa.func.count()).select_from(BackgroundJob)) == 0


def test_a_second_large_handover_waits_for_the_first(world, auth, few_inline):
    auth.login("manager")
    first = auth.client.post(
        "/customers/handover", data={"giver": world.alice.id, "receiver": world.bob.id}
    )
    assert first.status_code == 302
    second = auth.client.post(
        "/customers/handover",
        data={"giver": world.bob.id, "receiver": world.alice.id},
        headers=EN,
    )
    assert second.status_code == 422
    assert "Other long work is under way" in text_of(second.get_data(True))
    assert db.session.scalar(sa.select(sa.func.count()).select_from(BackgroundJob)) == 1
