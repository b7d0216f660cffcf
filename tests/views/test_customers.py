"""The dossier pages as staff use them."""

from decimal import Decimal

import pytest
import sqlalchemy as sa

from crm.extensions import db
from crm.models import AuditLog, Customer
from crm.models.enums import RiskLevel
from tests.support.factories import make_customer

FORM = {
    "name": "赵磊",
    "phone": "135 1234 5678",
    "gender": "male",
    "risk_level": "R2",
    "liquid_assets": "1200000.50",
    "willingness": "55",
    "tags": "高净值，企业主",
    "channel": "referral",
    "sms_consent": "y",
}


def customers():
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count()).select_from(Customer))


def test_list_shows_own_customers_with_masked_phones(world, auth):
    auth.login("alice")
    page = auth.client.get("/customers").get_data(as_text=True)
    assert "张伟" in page and "138****1111" in page
    assert "13800001111" not in page
    assert "李娜" not in page and "王芳" not in page


def test_search_by_name_prefix_and_phone_tail(world, auth):
    auth.login("manager")
    by_name = auth.client.get("/customers?q=李").get_data(as_text=True)
    assert "李娜" in by_name and "张伟" not in by_name
    by_tail = auth.client.get("/customers?q=1111").get_data(as_text=True)
    assert "张伟" in by_tail and "李娜" not in by_tail
    by_full = auth.client.get("/customers?q=138-0000-1111").get_data(as_text=True)
    assert "张伟" in by_full and "李娜" not in by_full


def test_search_takes_wildcards_literally(world, auth):
    make_customer(world.alice, "张_明", "+8613700000077")
    make_customer(world.alice, "100%客户", "+8613700000078")
    db.session.commit()
    auth.login("alice")
    underscore = auth.client.get("/customers?q=张_").get_data(as_text=True)
    assert "张_明" in underscore and "张伟" not in underscore
    percent = auth.client.get("/customers?q=100%25").get_data(as_text=True)
    assert "100%客户" in percent and "张伟" not in percent
    assert "张伟" not in auth.client.get("/customers?q=%25").get_data(as_text=True)


def test_filters_by_owner_risk_and_tag(world, auth):
    from crm.services.customers import tags

    world.bob_customer.risk_level = "R4"
    tags.set_tags(world.bob_customer, ["退休"])
    db.session.commit()
    auth.login("manager")
    get = lambda q: auth.client.get("/customers?" + q).get_data(as_text=True)  # noqa: E731
    assert "李娜" in get("risk=R4") and "张伟" not in get("risk=R4")
    assert "李娜" in get("tag=退休") and "张伟" not in get("tag=退休")
    owner = get(f"owner={world.alice.id}")
    assert "张伟" in owner and "李娜" not in owner
    # A filter outside one's scope shows nothing rather than leaking.
    assert "王芳" not in get(f"branch={world.west.id}")


def test_pagination_walks_every_customer_once(world, settings, auth):
    for i in range(7):
        make_customer(world.alice, f"客户{i:02d}", f"+86137000000{i:02d}")
    db.session.commit()
    settings(CRM_PAGE_SIZE=3)
    auth.login("alice")
    seen, url = [], "/customers"
    for _ in range(10):
        page = auth.client.get(url).get_data(as_text=True)
        seen += [n for n in ["张伟"] + [f"客户{i:02d}" for i in range(7)] if n in page]
        if 'rel="next"' not in page:
            break
        url = page.split('rel="next" href="')[1].split('"')[0].replace("&amp;", "&")
    assert sorted(seen) == sorted(["张伟"] + [f"客户{i:02d}" for i in range(7)])
    back = auth.client.get(url).get_data(as_text=True)
    assert 'rel="prev"' in back


def test_create_dossier_then_see_it_and_its_history(world, auth):
    auth.login("alice")
    response = auth.client.post("/customers/new", data=FORM)
    assert response.status_code == 302
    db.session.expire_all()
    customer = db.session.scalar(sa.select(Customer).where(Customer.name == "赵磊"))
    assert customer.liquid_assets == Decimal("1200000.50")
    assert customer.owner_id == world.alice.id and customer.sms_consent
    page = auth.client.get(response.headers["Location"]).get_data(as_text=True)
    assert "135****5678" in page and "¥1,200,000.50" in page and "企业主" in page
    assert "Alice" in page  # the history names who created it


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("phone", "12345", "This phone number does not exist"),
        ("phone", "call me", "This is not a phone number"),
        ("phone", "138 0000 1111", "Another dossier already has this phone number"),
        ("liquid_assets", "-5", "cannot be negative"),
        ("liquid_assets", "lots", "Enter an amount, such as 250000.00."),
        ("birth_date", "2099-01-01", "cannot be in the future"),
        ("willingness", "150", "0 to 100"),
        ("owner_id", "999999", "Unknown owner"),
        ("branch_id", "999999", "Unknown branch"),
        ("name", "长" * 61, "At most 60 characters"),
        ("referred_by_id", "999999", "No such customer"),
    ],
)
def test_bad_input_is_explained_and_nothing_written(world, auth, field, value, message):
    auth.login("alice")
    before = customers()
    response = auth.client.post(
        "/customers/new", data=FORM | {field: value}, headers={"Accept-Language": "en"}
    )
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert customers() == before


