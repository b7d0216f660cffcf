"""Maturity follow-up as staff use it: the day's call-backs and their quota, recording one,
the call-backs on the dossier and the demo bank's follow-up work. The manager's targets page is
`tests/views/test_followup_targets.py`'s; complaints are `tests/views/test_complaints.py`'s;
referrals, suitability and channels `tests/views/test_referrals.py`'s."""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from crm.core.clock import local_today
from crm.extensions import db
from crm.models import Complaint, Customer, Experience, MaturityCallback, Product
from crm.models.enums import CallbackIntent, MoveCause, ProductType, Quadrant
from crm.services.customers import tiering
from crm.services.followup import calls, complaints
from tests.support.pages import EN, count, flash, text_of
from tests.views.maturities import callback_of, next_month, policy, scan


def product(name: str) -> Product:
    return db.session.scalars(sa.select(Product).where(Product.name == name)).one()


def progress(page: str) -> str:
    return re.search(r'data-testid="progress">([^<]*)<', page)[1]


# --- the call-back list ------------------------------------------------------------------------


@pytest.fixture
def day_of_calls(world):
    """Alice owes three call-backs (maturing on the 20th, 3rd and 11th of next month); Bob one."""
    c = world.alice_customer
    c.birth_date = date(local_today().year - 45, 1, 1)  # 41–50: pension planning
    policies = {
        "late": policy(c, next_month(20)),
        "first": policy(c, next_month(3), ProductType.UNIVERSAL),
        "middle": policy(c, next_month(11)),
        "bobs": policy(world.bob_customer, next_month(5)),
    }
    db.session.commit()
    scan()
    return policies


def test_callbacks_are_listed_most_urgent_first_with_the_days_quota(world, day_of_calls, auth):
    auth.login("alice")
    page = auth.client.get("/callbacks", headers=EN).get_data(as_text=True)
    rows = re.findall(r'data-callback="(\d+)"', page)
    expected = [callback_of(day_of_calls[k]).id for k in ("first", "middle", "late")]
    assert [int(r) for r in rows] == expected
    assert progress(page) == "Done today 0 / 20"
    assert re.search(r'<progress class="quota" max="20" value="0"', page)
    listed = text_of(page)
    assert "138****1111" in listed and "13800001111" not in listed  # masked phone
    assert "Universal life" in listed and day_of_calls["first"].policy_number in listed
    # Seed 003's hint for 41–50, narrowed to what an R1 customer may be offered: no annuity
    # (R2) and no universal life (R3) on the shelf is suitable.
    assert "pension planning" in listed
    assert "No suitable product of this kind on the shelf." in listed
    assert "李娜" not in listed  # Bob's customer is on Bob's list
    assert auth.client.get("/callbacks").status_code == 200  # the Chinese page renders too


