"""The manager's pages: the team (团队) with its daily check, each figure opening its list
read-only; handing customers over; and who may open which."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from crm.extensions import db
from crm.models import Customer
from crm.models.enums import ChurnLevel
from tests.services.management.test_team import _busy_branch

pytestmark = pytest.mark.backends("sqlite")

OK, LOGIN, MISSING = 200, 302, 404

# (url, anonymous, alice: staff east, manager: east, carol: staff west, admin)
MATRIX = [
    ("/team", LOGIN, MISSING, OK, MISSING, OK),
    ("/team?branch={west}", LOGIN, MISSING, OK, MISSING, OK),
    ("/customers/handover", LOGIN, MISSING, OK, MISSING, OK),
    ("/approvals", LOGIN, OK, OK, OK, OK),
    ("/agenda?owner={bob}", LOGIN, MISSING, OK, MISSING, OK),
    ("/callbacks?owner={bob}", LOGIN, MISSING, OK, MISSING, OK),
    ("/complaints?owner={bob}", LOGIN, MISSING, OK, MISSING, OK),
    ("/agenda?owner={carol}", LOGIN, MISSING, MISSING, OK, OK),
    ("/agenda?owner={alice}", LOGIN, OK, OK, MISSING, OK),
]


@pytest.mark.parametrize(
    "role_index, role", list(enumerate((None, "alice", "manager", "carol", "admin")))
)
def test_who_opens_the_managers_pages(world, app, role_index, role):
    ids = {
        "west": world.west.id,
        "bob": world.bob.id,
        "carol": world.carol.id,
        "alice": world.alice.id,
    }
    client = app.test_client()
    if role:
        assert (
            client.post("/login", data={"username": role, "password": "correct-horse"}).status_code
            == 302
        )
    seen = {url: client.get(url.format(**ids)).status_code for url, *_ in MATRIX}
    assert seen == {url: statuses[role_index] for url, *statuses in MATRIX}


def test_the_team_page_shows_each_figure_linked_and_who_is_short(world, auth, client, settings):
    settings(CRM_CALLBACK_DAILY_QUOTA=2)
    _busy_branch(world)
    auth.login("manager")

    page = client.get("/team", headers={"Accept-Language": "en"}).get_data(as_text=True)

    assert 'data-staff="alice"' in page and 'data-staff="carol"' not in page
    assert 'data-staff="dave"' not in page  # deactivated
    assert "Daily check: 1 short of the 2 call-backs a day" in page
    assert '<tr data-staff="bob" class="short">' in page
    assert '<tr data-staff="alice" class="">' in page
    assert f'href="/customers?owner={world.alice.id}&amp;churn=high"' in page
    assert f'href="/callbacks?owner={world.bob.id}"' in page
    assert f'href="/agenda?owner={world.alice.id}"' in page


def test_the_figures_lists_of_a_team_member_are_read_only(world, auth, client):
    _busy_branch(world)
    auth.login("manager")
    agenda = client.get(f"/agenda?owner={world.alice.id}").get_data(as_text=True)
    assert "Alice" in agenda and "/record" not in agenda and "alice0" in agenda
    complaints = client.get(f"/complaints?owner={world.alice.id}").get_data(as_text=True)
    assert "alice0" in complaints and "/answer" not in complaints
    assert "bob0" not in complaints  # only Alice's customers
    callbacks = client.get(f"/callbacks?owner={world.alice.id}").get_data(as_text=True)
    assert "alice3" in callbacks and "/record" not in callbacks
    churn = client.get(f"/customers?owner={world.alice.id}&churn=high").get_data(as_text=True)
    assert "alice1" in churn and "alice4" not in churn
    # Their own lists keep their buttons.
    auth.logout()
    auth.login("alice")
    assert "/record" in client.get("/agenda").get_data(as_text=True)


def test_an_admin_chooses_the_branch(world, auth, client):
    _busy_branch(world)
    auth.login("admin")
    page = client.get(f"/team?branch={world.west.id}").get_data(as_text=True)
    assert 'data-staff="carol"' in page and 'data-staff="alice"' not in page
    assert 'data-staff="alice"' in client.get("/team").get_data(as_text=True)  # first branch


def _owners():
    return dict(db.session.execute(sa.select(Customer.id, Customer.owner_id)).all())


def test_a_handover_from_the_page(world, auth, client):
    auth.login("manager")
    response = client.post(
        "/customers/handover",
        data={"giver": world.alice.id, "receiver": world.bob.id, "deactivate": "y"},
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 302
    assert _owners()[world.alice_customer.id] == world.bob.id
    page = client.get(response.headers["Location"], headers={"Accept-Language": "en"})
    text = page.get_data(as_text=True)
    assert (
        "Customers handed over from Alice to Bob: 1, with" in text
        and "Alice is deactivated." in text
    )


@pytest.mark.parametrize(
    "form, message_en, message_zh",
    [
        ({"receiver": "carol"}, "Choose a staff member of your branch.", "请选择本网点的员工。"),
        (
            {"receiver": "alice"},
            "Customers cannot be handed over to the same staff member.",
            "不能移交给同一名员工。",
        ),
        ({"receiver": "dave"}, "Dave is deactivated.", "Dave 已停用。"),
        (
            {"customer_ids": "carol_c"},
            "Not customers of Alice that you can see",
            "不是您可见的 Alice 的客户",
        ),
        (
            {"customer_ids": "abc"},
            "Enter customer numbers, such as 12, 57.",
            "请输入客户编号，如 12, 57。",
        ),
    ],
)
def test_a_refused_handover_says_why_in_the_users_language_and_moves_nothing(
    world, auth, client, form, message_en, message_zh
):
    from crm.models.enums import Role
    from tests.support.factories import make_staff

    dave = make_staff("dave", Role.STAFF, world.east)
    dave.is_active_account = False
    world.alice_customer.churn_level = ChurnLevel.HIGH
    db.session.commit()
    names = {"carol": world.carol.id, "alice": world.alice.id, "dave": dave.id, "bob": world.bob.id}
    data = {"giver": world.alice.id, "receiver": names[form.get("receiver", "bob")]}
    if "customer_ids" in form:
        data["customer_ids"] = (
            str(world.carol_customer.id)
            if form["customer_ids"] == "carol_c"
            else form["customer_ids"]
        )
    before = _owners()
    auth.login("manager")
    for language, message in (("en", message_en), ("zh-CN", message_zh)):
        response = client.post(
            "/customers/handover", data=data, headers={"Accept-Language": language}
        )
        assert response.status_code == 422
        assert message in response.get_data(as_text=True)
    assert _owners() == before


def test_the_handover_page_offers_the_branchs_staff(world, auth, client):
    auth.login("manager")
    page = client.get(f"/customers/handover?from={world.alice.id}").get_data(as_text=True)
    assert f'<option value="{world.alice.id}" selected>' in page
    assert "Carol" not in page
    # What moves with the customers, and what stays with the staff member handing over.
    assert "未答复投诉和进行中商机一次移交" in page
    assert "已完成的体验仍计在原客户经理名下" in page