def test_bad_input_is_explained_in_chinese(world, auth):
    auth.login("alice")
    response = auth.client.post(
        "/customers/new", data=FORM | {"liquid_assets": "-5"}, headers={"Accept-Language": "zh-CN"}
    )
    assert "流动资产不能为负数" in response.get_data(as_text=True)


def test_garbage_never_gives_a_server_error(world, auth, app):
    auth.login("alice")
    url = f"/customers/{world.alice_customer.id}/edit"
    for junk in (
        {"version": "abc"},
        {"owner_id": "x"},
        {"willingness": "1e9"},
        {"liquid_assets": "NaN"},
        {"liquid_assets": "Infinity"},
        {"birth_date": "32/13/2020"},
        {"name": "\x00"},
        {"gender": "robot"},
    ):
        response = auth.client.post(url, data=FORM | {"version": "1"} | junk)
        assert response.status_code in (200, 302), junk
    for path in (
        "/customers?before=x&after=y&risk=R9&branch=z",
        "/customers?q=%00&tag=%00x",
        "/customers?before=99999999999999999999999",
        "/customers/abc",
    ):
        assert auth.client.get(path).status_code in (200, 404), path
    # Logged out (a logged-in client is only redirected): a NUL in the username is refused.
    bogus = app.test_client().post("/login", data={"username": "a\x00", "password": "x"})
    assert bogus.status_code == 401