def test_recording_a_call_back_counts_towards_the_quota_and_leaves_the_list(
    world, day_of_calls, auth
):
    customer = world.alice_customer
    customer.willingness = 55  # develop, five short of maintain
    tiering.place(customer, MoveCause.IMPORT, None, first=True)
    db.session.commit()
    callback = callback_of(day_of_calls["first"])
    auth.login("alice")
    form = auth.client.get(f"/callbacks/{callback.id}/record", headers=EN).get_data(as_text=True)
    assert "Convert to a deposit" in form and "Unreachable" in form
    assert day_of_calls["first"].policy_number in form

    response = auth.client.post(
        f"/callbacks/{callback.id}/record",
        data={
            "intent": "new_policy",
            "maturity_note": "满期金约5.6万元",
            "conversion_note": "考虑转投年金",
            "remarks": "周末再约面谈",
            "product_id": str(product("终身寿险").id),
            "version": str(callback.version),
        },
        headers=EN,
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert response.request.path == "/callbacks"
    message = flash(page)
    assert "Call-back recorded" in message and "Convert to a new policy" in message
    assert "moved from Develop to Maintain" in message
    assert progress(page) == "Done today 1 / 20"
    assert f'data-callback="{callback.id}"' not in page
    assert len(re.findall(r'data-callback="(\d+)"', page)) == 2

    db.session.expire_all()
    saved = db.session.get(MaturityCallback, callback.id)
    assert saved.intent == CallbackIntent.NEW_POLICY and saved.recorded_by_id == world.alice.id
    assert saved.conversion_note == "考虑转投年金" and saved.product.name == "终身寿险"
    assert saved.experience.notes.endswith("周末再约面谈")
    assert db.session.get(Customer, customer.id).quadrant == Quadrant.MAINTAIN


def test_another_staff_members_call_back_is_missing_and_nothing_is_written(
    world, day_of_calls, auth
):
    bobs = callback_of(day_of_calls["bobs"])
    auth.login("alice")
    assert auth.client.get(f"/callbacks/{bobs.id}/record").status_code == 404
    posted = auth.client.post(
        f"/callbacks/{bobs.id}/record", data={"intent": "renew", "version": str(bobs.version)}
    )
    assert posted.status_code == 404
    db.session.expire_all()
    assert db.session.get(MaturityCallback, bobs.id).recorded_at is None
    assert count(Experience) == 0
    auth.logout()
    auth.login("manager")  # Bob's branch manager may record it for him
    assert auth.client.get(f"/callbacks/{bobs.id}/record").status_code == 200


def test_an_intent_outside_the_list_is_refused_and_nothing_is_written(world, day_of_calls, auth):
    callback = callback_of(day_of_calls["first"])
    auth.login("alice")
    response = auth.client.post(
        f"/callbacks/{callback.id}/record",
        data={"intent": "maybe", "remarks": "x", "version": str(callback.version)},
        headers=EN,
    )
    assert response.status_code == 422
    assert "Choose one of the listed values." in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(MaturityCallback, callback.id).recorded_at is None
    assert count(Experience) == 0
    assert db.session.get(Customer, world.alice_customer.id).willingness == 40


def test_recommending_a_product_above_the_risk_level_is_refused_with_the_levels(
    world, day_of_calls, auth
):
    callback = callback_of(day_of_calls["middle"])
    auth.login("alice")
    form = auth.client.get(f"/callbacks/{callback.id}/record", headers=EN).get_data(as_text=True)
    offered = re.findall(r'<option value="\d+"[^>]*>([^<]*)</option>', form)
    assert offered and all(o.endswith("R1") for o in offered)  # an R1 customer's shelf

    linked = product("投资连结保险")
    response = auth.client.post(
        f"/callbacks/{callback.id}/record",
        data={"intent": "new_policy", "product_id": str(linked.id), "version": "1"},
        headers=EN,
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "rated R4, above the customer's risk level R1" in html.unescape(page)
    assert "protection products only" in page
    db.session.expire_all()
    assert db.session.get(MaturityCallback, callback.id).recorded_at is None
    assert count(Experience) == 0


def test_a_stale_call_back_form_is_refused_with_409(world, day_of_calls, auth):
    callback = callback_of(day_of_calls["first"])
    auth.login("alice")
    response = auth.client.post(
        f"/callbacks/{callback.id}/record",
        data={"intent": "renew", "version": str(callback.version + 5)},
        headers=EN,
    )
    assert response.status_code == 409
    assert "Someone else changed" in response.get_data(as_text=True)
    assert count(Experience) == 0


# --- the dossier and the demo bank ------------------------------------------------------------


def test_the_dossier_lists_its_open_call_backs_until_they_are_recorded(world, auth):
    customer = world.alice_customer
    maturing = policy(customer, next_month(20))
    db.session.commit()
    auth.login("alice")

    def section() -> str:
        page = auth.client.get(f"/customers/{customer.id}", headers=EN).get_data(as_text=True)
        return text_of(page.split("Maturity call-backs due", 1)[1].split("</section>", 1)[0])

    assert "No call-back due." in section()
    scan()
    shown = section()
    assert maturing.policy_number in shown and "鑫享两全保险（分红型）" in shown
    assert "No call-back due." not in shown

    callback = callback_of(maturing)
    response = auth.client.post(
        f"/callbacks/{callback.id}/record",
        data={"intent": "renew", "version": str(callback.version)},
        headers=EN,
    )
    assert response.status_code == 302
    assert "No call-back due." in section() and maturing.policy_number not in section()


def test_the_demo_bank_gives_every_relationship_manager_follow_up_work(
    app, runner, auth, monkeypatch
):
    monkeypatch.setenv("LANG", "en_US.UTF-8")  # the command speaks the shell's language
    from crm.models import Staff
    from crm.models.enums import Role

    assert runner.invoke(args=["crm", "demo", "--customers", "60", "--seed", "5"]).exit_code == 0
    result = runner.invoke(args=["crm", "maturity-scan"])
    assert result.exit_code == 0 and "Made" in result.output
    staff = db.session.scalars(sa.select(Staff).where(Staff.role == Role.STAFF)).all()
    assert all(calls.day_of_callbacks(s).open_count >= 3 for s in staff)
    now = datetime.now(UTC)
    open_complaints = db.session.scalars(
        sa.select(Complaint).where(Complaint.answered_at.is_(None))
    ).all()
    assert sum(complaints.is_overdue(c, now) for c in open_complaints) == 1
    assert db.session.scalar(
        sa.select(sa.func.count()).select_from(Customer).where(Customer.referred_by_id.is_not(None))
    )
    auth.login("manager1", "demo1234")
    page = auth.client.get("/followup").get_data(as_text=True)
    assert re.search(r'<tr class="overdue" data-complaint="\d+">', page)
