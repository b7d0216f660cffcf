"""/reports as managers meet it: their branch's monthly reports (admins: every branch's) to
open and download, nobody else's; a missing file made again on request; a report of any
period asked for, bad input refused with a message and nothing queued."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from analytics import delivery
from crm.core.clock import local_today
from crm.extensions import db
from crm.models import BackgroundJob, MonthlyReport
from crm.models.report import ReportStatus
from tests.analytics.test_delivery import FIRST, Renders

pytestmark = pytest.mark.backends("sqlite")


@pytest.fixture
def made(world, settings, tmp_path):
    """November's reports of both branches, made."""
    settings(CRM_REPORTS_FOLDER=str(tmp_path / "reports"))
    delivery.make_monthly_reports(FIRST, Renders())
    rows = db.session.scalars(sa.select(MonthlyReport)).all()
    return {(r.branch.name, r.kind.value): r for r in rows}


def jobs() -> list[BackgroundJob]:
    return list(db.session.scalars(sa.select(BackgroundJob)))


def test_a_manager_sees_and_opens_only_their_branchs_reports(made, auth):
    auth.login("manager")
    page = auth.client.get("/reports").get_data(as_text=True)
    assert page.count("data-report=") == 3
    assert "城东支行" in page and "城西支行" not in page.split('data-testid="ask-report"')[0]
    assert "客户分层迁移" in page and "2026年11月" in page

    own = made[("城东支行", "migration")]
    opened = auth.client.get(f"/reports/{own.id}")
    assert opened.status_code == 200 and "migration 城东支行" in opened.get_data(as_text=True)
    policy = opened.headers["Content-Security-Policy"]
    assert "img-src data:" in policy and "script-src" not in policy
    assert "default-src 'none'" in policy
    download = auth.client.get(f"/reports/{own.id}/download")
    assert download.status_code == 200
    assert "attachment" in download.headers["Content-Disposition"]

    other = made[("城西支行", "migration")]
    assert auth.client.get(f"/reports/{other.id}").status_code == 404
    assert auth.client.get(f"/reports/{other.id}/download").status_code == 404


def test_an_admin_sees_every_branch_and_staff_see_no_reports(made, auth):
    auth.login("admin")
    page = auth.client.get("/reports").get_data(as_text=True)
    assert page.count("data-report=") == 6
    assert auth.client.get(f"/reports/{made[('城西支行', 'followup')].id}").status_code == 200
    auth.logout()
    auth.login("alice")
    assert auth.client.get("/reports").status_code == 404
    assert auth.client.get(f"/reports/{made[('城东支行', 'followup')].id}").status_code == 404


def test_a_report_missing_from_storage_is_made_again_on_request(made, auth):
    row = made[("城东支行", "effectiveness")]
    delivery.stored_file(row).unlink()
    auth.login("manager")
    response = auth.client.get(f"/reports/{row.id}", follow_redirects=True)
    assert "报告文件已丢失，正在重新生成。" in response.get_data(as_text=True)
    [job] = jobs()
    assert job.kind == "monthly_report" and job.params == {"report_id": row.id}
    db.session.refresh(row)
    assert row.status == ReportStatus.PENDING

    # What the scheduler process runs for it.
    assert delivery.remake_job(job.params, lambda done, total: None) == {"made": 1}
    db.session.refresh(row)
    assert row.status == ReportStatus.READY and row.attempts == 2


ASKED = {"kind": "migration", "language": "zh_CN"}


def ask(auth, **fields):
    return auth.client.post("/reports", data={**ASKED, **fields})


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"start": "2026-11-30", "end": "2026-11-01"}, "期间的结束日早于开始日。"),
        ({"end": "in the future"}, "期间的结束日晚于今天"),
        ({"language": "fr"}, "报告只提供以下语言：zh_CN, en；不支持fr。"),
        ({"branch": "west"}, "您无权查看该网点的客户。"),
        ({"start": "2026-13-01"}, "请按YYYY-MM-DD填写开始日。"),
    ],
    ids=["reversed", "future", "language", "branch", "date"],
)
def test_a_report_asked_for_with_bad_input_is_refused_and_nothing_queued(
    world, auth, fields, message
):
    tomorrow = local_today() + timedelta(days=1)
    values = {"start": "2026-11-01", "end": "2026-11-30", "branch": str(world.east.id)}
    values.update(fields)
    if values["end"] == "in the future":
        values["end"] = tomorrow.isoformat()
    if values["branch"] == "west":
        values["branch"] = str(world.west.id)
    auth.login("manager")
    response = ask(auth, **values)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert jobs() == []


def test_a_report_asked_for_is_queued_for_the_scheduler(world, auth):
    auth.login("manager")
    response = ask(auth, start="2026-11-01", end="2026-11-30", branch=str(world.east.id))
    assert response.status_code == 302
    [job] = jobs()
    assert job.kind == "report" and job.requested_by_id == world.manager.id
    assert job.params["branch"] == "城东支行" and job.params["start"] == "2026-11-01"
    page = auth.client.get("/reports").get_data(as_text=True)
    assert 'id="requested-' in page and "生成中" in page
    # Not made yet: nothing to open.
    assert auth.client.get(f"/reports/requested/{job.id}").status_code == 404


def test_the_month_is_written_for_the_reader(made, auth, world):
    world.manager.language = "en"
    db.session.commit()
    auth.login("manager")
    page = auth.client.get("/reports").get_data(as_text=True)
    assert "November 2026" in page and "Quadrant migration" in page
    assert date(2026, 11, 1).isoformat() not in page.split("ask-report")[0]
