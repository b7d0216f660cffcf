"""The dossier's summary header, its index of sections, its activity timeline, and the record
form's quadrant preview, as staff read them in Chinese and in English."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from crm.core.clock import local_today
from crm.extensions import db
from crm.models import (
    AuditLog,
    Complaint,
    Experience,
    MaturityCallback,
    OutboxMessage,
    Policy,
)
from crm.models.enums import (
    CallbackIntent,
    ChurnLevel,
    ExperienceStatus,
    MessagePurpose,
    MoveCause,
    OutboxStatus,
    PaymentMode,
    PlanOrigin,
    ProductType,
    Quadrant,
    Response,
    Touchpoint,
)
from crm.services.customers import dossier, tiering, timeline
from crm.services.followup.hints import age_on
from crm.services.planning import budget
from crm.views.helpers import money
from tests.support.pages import EN, text_of


def part(page: str, testid: str) -> str:
    """The text of the element marked ``data-testid=testid`` (its first closing tag ends it)."""
    match = re.search(rf'data-testid="{testid}"[^>]*>(.*?)</(dd|p|ol|nav)>', page, re.S)
    assert match, testid
    return text_of(match[1])


def experience(customer, on: date, status=ExperienceStatus.DONE, **fields) -> Experience:
    row = Experience(
        customer=customer,
        category=fields.pop("category", Touchpoint.VISIT),
        status=status,
        origin=fields.pop("origin", PlanOrigin.STAFF),
        due_on=on,
        held_on=on if status != ExperienceStatus.PLANNED else None,
        planned_cost=fields.pop("planned_cost", Decimal("80.00")),
        **fields,
    )
    db.session.add(row)
    return row


def sms(customer, at: datetime, closes: Experience | None = None) -> OutboxMessage:
    row = OutboxMessage(
        idempotency_key=f"test:{customer.id}:{at.isoformat()}",
        purpose=MessagePurpose.MARKETING,
        customer=customer,
        recipient=customer.phone,
        body="【银保服务】年末理财讲座邀请，拒收请回复R",
        status=OutboxStatus.SENT,
        sent_at=at,
        created_at=at,
    )
    if closes is not None:
        db.session.flush()
        row.experience_id = closes.id
    db.session.add(row)
    return row


@pytest.fixture
def busy(world):
    """Alice's customer with one thing of each kind, on known days before today."""
    customer = world.alice_customer
    today = local_today()
    customer.birth_date = date(1980, 3, 15)
    customer.churn_level, customer.churn_score = ChurnLevel.MEDIUM, 42
    tiering.place(customer, MoveCause.IMPORT, None, first=True)
    db.session.flush()
    visit = experience(
        customer,
        today - timedelta(days=10),
        response=Response.POSITIVE,
        actual_cost=Decimal("80.00"),
        notes="聊了子女教育金",
        recorded_by_id=world.alice.id,
    )
    # An SMS sent later than the visit: a contact the customer cannot answer.
    texted = experience(
        customer,
        today - timedelta(days=3),
        category=Touchpoint.ROUTINE,
        origin=PlanOrigin.CADENCE,
        planned_cost=Decimal("0.10"),
        actual_cost=Decimal("0.10"),
    )
    sms(customer, datetime.now(UTC) - timedelta(days=3), closes=texted)
    planned = experience(
        customer,
        today + timedelta(days=5),
        status=ExperienceStatus.PLANNED,
        planned_cost=Decimal("150.00"),
    )
    policy = Policy(
        customer=customer,
        policy_number="BX0000123",
        product_name="鑫享两全保险（分红型）",
        product_type=ProductType.PARTICIPATING,
        premium=Decimal("50000.00"),
        payment_mode=PaymentMode.SINGLE,
        start_date=date(2021, 1, 1),
        maturity_date=today - timedelta(days=20),
    )
    db.session.add(policy)
    db.session.add(
        MaturityCallback(
            policy=policy,
            customer=customer,
            owner_id=customer.owner_id,
            maturity_date=today - timedelta(days=20),
            intent=CallbackIntent.RENEW,
            recorded_at=datetime.now(UTC) - timedelta(days=8),
            recorded_on=today - timedelta(days=8),
            recorded_by_id=world.alice.id,
        )
    )
    opened = datetime.now(UTC) - timedelta(days=6)
    db.session.add(
        Complaint(
            customer=customer,
            point="满期收益低于预期",
            opened_at=opened,
            due_at=opened + timedelta(days=7),
            handling_opinion="已解释分红演示为假设情景",
            answered_at=opened + timedelta(days=1),
            satisfied=True,
        )
    )
    db.session.commit()
    dossier.update_customer(
        world.alice,
        customer,
        {**dossier.form_values(customer), "occupation": "中学教师", "willingness": 65},
        customer.version,
    )
    db.session.commit()
    return {"customer": customer, "visit": visit, "planned": planned}


