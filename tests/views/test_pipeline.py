"""The pipeline's pages: opening an opportunity from a dossier, moving a card a stage with one
form, losing and winning it, the board and funnel by role, the probabilities admins set, and
the offer to open one after an experience that showed interest."""

import html
from datetime import timedelta

import pytest
import sqlalchemy as sa

from crm.core.clock import local_today
from crm.extensions import db
from crm.models import Experience, Opportunity, Policy, Product
from crm.models.enums import (
    ExperienceStatus,
    PlanOrigin,
    ProductType,
    RiskLevel,
    SalesStage,
    Touchpoint,
)
from tests.views import maturities

EN = {"Accept-Language": "en"}


def product(kind: ProductType) -> Product:
    return db.session.scalars(sa.select(Product).where(Product.product_type == kind)).first()


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def new_form(kind=ProductType.PARTICIPATING, **changes) -> dict:
    return {
        "product_id": str(product(kind).id),
        "expected_premium": "80000",
        "payment_mode": "single",
        "expected_close_on": (local_today() + timedelta(days=20)).isoformat(),
        "source": "other",
    } | changes


@pytest.fixture
def opened(world, auth):
    world.alice_customer.risk_level = RiskLevel.R3
    db.session.commit()
    auth.login("alice")
    url = f"/opportunities/new?customer_id={world.alice_customer.id}"
    response = auth.client.post(url, data=new_form())
    assert response.status_code == 302
    return db.session.scalars(sa.select(Opportunity)).one()


def test_an_opportunity_is_opened_from_the_dossier_and_listed_there(world, auth, opened):
    page = text(auth.client.get(f"/customers/{world.alice_customer.id}", headers=EN))
    assert "New opportunity" in page and f"/opportunities/{opened.id}" in page
    assert opened.owner_id == world.alice.id and opened.stage == SalesStage.LEAD


def test_bad_input_on_the_form_is_explained_and_nothing_written(world, auth):
    auth.login("alice")
    url = f"/opportunities/new?customer_id={world.alice_customer.id}"
    cases = (
        ({"expected_premium": "-100"}, "more than zero"),
        ({"expected_premium": "abc"}, "Enter the expected premium"),
        ({"expected_close_on": "2020-01-01"}, "cannot be before the opportunity opened"),
        (
            {"product_id": str(product(ProductType.INVESTMENT_LINKED).id)},
            "above the customer's risk level",
        ),
    )
    for change, words in cases:
        response = auth.client.post(url, data=new_form(**change), headers=EN)
        assert response.status_code == 200 and words in text(response), change
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Opportunity)) == 0


def test_a_customer_one_cannot_see_answers_404(world, auth):
    auth.login("carol")
    url = f"/opportunities/new?customer_id={world.alice_customer.id}"
    assert auth.client.get(url).status_code == 404
    assert auth.client.post(url, data=new_form()).status_code == 404


def test_a_card_moves_a_stage_with_one_form_and_back_to_the_board(world, auth, opened):
    board = text(auth.client.get("/pipeline", headers=EN))
    assert "Move to Needs analysis" in board and 'data-testid="count-lead">1<' in board
    response = auth.client.post(
        f"/opportunities/{opened.id}/advance",
        data={"version": opened.version, "next": "/pipeline"},
        headers=EN,
    )
    assert response.headers["Location"].endswith("/pipeline")
    db.session.expire_all()
    assert db.session.get(Opportunity, opened.id).stage == SalesStage.NEEDS
    # The same form sent again (an old version) moves nothing.
    auth.client.post(f"/opportunities/{opened.id}/advance", data={"version": 1})
    db.session.expire_all()
    assert db.session.get(Opportunity, opened.id).stage == SalesStage.NEEDS
    # A form pointing elsewhere returns to the opportunity, never off the site.
    response = auth.client.post(
        f"/opportunities/{opened.id}/advance", data={"version": 2, "next": "https://evil.example"}
    )
    assert response.headers["Location"].endswith(f"/opportunities/{opened.id}")


def test_winning_an_investment_product_needs_the_compliance_fields(world, auth, opened):
    for version in (1, 2, 3):
        auth.client.post(f"/opportunities/{opened.id}/advance", data={"version": version})
    url = f"/opportunities/{opened.id}/win"
    form = text(auth.client.get(url, headers=EN))
    assert "An investment-type product" in form and "Dual-recording reference" in form
    sale = {
        "policy_number": "BX-WIN-1",
        "premium": "80000",
        "payment_mode": "single",
        "start_date": local_today().isoformat(),
        "version": "4",
    }
    refused = text(auth.client.post(url, data=sale, headers=EN))
    assert "needs the dual-recording reference" in refused
    assert "acknowledgement of the product's risk" in refused
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Policy)) == 0
    done = auth.client.post(
        url,
        data=sale
        | {"dual_recording_ref": "SL-1", "returns_notice_shown": "y", "risk_acknowledged": "y"},
    )
    assert done.status_code == 302
    policy = db.session.scalars(sa.select(Policy)).one()
    assert (policy.opportunity_id, policy.dual_recording_ref) == (opened.id, "SL-1")
    db.session.expire_all()
    assert db.session.get(Opportunity, opened.id).stage == SalesStage.WON


