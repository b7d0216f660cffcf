"""Admins edit SMS templates: placeholders and length checked before saving, a preview
with the customer's name masked, every change audited."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from crm.extensions import db
from crm.models import AuditLog, SmsTemplate

pytestmark = pytest.mark.backends("sqlite")

URL = "/admin/sms-templates/finance_idea/zh_CN"


def body_of(key="finance_idea", locale="zh_CN") -> str:
    db.session.expire_all()
    return db.session.get(SmsTemplate, (key, locale)).body


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("{greeting}您好！{balance}元已到账。", "未知的占位符：{balance}"),
        ("{greeting.__class__}您好", "未知的占位符"),
        ("{greeting您好", "有未闭合的花括号"),
        ("{greeting}" + "长" * 450, "内容过长"),
        ("   ", "请填写短信内容"),
    ],
)
def test_a_bad_template_is_refused_and_nothing_written(world, auth, client, body, message):
    before = body_of()
    auth.login("admin")
    response = client.post(URL, data={"body": body, "active": "y"})
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert body_of() == before
    assert not db.session.scalar(
        sa.select(sa.func.count()).select_from(AuditLog).where(AuditLog.entity == "sms_template")
    )


def test_a_preview_masks_the_name_and_saving_is_audited(world, auth, client):
    auth.login("admin")
    body = "{name}，{greeting}您好！理财小贴士：分散配置更稳健。——{owner}"
    response = client.post(URL, data={"body": body, "active": "y", "preview": "y"})
    page = response.get_data(as_text=True)
    assert "张*，张伟您好" not in page and "张*，" in page and "【银保服务】" in page
    assert body_of() != body  # a preview saves nothing

    response = client.post(URL, data={"body": body, "active": "y"})
    assert response.status_code == 302
    assert body_of() == body
    reasons = db.session.scalars(
        sa.select(AuditLog.reason).where(AuditLog.entity == "sms_template")
    ).all()
    assert reasons == ["finance_idea/zh_CN"]
    assert "finance_idea" in client.get("/admin/sms-templates").get_data(as_text=True)


def test_staff_do_not_see_the_template_admin(world, auth, client):
    auth.login("alice")
    assert client.get("/admin/sms-templates").status_code == 404
    assert client.get(URL).status_code == 404
    assert client.get("/admin/sms-templates/new?kind=news&locale=zh_CN").status_code == 404
    assert client.get("/admin/sms-templates/news/zh_CN").status_code == 404


def test_an_admin_writes_a_template_for_a_kind_and_quadrant_previewed_on_one_of_its_customers(
    world, auth, client
):
    pamper = world.bob_customer
    pamper.liquid_assets, pamper.willingness, pamper.quadrant = 6_000_000, 90, "pamper"
    db.session.commit()
    auth.login("admin")
    page = client.get("/admin/sms-templates").get_data(as_text=True)
    assert "重大新闻" in page and "重要日子" in page and "市场行情" in page

    response = client.get(
        "/admin/sms-templates/new",
        query_string={"kind": "news", "quadrant": "pamper", "locale": "zh_CN"},
    )
    assert response.headers["Location"].endswith("/admin/sms-templates/news.pamper/zh_CN")
    url = "/admin/sms-templates/news.pamper/zh_CN"
    body = "{greeting}您好！本周要闻：央行下调存款利率，{name}如需调整配置请联系{owner}。"
    page = client.post(url, data={"body": body, "active": "y", "preview": "y"}).get_data(
        as_text=True
    )
    assert "李*" in page and "李娜" not in page  # the pamper customer, masked
    assert db.session.get(SmsTemplate, ("news.pamper", "zh_CN")) is None

    assert client.post(url, data={"body": body, "active": "y"}).status_code == 302
    assert body_of("news.pamper") == body
    action = db.session.scalars(
        sa.select(AuditLog.action).where(AuditLog.reason == "news.pamper/zh_CN")
    ).all()
    assert set(action) == {"create"}


@pytest.mark.parametrize(
    ("body", "message"),
    [("{greeting}您好！{rate}已下调。", "未知的占位符：{rate}"), ("长" * 499, "内容过长")],
)
def test_a_bad_new_template_is_refused_and_nothing_is_created(world, auth, client, body, message):
    auth.login("admin")
    response = client.post("/admin/sms-templates/news/zh_CN", data={"body": body, "active": "y"})
    assert message in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(SmsTemplate, ("news", "zh_CN")) is None
    assert not db.session.scalar(
        sa.select(sa.func.count()).select_from(AuditLog).where(AuditLog.entity == "sms_template")
    )


@pytest.mark.parametrize(
    "url",
    [
        "/admin/sms-templates/gossip/zh_CN",
        "/admin/sms-templates/news.rich/zh_CN",
        "/admin/sms-templates/news/fr",
    ],
)
def test_a_template_of_no_kind_quadrant_or_language_is_not_found(world, auth, client, url):
    auth.login("admin")
    assert client.get(url).status_code == 404