def test_the_summary_shows_the_figures_the_dossier_holds(busy, world, auth):
    customer = busy["customer"]
    today = local_today()
    auth.login("alice")
    page = auth.client.get(f"/customers/{customer.id}").get_data(as_text=True)

    assert part(page, "summary-age") == f"{age_on(customer.birth_date, today)} 岁"
    assert customer.quadrant == Quadrant.MAINTAIN  # willingness 65 moved them up
    assert part(page, "summary-quadrant") == "维系"
    assert part(page, "summary-assets").startswith(money(customer.liquid_assets))
    # The visit, not the later SMS: an SMS cannot be answered.
    visit_day = busy["visit"].held_on
    assert part(page, "summary-last-contact").startswith("定期拜访，")
    assert f"{visit_day.month}月{visit_day.day}日" in part(page, "summary-last-contact")
    assert part(page, "summary-last-contact").endswith("积极")
    planned_day = busy["planned"].due_on
    assert f"{planned_day.month}月{planned_day.day}日" in part(page, "summary-next")
    left = budget.budget_for(customer, today)
    assert part(page, "summary-budget").startswith(money(left.remaining))
    assert money(left.limit) in part(page, "summary-budget")
    assert part(page, "summary-churn") == "中 42 分（满分 100）"
    assert part(page, "summary-phone") == "138****1111"
    assert "13800001111" not in page


def test_the_summary_in_english_and_without_contacts(world, auth):
    customer = world.alice_customer
    auth.login("alice")
    page = auth.client.get(f"/customers/{customer.id}", headers=EN).get_data(as_text=True)
    assert part(page, "summary-age") == "—"
    assert part(page, "summary-last-contact") == "None yet"
    assert part(page, "summary-next") == "Nothing planned."
    assert part(page, "summary-churn") == "—"
    assert part(page, "summary-budget").startswith(money(budget.budget_for(customer).remaining))


def test_the_index_links_every_section(busy, auth):
    auth.login("alice")
    page = auth.client.get(f"/customers/{busy['customer'].id}").get_data(as_text=True)
    index = re.search(r'data-testid="dossier-index">(.*?)</nav>', page, re.S)[1]
    anchors = re.findall(r'href="#([\w-]+)"', index)
    assert anchors == [
        "profile",
        "churn",
        "plan",
        "tier",
        "opportunities",
        "policies",
        "followup",
        "activity",
        "history",
    ]
    for anchor in anchors:
        assert f'id="{anchor}"' in page


def kinds_listed(page: str) -> list[str]:
    activity = re.search(r'data-testid="activity">(.*?)</ol>', page, re.S)
    return re.findall(r'data-kind="(\w+)"', activity[1]) if activity else []


def test_the_activity_lists_every_kind_newest_first(busy, auth):
    auth.login("alice")
    page = auth.client.get(f"/customers/{busy['customer'].id}").get_data(as_text=True)
    # Newest first: the edit (today) and the move it made, the first placement (earlier
    # today), the SMS (3 days ago), the complaint answered (5) and opened (6), the call-back
    # (8), the visit (10). The SMS's experience is not listed again.
    assert kinds_listed(page) == [
        "edit",
        "move",
        "move",
        "sms",
        "complaint",
        "complaint",
        "callback",
        "experience",
    ]
    text = text_of(re.search(r'data-testid="activity">(.*?)</ol>', page, re.S)[1])
    assert "客户档案 · 职业、意愿（0–100）" in text
    assert "短信 · 已发送" in text
    assert "受理投诉" in text and "答复投诉" in text and "是否满意：是" in text
    assert "满期回访" in text and "BX0000123" in text and "客户意向：续保" in text
    assert "定期拜访 · 已完成 · 积极" in text and "聊了子女教育金" in text


