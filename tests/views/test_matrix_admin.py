"""Admins edit the experience matrix (客户体验矩阵): audited, and a bad edit writes nothing."""

from __future__ import annotations

from decimal import Decimal
from html.parser import HTMLParser

import pytest
import sqlalchemy as sa

from crm.extensions import db
from crm.models import AuditLog, Setting, TouchpointCategory, TouchpointRule
from crm.models.enums import Mark, Quadrant, Touchpoint

# Pages, forms and messages over domain code that tests/services runs on both databases;
# nothing here depends on the dialect, so SQLite is enough.
pytestmark = pytest.mark.backends("sqlite")

SYMBOL = {"√": Mark.SHOULD, "☆": Mark.STRATEGIC, "◎": Mark.DISCRETIONARY, "×": Mark.NEVER}
CATEGORIES = ("routine", "visit", "event", "premium_event", "lifestyle", "bespoke")
# Seed 004's table, one row per quadrant, categories cheapest first.
SEED = {
    "develop": "√ √ ◎ × × ×",
    "maintain": "√ ☆ ☆ ◎ × ×",
    "cultivate": "√ √ ☆ √ ◎ ×",
    "pamper": "√ √ × √ ☆ ☆",
}


class PageForm(HTMLParser):
    """What a browser would submit from the page, the selected options' labels, and the
    error shown for each field."""

    def __init__(self, html: str):
        super().__init__()
        self.values: dict[str, str] = {}
        self.selected_text: dict[str, str] = {}
        self.errors: dict[str, str] = {}
        self._select: str | None = None
        self._option: str | None = None
        self._error: str | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "input" and a.get("name"):
            self.values[a["name"]] = a.get("value") or ""
        elif tag == "select":
            self._select = a["name"]
        elif tag == "option" and self._select and "selected" in a:
            self.values[self._select] = a["value"]
            self._option = self._select
            self.selected_text[self._option] = ""
        elif tag == "small" and (a.get("id") or "").startswith("error-"):
            self._error = a["id"].removeprefix("error-")
            self.errors[self._error] = ""

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "option":
            self._option = None
        elif tag == "small":
            self._error = None

    def handle_data(self, data):
        if self._option:
            self.selected_text[self._option] += data.strip()
        if self._error:
            self.errors[self._error] += data.strip()


def matrix_page(auth, **headers) -> tuple[str, PageForm]:
    response = auth.client.get("/admin/matrix", headers=headers)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    return html, PageForm(html)


def matrix_audit() -> dict[str, tuple[str | None, str | None]]:
    rows = db.session.scalars(sa.select(AuditLog).where(AuditLog.entity == "matrix"))
    return {row.field: (row.old_value, row.new_value) for row in rows}


def stored_state() -> dict:
    db.session.expire_all()
    return {
        "rules": {
            (r.quadrant, r.category): (r.mark, r.interval_days)
            for r in db.session.scalars(sa.select(TouchpointRule))
        },
        "costs": {c.key: c.unit_cost for c in db.session.scalars(sa.select(TouchpointCategory))},
        "settings": db.session.scalars(sa.select(Setting.key)).all(),
        "audit": matrix_audit(),
    }


def test_page_shows_the_seed_marks_for_every_cell(world, auth):
    auth.login("admin")
    _, form = matrix_page(auth)
    for quadrant, row in SEED.items():
        for category, symbol in zip(CATEGORIES, row.split(), strict=True):
            assert form.values[f"mark.{quadrant}.{category}"] == SYMBOL[symbol], (
                quadrant,
                category,
            )
    assert form.values["interval.develop.routine"] == "4"
    assert form.values["interval.develop.event"] == ""
    assert form.values["unit_cost.routine"] == "0.10"
    assert form.values["limit.pamper"] == "80000.00"


def test_page_is_reachable_from_the_admin_navigation(world, auth):
    auth.login("admin")
    assert 'href="/admin/matrix"' in auth.client.get("/customers").get_data(as_text=True)
    auth.logout()
    auth.login("manager")
    assert 'href="/admin/matrix"' not in auth.client.get("/customers").get_data(as_text=True)


def test_saving_the_page_unchanged_changes_nothing(world, auth):
    auth.login("admin")
    _, form = matrix_page(auth)
    response = auth.client.post(
        "/admin/matrix", data=form.values, headers={"Accept-Language": "en"}, follow_redirects=True
    )
    assert "Nothing changed." in response.get_data(as_text=True)
    assert matrix_audit() == {}


