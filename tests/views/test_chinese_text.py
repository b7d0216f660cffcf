"""The Chinese interface reads as Chinese: Chinese punctuation around Chinese words, a word
with two meanings translated by its meaning (pgettext), the app's own audit reasons in
words, one date format per language."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from crm.core.clock import local_today
from crm.extensions import db
from crm.models.enums import MoveCause
from crm.services.customers import tiering
from crm.services.experiences import plans, recording
from crm.services.followup import complaints
from tests.support.pages import EN, text_of

pytestmark = pytest.mark.backends("sqlite")

ZH = {"Accept-Language": "zh-CN"}
CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]")


def ascii_punctuation_by_chinese(text: str) -> list[str]:
    """Each ASCII , : ; ( ) ! ? with a Chinese character beside it (spaces skipped), in its
    context."""
    found = []
    for mark in re.finditer(r"[,:;()!?]", text):
        i = mark.start()
        before, after = text[:i].rstrip()[-1:], text[i + 1 :].lstrip()[:1]
        if CJK.match(before or " ") or CJK.match(after or " "):
            found.append(text[max(0, i - 20) : i + 20])
    return found


@pytest.fixture
def lived(world):
    """Alice's customer, placed on import, visited (a move), then complaining."""
    customer = world.alice_customer
    customer.willingness = 57
    customer.sms_consent = True
    tiering.place(customer, MoveCause.IMPORT, None, first=True)
    customer.created_at -= timedelta(days=30)
    db.session.commit()
    visit = plans.add_experience(
        world.alice, customer, {"category": "visit", "due_on": local_today()}
    )
    db.session.commit()
    recording.record_experience(
        world.alice,
        visit,
        {
            "outcome": "done",
            "held_on": local_today(),
            "response": "positive",
            "actual_cost": "95.50",
            "liquid_assets": "1,500,000",
            "willingness": "",
        },
        visit.version,
        customer.version,
    )
    db.session.commit()
    complaints.open_complaint(world.alice, customer, {"point": "满期金到账晚了三天"})
    db.session.commit()
    return customer, visit


PAGES = {
    "alice": [
        "/customers",
        "/customers/{c}",
        "/customers/{c}/edit",
        "/customers/{c}/experiences/new",
        "/customers/{c}/complaints/new",
        "/agenda",
        "/callbacks",
        "/complaints",
        "/notifications",
        "/events",
        "/events/new",
        "/me/notifications",
    ],
    "manager": ["/followup", "/grid", "/customers", "/admin/churn-weights"],
    "admin": [
        "/admin/staff",
        "/admin/staff/new",
        "/admin/branches",
        "/admin/settings",
        "/admin/matrix",
        "/admin/churn-weights",
        "/admin/api-tokens",
    ],
}


def test_chinese_pages_use_chinese_punctuation(world, lived, auth, token_for):
    customer, _visit = lived
    token_for(world.bob)
    for who, urls in PAGES.items():
        auth.logout()
        auth.login(who)
        for url in urls:
            url = url.format(c=customer.id)
            response = auth.client.get(url, headers=ZH)
            assert response.status_code == 200, url
            found = ascii_punctuation_by_chinese(text_of(response.get_data(as_text=True)))
            assert found == [], (url, found)


def test_the_dossier_history_says_its_reasons_in_words(world, lived, auth):
    customer, visit = lived
    auth.login("alice")
    zh = text_of(auth.client.get(f"/customers/{customer.id}", headers=ZH).get_data(as_text=True))
    assert f"原因：体验记录 #{visit.id}" in zh
    assert f"体验记录 #{visit.id}：" in zh
    assert re.search(r"初次分层：\s*开发\s*（导入）", zh)
    assert "客户体验：定期拜访" in zh and "（积极）" in zh
    assert "experience #" not in zh and "complaint #" not in zh
    en = text_of(auth.client.get(f"/customers/{customer.id}", headers=EN).get_data(as_text=True))
    assert f"Reason: experience record #{visit.id}" in en
    assert re.search(r"First placement:\s*Develop\s*\(Import\)", en)


def test_from_and_to_mean_a_period_on_the_follow_up_page_and_values_in_the_history(
    world, lived, auth
):
    auth.login("manager")
    page = auth.client.get("/followup", headers=ZH).get_data(as_text=True)
    assert "起始日期" in page and "截止日期" in page
    assert "原值" not in page and "新值" not in page
    auth.logout()
    auth.login("alice")
    dossier = auth.client.get(f"/customers/{lived[0].id}", headers=ZH).get_data(as_text=True)
    assert "<th>原值</th><th>新值</th>" in dossier


def test_a_tokens_name_is_what_it_is_for_not_a_persons_name(world, auth):
    auth.login("admin")
    page = text_of(auth.client.get("/admin/api-tokens", headers=ZH).get_data(as_text=True))
    assert "用途" in page and "姓名" not in page


def test_the_staff_list_says_a_language_follows_the_browser(world, auth):
    world.bob.language = "en"
    db.session.commit()
    auth.login("admin")
    page = text_of(auth.client.get("/admin/staff", headers=ZH).get_data(as_text=True))
    assert "alice Alice 客户经理 城东支行 跟随浏览器" in page
    assert "bob Bob 客户经理 城东支行 English" in page or "bob Bob 客户经理 城东支行 英文" in page


def test_dates_and_times_read_alike_on_every_page_in_each_language(world, lived, auth):
    customer, _visit = lived
    opened = datetime(2026, 3, 2, 1, 30, tzinfo=UTC)  # 09:30 in Shanghai
    complaint = complaints.board(world.alice).open[0]
    complaint.opened_at, complaint.due_at = opened, opened + timedelta(days=7)
    db.session.commit()
    auth.login("alice")
    for url in ("/complaints", f"/customers/{customer.id}"):
        zh = text_of(auth.client.get(url, headers=ZH).get_data(as_text=True))
        assert "2026年3月2日 09:30" in zh and "2026年3月9日 09:30" in zh, url
        assert not re.search(r"\d{4}/\d{1,2}/\d{1,2}", zh), url
        en = text_of(auth.client.get(url, headers=EN).get_data(as_text=True))
        assert "Mar 2, 2026, 9:30" in en and "Mar 9, 2026, 9:30" in en, url
        assert not re.search(r"\d{1,2}/\d{1,2}/\d{2}\b", en), url