def test_a_lost_opportunity_needs_a_reason_and_then_cannot_move(world, auth, opened):
    url = f"/opportunities/{opened.id}/lose"
    auth.client.post(url, data={"version": 1, "lost_reason": ""})
    db.session.expire_all()
    assert db.session.get(Opportunity, opened.id).stage == SalesStage.LEAD
    auth.client.post(url, data={"version": 1, "lost_reason": "已在他行购买"})
    auth.client.post(f"/opportunities/{opened.id}/advance", data={"version": 2})
    db.session.expire_all()
    found = db.session.get(Opportunity, opened.id)
    assert (found.stage, found.lost_from, found.lost_reason) == (
        SalesStage.LOST,
        SalesStage.LEAD,
        "已在他行购买",
    )


@pytest.mark.parametrize(
    "who, url, status",
    [
        ("alice", "/pipeline", 200),
        ("alice", "/pipeline/funnel", 200),
        ("alice", "/opportunities", 200),
        ("alice", "/pipeline/probabilities", 404),
        ("manager", "/pipeline?branch=1", 200),
        ("manager", "/pipeline/funnel?by=channel&from=2026-01-01&to=2026-12-31", 200),
        ("manager", "/pipeline/probabilities", 404),
        ("admin", "/pipeline/funnel?by=quadrant&from=2030-01-01&to=2020-01-01", 200),
        ("admin", "/pipeline/probabilities", 200),
        ("carol", "/opportunities/1", 404),
        ("carol", "/opportunities/1/win", 404),
    ],
)
def test_pages_by_role(world, auth, opened, who, url, status):
    auth.logout()
    auth.login(who)
    assert auth.client.get(url).status_code == status


def test_an_admin_sets_the_stage_probabilities(world, auth):
    auth.login("admin")
    bad = auth.client.post(
        "/pipeline/probabilities",
        data={"lead": "150", "needs": "20", "proposal": "50", "closing": "80"},
        headers=EN,
    )
    assert "from 0 to 100" in text(bad)
    good = {"lead": "5", "needs": "20", "proposal": "50", "closing": "80"}
    assert auth.client.post("/pipeline/probabilities", data=good).status_code == 302
    assert "80%" in text(auth.client.get("/pipeline"))


def test_an_experience_with_interest_offers_to_open_an_opportunity(world, auth):
    experience = Experience(
        customer=world.alice_customer,
        category=Touchpoint.VISIT,
        status=ExperienceStatus.PLANNED,
        origin=PlanOrigin.STAFF,
        due_on=local_today(),
        planned_cost=0,
        version=1,
    )
    db.session.add(experience)
    db.session.commit()
    auth.login("alice")
    response = auth.client.post(
        f"/experiences/{experience.id}/record",
        data={
            "outcome": "done",
            "held_on": local_today().isoformat(),
            "response": "enthusiastic",
            "actual_cost": "0",
            "liquid_assets": f"{world.alice_customer.liquid_assets:.2f}",
            "version": "1",
            "customer_version": str(world.alice_customer.version),
        },
        headers=EN,
    )
    assert response.status_code == 302, text(response)
    page = text(auth.client.get(response.headers["Location"], headers=EN))
    assert "The customer showed interest." in page
    assert f"experience_id={experience.id}" in page
    form = text(
        auth.client.get(
            f"/opportunities/new?customer_id={world.alice_customer.id}"
            f"&experience_id={experience.id}",
            headers=EN,
        )
    )
    assert 'value="experience" selected' in form or 'selected value="experience"' in form


def test_a_call_back_with_a_new_policy_in_mind_offers_to_open_an_opportunity(world, auth):
    held = maturities.policy(world.alice_customer, maturities.next_month(5))
    db.session.commit()
    maturities.scan()
    callback = maturities.callback_of(held)
    auth.login("alice")
    response = auth.client.post(
        f"/callbacks/{callback.id}/record",
        data={
            "intent": "new_policy",
            "maturity_note": "满期金约5万元",
            "conversion_note": "考虑转投年金",
            "remarks": "",
            "product_id": str(product(ProductType.WHOLE_LIFE).id),
            "version": str(callback.version),
        },
        headers=EN,
        follow_redirects=True,
    )
    page = text(response)
    assert response.request.path == "/callbacks" and "The customer showed interest." in page
    assert f"callback_id={callback.id}" in page
    form = text(
        auth.client.get(
            f"/opportunities/new?customer_id={world.alice_customer.id}&callback_id={callback.id}",
            headers=EN,
        )
    )
    assert 'value="callback" selected' in form or 'selected value="callback"' in form
