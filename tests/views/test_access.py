"""Every route, with each role: who gets a page, a redirect to log in, or a 404."""

from datetime import date

import pytest

# Pages, forms and messages over domain code that tests/services runs on both databases;
# nothing here depends on the dialect, so SQLite is enough.
pytestmark = pytest.mark.backends("sqlite")

OK, LOGIN, MISSING = 200, 302, 404

# (url template, anonymous, alice: staff east, manager: east, carol: staff west, admin)
MATRIX = [
    ("/healthz", OK, OK, OK, OK, OK),
    ("/today", LOGIN, OK, OK, OK, OK),
    ("/customers", LOGIN, OK, OK, OK, OK),
    ("/customers?quadrant=pamper", LOGIN, OK, OK, OK, OK),
    ("/grid", LOGIN, OK, OK, OK, OK),
    ("/grid?branch={east}", LOGIN, OK, OK, OK, OK),
    ("/customers/new", LOGIN, OK, OK, OK, OK),
    ("/customers/{alice_c}", LOGIN, OK, OK, MISSING, OK),
    ("/customers/{alice_c}/edit", LOGIN, OK, OK, MISSING, OK),
    ("/customers/{alice_c}/policies/new", LOGIN, OK, OK, MISSING, OK),
    ("/customers/{bob_c}", LOGIN, MISSING, OK, MISSING, OK),
    ("/customers/{carol_c}", LOGIN, MISSING, MISSING, OK, OK),
    ("/customers/{carol_c}/edit", LOGIN, MISSING, MISSING, OK, OK),
    ("/customers/999999", LOGIN, MISSING, MISSING, MISSING, MISSING),
    ("/prospects", LOGIN, OK, OK, OK, OK),
    ("/prospects/new", LOGIN, OK, OK, OK, OK),
    ("/prospects/999999", LOGIN, MISSING, MISSING, MISSING, MISSING),
    ("/admin/staff", LOGIN, MISSING, MISSING, MISSING, OK),
    ("/admin/staff/new", LOGIN, MISSING, MISSING, MISSING, OK),
    ("/admin/staff/{alice}/edit", LOGIN, MISSING, MISSING, MISSING, OK),
    ("/admin/branches", LOGIN, MISSING, MISSING, MISSING, OK),
    ("/admin/branches/new", LOGIN, MISSING, MISSING, MISSING, OK),
    ("/admin/branches/{east}/edit", LOGIN, MISSING, MISSING, MISSING, OK),
    ("/admin/settings", LOGIN, MISSING, MISSING, MISSING, OK),
    ("/admin/products", LOGIN, MISSING, OK, MISSING, OK),
    ("/admin/products/export.csv", LOGIN, MISSING, OK, MISSING, OK),
    ("/customers/import/template.xlsx", LOGIN, MISSING, OK, MISSING, OK),
    ("/admin/products/new", LOGIN, MISSING, MISSING, MISSING, OK),
    ("/admin/products/1/edit", LOGIN, MISSING, MISSING, MISSING, OK),
]
ROLES = (None, "alice", "manager", "carol", "admin")


@pytest.mark.parametrize("role_index, role", list(enumerate(ROLES)))
def test_every_route_answers_by_role(world, app, role_index, role):
    ids = {
        "alice_c": world.alice_customer.id,
        "bob_c": world.bob_customer.id,
        "carol_c": world.carol_customer.id,
        "alice": world.alice.id,
        "east": world.east.id,
    }
    client = app.test_client()
    if role:
        login = client.post("/login", data={"username": role, "password": "correct-horse"})
        assert login.status_code == 302
    seen = {}
    for url, *_ in MATRIX:
        target = url.format(**ids)
        response = client.get(target)
        seen[url] = response.status_code
        if response.status_code == LOGIN:
            assert "/login" in response.headers["Location"]
    assert seen == {url: statuses[role_index] for url, *statuses in MATRIX}


def test_policy_of_another_customer_is_missing(world, app, auth):
    from crm.extensions import db
    from crm.models import Policy

    policy = Policy(
        customer=world.bob_customer,
        policy_number="P1",
        product_name="x",
        product_type="accident",
        premium=100,
        payment_mode="single",
        start_date=date(2024, 1, 1),
    )
    db.session.add(policy)
    db.session.commit()
    auth.login("alice")
    url = f"/customers/{world.alice_customer.id}/policies/{policy.id}/edit"
    assert auth.client.get(url).status_code == 404
