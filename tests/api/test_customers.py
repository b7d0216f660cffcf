"""Customer dossiers over the API: the UI's rules, scope, audit and locking, in JSON."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa

from crm.extensions import db
from crm.models import AuditLog, Customer
from crm.models.enums import Channel
from crm.services.customers import tags
from tests.api.conftest import ApiClient, counts
from tests.support.factories import make_customer

CUSTOMERS = "/api/v1/customers"
NEW = {
    "name": "赵磊",
    "phone": "135 1234 5678",
    "gender": "male",
    "risk_level": "R2",
    "liquid_assets": "1200000.50",
    "willingness": 55,
    "tags": ["高净值", "企业主"],
    "channel": "referral",
    "sms_consent": True,
}


def names(response) -> list[str]:
    assert response.status_code == 200, response.get_json()
    return [c["name"] for c in response.get_json()["items"]]


def fresh(customer_id: int) -> Customer:
    db.session.expire_all()
    return db.session.get(Customer, customer_id)


# --- reading --------------------------------------------------------------------------


def test_staff_list_their_own_customers_with_masked_phones(world, api_as):
    body = api_as(world.alice).get(CUSTOMERS).get_json()
    assert [c["name"] for c in body["items"]] == ["张伟"]
    customer = body["items"][0]
    assert customer["phone"] == "138****1111"
    assert customer["liquid_assets"] == "100000.00"  # a string with two decimals
    assert customer["created_at"].endswith("+00:00")
    assert body["next_cursor"] is None


def test_managers_see_their_branch_and_admins_everyone(world, api_as):
    assert sorted(names(api_as(world.manager).get(CUSTOMERS))) == ["张伟", "李娜"]
    assert sorted(names(api_as(world.admin).get(CUSTOMERS))) == ["张伟", "李娜", "王芳"]


def test_another_staff_members_customer_is_404(world, api_as):
    alice = api_as(world.alice)
    for other in (world.bob_customer, world.carol_customer):
        response = alice.get(f"{CUSTOMERS}/{other.id}")
        assert response.status_code == 404
        assert response.get_json()["message"] == "No such customer, or not one you may see."
    # The same answer as for a customer that does not exist at all.
    assert alice.get(f"{CUSTOMERS}/999999").get_json() == response.get_json()
    # Another branch's customer, for a manager.
    assert api_as(world.manager).get(f"{CUSTOMERS}/{world.carol_customer.id}").status_code == 404


def test_read_one_with_its_version_as_etag(world, api_as):
    response = api_as(world.alice).get(f"{CUSTOMERS}/{world.alice_customer.id}")
    assert response.status_code == 200
    assert response.get_json()["name"] == "张伟"
    assert response.headers["ETag"] == f'"{world.alice_customer.version}"'


def test_messages_follow_accept_language(world, api_as):
    response = api_as(world.alice, language="zh-CN").get(f"{CUSTOMERS}/{world.carol_customer.id}")
    assert response.get_json()["message"] == "未找到该客户，或不在您的查看范围内。"


def test_filters_like_the_customer_list(world, api_as):
    world.bob_customer.risk_level = "R4"
    world.bob_customer.channel = Channel.REFERRAL
    tags.set_tags(world.bob_customer, ["退休"])
    db.session.commit()
    manager = api_as(world.manager)
    assert names(manager.get(CUSTOMERS, query_string={"risk_level": "R4"})) == ["李娜"]
    assert names(manager.get(CUSTOMERS, query_string={"channel": "referral"})) == ["李娜"]
    assert names(manager.get(CUSTOMERS, query_string={"tag": "退休"})) == ["李娜"]
    assert names(manager.get(CUSTOMERS, query_string={"q": "李"})) == ["李娜"]
    assert names(manager.get(CUSTOMERS, query_string={"q": "1111"})) == ["张伟"]
    assert names(manager.get(CUSTOMERS, query_string={"owner_id": world.alice.id})) == ["张伟"]
    assert names(manager.get(CUSTOMERS, query_string={"quadrant": "pamper"})) == []
    # A filter outside one's scope shows nothing rather than leaking.
    assert names(manager.get(CUSTOMERS, query_string={"branch_id": world.west.id})) == []


def test_bad_filters_are_refused_with_the_field_named(world, api_as):
    alice = api_as(world.alice)
    for query, field in (
        ({"quadrant": "gold"}, "quadrant"),
        ({"limit": 0}, "limit"),
        ({"limit": 201}, "limit"),
        ({"limit": "many"}, "limit"),
        ({"owner_id": "x"}, "owner_id"),
        ({"cursor": "not-a-cursor"}, "cursor"),
    ):
        response = alice.get(CUSTOMERS, query_string=query)
        assert response.status_code == 422, query
        assert field in response.get_json()["errors"], response.get_json()


def test_pagination_walks_every_customer_exactly_once(world, api_as):
    for i in range(11):
        make_customer(world.alice, f"客户{i:02d}", f"+86137000000{i:02d}")
    db.session.commit()
    alice = api_as(world.alice)
    seen, cursor, pages = [], None, 0
    while True:
        query = {"limit": 4} | ({"cursor": cursor} if cursor else {})
        body = alice.get(CUSTOMERS, query_string=query).get_json()
        seen += [c["id"] for c in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    mine = db.session.scalars(sa.select(Customer.id).where(Customer.owner_id == world.alice.id))
    assert seen == sorted(mine)  # each once, in id order


# --- creating -------------------------------------------------------------------------


def test_create_opens_a_dossier_placed_and_audited(world, api_as):
    response = api_as(world.alice).post(CUSTOMERS, json=NEW)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert response.headers["Location"] == f"{CUSTOMERS}/{body['id']}"
    assert body["phone"] == "135****5678"  # given in full, answered masked
    assert body["quadrant"] == "cultivate" and body["tags"] == ["企业主", "高净值"]
    assert body["owner_id"] == world.alice.id and body["branch_id"] == world.east.id
    customer = fresh(body["id"])
    assert customer.phone == "+8613512345678"
    assert customer.liquid_assets == Decimal("1200000.50")
    row = db.session.scalar(
        sa.select(AuditLog).where(
            AuditLog.entity == "customer",
            AuditLog.entity_id == customer.id,
            AuditLog.field == "name",
        )
    )
    assert (row.action, row.actor_id, row.new_value) == ("create", world.alice.id, "赵磊")


def test_create_accepts_a_json_number_for_money_exactly(world, api_as):
    response = api_as(world.alice).post(CUSTOMERS, json=NEW | {"liquid_assets": 0.1})
    assert response.status_code == 201
    assert response.get_json()["liquid_assets"] == "0.10"


@pytest.mark.parametrize(
    "change, field",
    [
        ({"phone": "12345"}, "phone"),
        ({"phone": "+86 138 0000 1111"}, "phone"),  # another dossier's number
        ({"name": ""}, "name"),
        ({"willingness": 101}, "willingness"),
        ({"liquid_assets": "-5"}, "liquid_assets"),
        ({"liquid_assets": "12.345"}, "liquid_assets"),
        ({"owner_id": "carol"}, "owner_id"),  # wrong type
        ({"willingness": "55"}, "willingness"),  # a string is not a number
        ({"willingness": 55.5}, "willingness"),
        ({"sms_consent": "yes"}, "sms_consent"),
        ({"tags": "高净值"}, "tags"),
        ({"gender": "other"}, "gender"),
        ({"birth_date": "31/01/1980"}, "birth_date"),
        ({"liquid_assets": "NaN"}, "liquid_assets"),
        ({"name": "a\x00b"}, "name"),
        ({"name": "张\u202e伟"}, "name"),  # right-to-left override
        ({"name": "\u2066张伟"}, "name"),  # left-to-right isolate
        ({"name": "\ud800"}, "name"),
        ({"vip": True}, "vip"),  # unknown field
    ],
)
def test_create_refuses_bad_input_and_writes_nothing(world, api_as, change, field):
    alice = api_as(world.alice)
    before = counts()
    response = alice.post(CUSTOMERS, json=NEW | change)
    assert response.status_code == 422, response.get_json()
    body = response.get_json()
    assert field in body["errors"] and body["errors"][field], body
    assert counts() == before


def test_staff_cannot_give_a_customer_to_someone_else(world, api_as):
    alice, manager = api_as(world.alice), api_as(world.manager)
    before = counts()
    response = alice.post(CUSTOMERS, json=NEW | {"owner_id": world.bob.id})
    assert response.status_code == 422 and "owner_id" in response.get_json()["errors"]
    assert counts() == before
    # A manager may, within the branch.
    response = manager.post(CUSTOMERS, json=NEW | {"owner_id": world.bob.id})
    assert response.status_code == 201 and response.get_json()["owner_id"] == world.bob.id


def test_bad_json_and_wrong_content_types_are_refused(world, api_as):
    alice: ApiClient = api_as(world.alice)
    before = counts()
    for data, content_type, status in (
        ('{"name": "赵磊", ', "application/json", 400),
        ('{"name": "赵磊", "willingness": NaN}', "application/json", 400),
        ("[1, 2]", "application/json", 422),
        ('"赵磊"', "application/json", 422),
        ("\xff\xfe", "application/json", 400),
        ("name=赵磊", "application/x-www-form-urlencoded", 415),
        ('{"name": "赵磊"}', "text/plain", 415),
    ):
        response = alice.client.post(
            CUSTOMERS, data=data, headers=alice.headers({"Content-Type": content_type})
        )
        assert response.status_code == status, (data, response.get_json())
        assert response.is_json and response.get_json()["message"]
    assert counts() == before


def test_the_api_needs_no_csrf_token(app_factory, world, token_for):
    app = app_factory(WTF_CSRF_ENABLED=True)
    api = ApiClient(app.test_client(), token_for(world.alice))
    assert api.post(CUSTOMERS, json=NEW).status_code == 201


# --- updating -------------------------------------------------------------------------


def test_update_changes_only_the_fields_sent(world, api_as):
    customer = world.alice_customer
    customer.email = "zhang@example.com"
    db.session.commit()
    url, version = f"{CUSTOMERS}/{customer.id}", customer.version
    response = api_as(world.alice).patch(url, json={"willingness": 75, "version": version})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["willingness"] == 75 and body["version"] == version + 1
    assert response.headers["ETag"] == f'"{version + 1}"'
    stored = fresh(customer.id)
    assert (stored.email, stored.phone, stored.name) == (
        "zhang@example.com",
        "+8613800001111",
        "张伟",
    )
    row = db.session.scalar(
        sa.select(AuditLog).where(AuditLog.entity == "customer", AuditLog.field == "willingness")
    )
    assert (row.old_value, row.new_value, row.actor_id) == ("40", "75", world.alice.id)


def test_update_with_if_match_instead_of_a_version_field(world, api_as):
    url = f"{CUSTOMERS}/{world.alice_customer.id}"
    alice = api_as(world.alice)
    etag = alice.get(url).headers["ETag"]
    response = alice.patch(url, json={"occupation": "教师"}, headers={"If-Match": etag})
    assert response.status_code == 200 and response.get_json()["occupation"] == "教师"
    stale = alice.patch(url, json={"occupation": "医生"}, headers={"If-Match": etag})
    assert stale.status_code == 409
    assert fresh(world.alice_customer.id).occupation == "教师"


def test_a_stale_version_is_409_and_nothing_is_written(world, api_as):
    url = f"{CUSTOMERS}/{world.alice_customer.id}"
    alice, manager = api_as(world.alice), api_as(world.manager)
    assert manager.patch(url, json={"notes": "VIP", "version": 1}).status_code == 200
    before = counts()
    response = alice.patch(url, json={"willingness": 90, "version": 1})
    assert response.status_code == 409
    body = response.get_json()
    assert body["current_version"] == 2 and body["changed_fields"] == ["notes"]
    assert "nothing was written" in body["message"]
    assert counts() == before
    assert fresh(world.alice_customer.id).willingness == 40


def test_an_update_without_a_version_is_refused(world, api_as):
    url = f"{CUSTOMERS}/{world.alice_customer.id}"
    alice = api_as(world.alice)
    response = alice.patch(url, json={"willingness": 90})
    assert response.status_code == 428 and "version" in response.get_json()["message"]
    response = alice.patch(url, json={"willingness": 90, "version": 10**30})
    assert response.status_code == 422 and "version" in response.get_json()["errors"]
    for header in ("*", '""', "W/", '"1", "2"', '"one"', ""):
        response = alice.patch(url, json={"willingness": 90}, headers={"If-Match": header})
        assert response.status_code == 422, header
        assert "If-Match" in response.get_json()["errors"]
    assert fresh(world.alice_customer.id).willingness == 40


def test_update_refuses_bad_input_and_writes_nothing(world, api_as):
    url = f"{CUSTOMERS}/{world.alice_customer.id}"
    alice = api_as(world.alice)
    before = counts()
    for change in (
        {"phone": "12345"},
        {"willingness": "high"},
        {"name": None},
        {"branch_id": world.west.id},
        {"referred_by_id": world.carol_customer.id},  # not one alice may see
        {"id": 5},
    ):
        response = alice.patch(url, json=change | {"version": 1})
        assert response.status_code == 422, (change, response.get_json())
    assert counts() == before
    assert fresh(world.alice_customer.id).version == 1


def test_another_staff_members_customer_cannot_be_updated(world, api_as):
    response = api_as(world.alice).patch(
        f"{CUSTOMERS}/{world.bob_customer.id}", json={"willingness": 99, "version": 1}
    )
    assert response.status_code == 404
    assert fresh(world.bob_customer.id).willingness == 40