def test_stale_edit_shows_the_other_change_and_keeps_mine(world, auth, app):
    customer = world.alice_customer
    # The manager opens the form first (version 1) ...
    manager = app.test_client()
    manager.post("/login", data={"username": "manager", "password": "correct-horse"})
    form_page = manager.get(f"/customers/{customer.id}/edit").get_data(as_text=True)
    assert 'name="version" type="hidden" value="1"' in form_page
    # ... Alice saves a change in the meantime ...
    auth.login("alice")
    mine = FORM | {"name": "张伟", "phone": "13800001111", "willingness": "75", "version": "1"}
    assert auth.client.post(f"/customers/{customer.id}/edit", data=mine).status_code == 302
    # ... and the manager's save on version 1 is refused, showing Alice's change.
    theirs = mine | {"willingness": "20", "occupation": "教师"}
    response = manager.post(
        f"/customers/{customer.id}/edit", data=theirs, headers={"Accept-Language": "en"}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Someone else saved this dossier" in page and "Alice" in page
    assert 'value="教师"' in page  # the manager's input is kept
    assert 'name="version" type="hidden" value="2"' in page
    db.session.expire_all()
    assert db.session.get(Customer, customer.id).willingness == 75
    # Saving again, now knowingly, applies the manager's version.
    assert (
        manager.post(f"/customers/{customer.id}/edit", data=theirs | {"version": "2"}).status_code
        == 302
    )
    db.session.expire_all()
    assert db.session.get(Customer, customer.id).occupation == "教师"


def test_add_and_edit_policy(world, auth):
    world.alice_customer.risk_level = RiskLevel.R2  # participating policies are rated R2
    db.session.commit()
    auth.login("alice")
    cid = world.alice_customer.id
    policy = {
        "policy_number": "BX2021001",
        "product_name": "鑫享两全保险（分红型）",
        "product_type": "participating",
        "premium": "50000",
        "payment_mode": "single",
        "start_date": "2021-03-01",
        "maturity_date": "2026-03-01",
        "status": "in_force",
        # Seed 000's compliance record, which a participating policy's sale needs.
        "dual_recording_ref": "SL-2021-000123",
        "returns_notice_shown": "y",
        "risk_acknowledged": "y",
    }
    assert auth.client.post(f"/customers/{cid}/policies/new", data=policy).status_code == 302
    bad = auth.client.post(
        f"/customers/{cid}/policies/new",
        data=policy | {"policy_number": "BX2", "maturity_date": "2020-01-01"},
        headers={"Accept-Language": "en"},
    )
    assert "must come after the start date" in bad.get_data(as_text=True)
    page = auth.client.get(f"/customers/{cid}").get_data(as_text=True)
    assert "BX2021001" in page and "¥50,000.00" in page
    db.session.expire_all()
    pid = db.session.get(Customer, cid).policies[0].id
    edit = auth.client.post(
        f"/customers/{cid}/policies/{pid}/edit", data=policy | {"status": "matured", "version": "1"}
    )
    assert edit.status_code == 302
    rows = db.session.scalars(
        sa.select(AuditLog).where(AuditLog.entity == "policy", AuditLog.action == "update")
    ).all()
    assert [(r.field, r.old_value, r.new_value) for r in rows] == [
        ("status", "in_force", "matured")
    ]


def test_revealing_the_full_phone_is_audited(world, auth):
    auth.login("alice")
    cid = world.alice_customer.id
    page = auth.client.post(f"/customers/{cid}/phone").get_data(as_text=True)
    assert "+8613800001111" in page
    db.session.expire_all()
    assert (
        db.session.scalar(
            sa.select(AuditLog.actor_id).where(
                AuditLog.action == "reveal", AuditLog.customer_id == cid
            )
        )
        == world.alice.id
    )


def test_forms_require_a_csrf_token(world, app_factory):
    app = app_factory(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    response = client.post("/login", data={"username": "alice", "password": "correct-horse"})
    assert response.status_code == 400
    login_page = client.get("/login").get_data(as_text=True)
    token = login_page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    ok = client.post(
        "/login", data={"username": "alice", "password": "correct-horse", "csrf_token": token}
    )
    assert ok.status_code == 302


def test_huge_numbers_are_refused_not_crashed_on(world, auth):
    auth.login("alice")
    huge = "9" * 30
    response = auth.client.post(
        "/customers/new",
        data=FORM | {"referred_by_id": huge, "owner_id": huge},
        headers={"Accept-Language": "en"},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "No such customer" in page and "Unknown owner" in page


def test_new_forms_show_no_conflict_box(world, auth):
    auth.login("alice")
    for url in ("/customers/new", f"/customers/{world.alice_customer.id}/policies/new"):
        page = auth.client.get(url, headers={"Accept-Language": "en"}).get_data(as_text=True)
        assert "Someone else saved" not in page, url


def test_edit_form_does_not_show_the_full_phone_and_empty_keeps_it(world, auth):
    auth.login("alice")
    cid = world.alice_customer.id
    page = auth.client.get(f"/customers/{cid}/edit").get_data(as_text=True)
    assert "13800001111" not in page and "138****1111" in page
    data = FORM | {"name": "张伟", "phone": "", "willingness": "41", "version": "1"}
    assert auth.client.post(f"/customers/{cid}/edit", data=data).status_code == 302
    db.session.expire_all()
    customer = db.session.get(Customer, cid)
    assert customer.phone == "+8613800001111" and customer.willingness == 41


def test_history_shows_names_and_local_times_not_ids(world, auth):
    auth.login("manager")
    cid = world.alice_customer.id
    data = FORM | {
        "name": "张伟",
        "phone": "",
        "owner_id": str(world.bob.id),
        "branch_id": str(world.east.id),
        "version": "1",
    }
    assert auth.client.post(f"/customers/{cid}/edit", data=data).status_code == 302
    page = auth.client.get(f"/customers/{cid}", headers={"Accept-Language": "en"}).get_data(
        as_text=True
    )
    history = page.split('class="history"')[1]
    assert "Alice" in history and "Bob" in history
    assert "+00:00" not in history and "T0" not in history


def test_referrer_outside_scope_is_not_named_and_does_not_block_saving(world, auth):
    world.alice_customer.referred_by_id = world.carol_customer.id
    db.session.commit()
    auth.login("alice")
    cid = world.alice_customer.id
    page = auth.client.get(f"/customers/{cid}").get_data(as_text=True)
    assert "王芳" not in page
    data = FORM | {
        "name": "张伟",
        "phone": "",
        "referred_by_id": str(world.carol_customer.id),
        "version": str(world.alice_customer.version),  # the set-up above saved it once
    }
    response = auth.client.post(f"/customers/{cid}/edit", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)


def test_full_width_digits_search_the_phone_tail(world, auth):
    auth.login("alice")
    page = auth.client.get("/customers?q=１１１１").get_data(as_text=True)
    assert "张伟" in page


def test_huge_ids_in_urls_are_missing_not_errors(world, auth):
    auth.login("admin")
    for url in (
        "/customers/9999999999999999999999999",
        "/customers/1099511627776/edit",
        "/admin/staff/1099511627776/edit",
        "/customers?before=1099511627776&branch=1099511627776",
    ):
        assert auth.client.get(url).status_code in (200, 404), url
