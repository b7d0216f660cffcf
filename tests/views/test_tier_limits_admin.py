"""Admins set cost limits per quadrant × asset tier on the matrix page: audited, a bad value
refused with a message and nothing written."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from crm.extensions import db
from crm.models import AuditLog, Setting
from tests.views.test_matrix_admin import matrix_page

# Pages and messages over domain code that tests/services runs on both databases.
pytestmark = pytest.mark.backends("sqlite")


def tier_settings() -> dict[str, str]:
    db.session.expire_all()
    return dict(
        db.session.execute(
            sa.select(Setting.key, Setting.value).where(Setting.key.like("budget.limit.%.%"))
        ).all()
    )


def test_the_page_offers_a_limit_per_quadrant_and_tier_blank_for_the_quadrants(world, auth):
    auth.login("admin")
    html, form = matrix_page(auth)
    assert "按资产分层的成本上限" in html and "¥5,000,000 及以上" in html
    assert form.values["limit.pamper.3"] == "" and form.values["limit.develop.1"] == ""

    form.values["limit.pamper.3"] = "150000"
    response = auth.client.post("/admin/matrix", data=form.values)
    assert response.status_code == 302
    assert tier_settings() == {"budget.limit.pamper.3": "150000.00"}
    assert db.session.scalars(
        sa.select(AuditLog.field).where(AuditLog.entity == "matrix")
    ).all() == ["limit.pamper.3"]
    _, form = matrix_page(auth)
    assert form.values["limit.pamper.3"] == "150000.00"


@pytest.mark.parametrize(("value", "message"), [("十万", "请输入金额"), ("-1", "金额不能为负数")])
def test_a_bad_tier_limit_shows_its_message_and_saves_nothing(world, auth, value, message):
    auth.login("admin")
    _, form = matrix_page(auth)
    form.values["limit.cultivate.2"] = "30000"
    form.values["limit.pamper.3"] = value
    response = auth.client.post("/admin/matrix", data=form.values)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "未保存任何修改" in page
    assert message in page
    assert tier_settings() == {}
    assert not db.session.scalar(
        sa.select(sa.func.count()).select_from(AuditLog).where(AuditLog.entity == "matrix")
    )