def test_admin_edits_a_mark_an_interval_a_unit_cost_and_a_limit(world, auth):
    auth.login("admin", headers={"Accept-Language": "en"})
    _, form = matrix_page(auth)
    data = form.values | {
        "mark.maintain.premium_event": "never",
        "interval.develop.visit": "120",
        "unit_cost.visit": "95.50",
        "limit.pamper": "90,000",
    }
    response = auth.client.post(
        "/admin/matrix", data=data, headers={"Accept-Language": "en"}, follow_redirects=True
    )
    assert "Experience matrix saved." in response.get_data(as_text=True)

    db.session.expire_all()
    rule = db.session.get(TouchpointRule, (Quadrant.MAINTAIN, Touchpoint.PREMIUM_EVENT))
    assert rule.mark == Mark.NEVER
    assert db.session.get(TouchpointRule, (Quadrant.DEVELOP, Touchpoint.VISIT)).interval_days == 120
    assert db.session.get(TouchpointCategory, Touchpoint.VISIT).unit_cost == Decimal("95.50")
    assert db.session.get(Setting, "budget.limit.pamper").value == "90000.00"
    assert matrix_audit() == {
        "mark.maintain.premium_event": ("discretionary", "never"),
        "interval.develop.visit": ("180", "120"),
        "unit_cost.visit": ("80.00", "95.50"),
        "limit.pamper": ("80000.00", "90000.00"),
    }
    row = db.session.scalar(sa.select(AuditLog).where(AuditLog.entity == "matrix").limit(1))
    assert row.actor_id == world.admin.id

    # The page now shows what was stored.
    _, form = matrix_page(auth)
    assert form.values["mark.maintain.premium_event"] == "never"
    assert form.values["interval.develop.visit"] == "120"
    assert form.values["unit_cost.visit"] == "95.50"
    assert form.values["limit.pamper"] == "90000.00"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("unit_cost.event", "-5", "An amount cannot be negative."),
        ("interval.pamper.visit", "0", "Enter a number of days from 1 to 366."),
        ("interval.maintain.visit", "", "A planned experience needs a cadence in days."),
        ("mark.cultivate.lifestyle", "sometimes", "Choose one of the listed values."),
    ],
)
def test_a_bad_value_is_refused_and_nothing_is_stored(world, auth, field, value, message):
    auth.login("admin")
    _, form = matrix_page(auth)
    before = stored_state()
    # A valid change rides along; it must not be stored either.
    data = form.values | {"limit.develop": "450.00", "interval.develop.visit": "90", field: value}
    response = auth.client.post("/admin/matrix", data=data, headers={"Accept-Language": "en"})

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    page = PageForm(html)
    assert page.errors[field] == message
    assert f'aria-describedby="error-{field}"' in html
    assert "Nothing was saved." in html
    # The admin's input is kept for correction.
    assert page.values["limit.develop"] == "450.00"
    assert page.values["interval.develop.visit"] == "90"
    if not field.startswith("mark."):
        assert page.values[field] == value
    assert stored_state() == before


@pytest.mark.parametrize("username", ["manager", "alice"])
def test_non_admins_find_nothing(world, auth, username):
    auth.login(username)
    assert auth.client.get("/admin/matrix").status_code == 404
    before = stored_state()
    response = auth.client.post("/admin/matrix", data={"mark.develop.routine": "never"})
    assert response.status_code == 404
    assert stored_state() == before


def test_anonymous_visitors_are_sent_to_log_in(world, client):
    response = client.get("/admin/matrix")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_page_renders_in_english(world, auth):
    auth.login("admin")
    auth.client.post("/language", data={"language": "en"})
    html, form = matrix_page(auth, **{"Accept-Language": "zh-CN"})
    for text in (
        "Experience matrix",
        "Routine service",
        "Bespoke service",
        "Pamper",
        "SMS, e-mail, letter, parcel, messaging app",
        "extremely high",
        "next planning run",
    ):
        assert text in html, text
    assert "短信、电邮" not in html
    assert form.selected_text["mark.maintain.visit"] == "☆ strategic"
    assert form.selected_text["mark.develop.bespoke"] == "× never"


def test_page_shows_chinese_examples_in_chinese(world, auth):
    auth.login("admin")
    auth.client.post("/language", data={"language": "zh_CN"})
    html, _ = matrix_page(auth)
    assert "短信、电邮、信函、包裹、电子通讯工具" in html
    assert "SMS, e-mail" not in html


def test_a_save_over_someone_elses_newer_edit_is_refused(world, auth, app):
    from tests.conftest import Auth

    auth.login("admin", headers={"Accept-Language": "en"})
    _, mine = matrix_page(auth)
    other = Auth(app.test_client())
    other.login("admin", headers={"Accept-Language": "en"})
    _, theirs = matrix_page(other)
    saved = other.client.post(
        "/admin/matrix", data=theirs.values | {"unit_cost.visit": "90.00"}, follow_redirects=True
    )
    assert saved.status_code == 200

    late = auth.client.post(
        "/admin/matrix",
        data=mine.values | {"limit.develop": "500.00"},
        headers={"Accept-Language": "en"},
    )
    assert late.status_code == 200
    assert "Someone else saved the matrix since you opened it" in late.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(TouchpointCategory, Touchpoint.VISIT).unit_cost == Decimal("90.00")
    assert db.session.get(Setting, "budget.limit.develop") is None