def test_the_activity_in_english(busy, auth):
    auth.login("alice")
    page = auth.client.get(f"/customers/{busy['customer'].id}", headers=EN).get_data(as_text=True)
    text = text_of(re.search(r'data-testid="activity">(.*?)</ol>', page, re.S)[1])
    assert "Dossier · Occupation, Willingness (0–100)" in text
    assert "SMS · sent" in text
    assert "Periodic visit · Done · Positive" in text
    assert "Complaint answered" in text


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("sms", ["sms"]),
        ("experience", ["experience"]),
        ("complaint", ["complaint", "complaint"]),
        ("callback", ["callback"]),
        ("move", ["move", "move"]),
        ("edit", ["edit"]),
        (
            "nonsense",
            ["edit", "move", "move", "sms", "complaint", "complaint", "callback", "experience"],
        ),
    ],
)
def test_the_activity_filtered_by_kind(busy, auth, kind, expected):
    auth.login("alice")
    page = auth.client.get(f"/customers/{busy['customer'].id}?activity={kind}").get_data(
        as_text=True
    )
    assert kinds_listed(page) == expected
    nav = re.search(r'data-testid="activity-kinds">(.*?)</nav>', page, re.S)[1]
    current = re.findall(r'<a href="[^"]*"\s+aria-current="true">([^<]*)</a>', nav)
    assert len(current) == 1


def test_the_activity_pages(busy, auth, monkeypatch):
    monkeypatch.setattr(timeline, "PAGE_SIZE", 3)
    auth.login("alice")
    url = f"/customers/{busy['customer'].id}"
    first = auth.client.get(url).get_data(as_text=True)
    assert kinds_listed(first) == ["edit", "move", "move"]
    assert "activity_page=2" in first
    second = auth.client.get(f"{url}?activity_page=2").get_data(as_text=True)
    assert kinds_listed(second) == ["sms", "complaint", "complaint"]
    third = auth.client.get(f"{url}?activity_page=3").get_data(as_text=True)
    assert kinds_listed(third) == ["callback", "experience"]
    assert 'data-testid="activity-older"' not in third
    for bad in ("0", "-1", "x", "99999999999999999999"):
        response = auth.client.get(f"{url}?activity_page={bad}")
        assert response.status_code == 200
    assert "没有更多了。" in auth.client.get(f"{url}?activity_page=50").get_data(as_text=True)


def test_the_record_form_carries_the_thresholds_for_its_preview(world, auth):
    customer = world.alice_customer
    tiering.save_thresholds(world.admin, tiering.Thresholds(Decimal("800000.00"), 55))
    planned = experience(customer, local_today(), status=ExperienceStatus.PLANNED)
    db.session.commit()
    auth.login("alice")
    page = auth.client.get(f"/experiences/{planned.id}/record").get_data(as_text=True)
    preview = re.search(r'<p class="wide quadrant-preview"([^>]*)>(.*?)</p>', page, re.S)
    attributes = dict(re.findall(r'data-([\w-]+)="([^"]*)"', preview[1]))
    assert attributes["capability"] == "800000.00"
    assert attributes["willingness"] == "55"
    assert attributes["assets"] == f"{customer.liquid_assets:.2f}"
    assert attributes["score"] == str(customer.willingness)
    assert attributes["quadrant"] == customer.quadrant.value
    assert "%(old)s" in attributes["moves"] and "%(new)s" in attributes["moves"]
    # Without the script, the sentence says where the lines are.
    assert "¥800,000.00" in text_of(preview[2]) and "55" in text_of(preview[2])


def test_a_changes_fields_are_named_in_the_forms_order_whatever_order_they_were_written(
    busy, world, auth
):
    customer = busy["customer"]
    for field in ("willingness", "occupation"):  # the reverse of the form's
        db.session.add(
            AuditLog(
                actor_id=world.alice.id,
                entity="customer",
                entity_id=customer.id,
                customer_id=customer.id,
                action="update",
                field=field,
                version=customer.version + 1,
            )
        )
    db.session.commit()
    auth.login("alice")

    page = auth.client.get(f"/customers/{customer.id}").get_data(as_text=True)

    text = text_of(re.search(r'data-testid="activity">(.*?)</ol>', page, re.S)[1])
    assert "意愿（0–100）、职业" not in text
    assert text.count("客户档案 · 职业、意愿（0–100）") == 2, text
