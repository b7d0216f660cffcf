"""The monthly reports job: each branch's three reports once a month, for its managers and
the admins, a failure recorded and tried again, the readers told once, by e-mail where they
switched it on. Rendering is a stand-in here (tests/system renders the real notebooks)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from analytics import delivery
from crm.extensions import db
from crm.models import MonthlyReport, Notification, OutboxMessage
from crm.models.enums import NotificationKind
from crm.models.report import ReportStatus

FIRST = date(2026, 12, 1)
NOVEMBER = date(2026, 11, 1)


class Renders:
    """Writes a one-line file where the report would be, and remembers what it was asked."""

    def __init__(self, failing: set[str] | None = None):
        self.calls: list[tuple] = []
        self.failing = failing or set()

    def __call__(self, name, out: Path, *, database_url, start, end, branch, language):
        self.calls.append((name, branch, start, end, language))
        if name in self.failing:
            raise RuntimeError(f"{name} broke")
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(f"<html>{name} {branch}</html>", encoding="utf-8")
        return out


@pytest.fixture
def folder(settings, tmp_path):
    settings(CRM_REPORTS_FOLDER=str(tmp_path / "reports"))
    return tmp_path / "reports"


def reports() -> list[MonthlyReport]:
    return list(db.session.scalars(sa.select(MonthlyReport).order_by(MonthlyReport.id)))


def test_each_branch_gets_last_months_three_reports_once(world, folder):
    renders = Renders()
    summary = delivery.make_monthly_reports(FIRST, renders)

    assert summary.made == 6 and summary.failed == 0
    made = {(name, branch) for name, branch, *_ in renders.calls}
    assert made == {
        (kind, branch)
        for kind in ("migration", "effectiveness", "followup")
        for branch in ("城东支行", "城西支行")
    }
    assert {(start, end) for _, _, start, end, _ in renders.calls} == {
        (NOVEMBER, date(2026, 11, 30))
    }
    assert all(r.status == ReportStatus.READY and r.month == NOVEMBER for r in reports())
    assert all(delivery.stored_file(r) is not None for r in reports())

    again = delivery.make_monthly_reports(FIRST, renders)
    assert again.made == 0 and len(renders.calls) == 6  # not made twice
    assert len(reports()) == 6


def test_the_branchs_managers_and_the_admins_are_told_once_by_e_mail_where_switched_on(
    world, folder
):
    world.manager.email, world.manager.notify_by_email = "manager@example.com", True
    db.session.commit()
    delivery.make_monthly_reports(FIRST, Renders())
    delivery.make_monthly_reports(FIRST, Renders())

    told = db.session.execute(
        sa.select(Notification.staff_id, Notification.title).where(
            Notification.kind == NotificationKind.MONTHLY_REPORT
        )
    ).all()
    by_staff = sorted(staff_id for staff_id, _ in told)
    assert by_staff == sorted([world.manager.id, world.admin.id, world.admin.id])
    manager_title = next(t for s, t in told if s == world.manager.id)
    assert "城东支行" in manager_title and "2026年11月" in manager_title
    mails = db.session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.channel == "email")
    ).all()
    assert [m.recipient for m in mails] == ["manager@example.com"]
    # Nobody but the branch's managers and the admins hears of them.
    others = {world.alice.id, world.bob.id, world.carol.id}
    assert not others & {staff_id for staff_id, _ in told}


def test_a_report_that_fails_is_recorded_and_made_at_the_next_run(world, folder):
    delivery.make_monthly_reports(FIRST, Renders(failing={"followup"}))

    failed = [r for r in reports() if r.status == ReportStatus.FAILED]
    assert {r.kind.value for r in failed} == {"followup"} and len(failed) == 2
    assert all("followup broke" in r.error and r.attempts == 1 for r in failed)
    # Nobody is told of a month whose reports are not all there.
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Notification)) == 0

    retry = Renders()
    summary = delivery.make_monthly_reports(date(2027, 1, 1), retry)
    retried = [c for c in retry.calls if c[2] == NOVEMBER]
    assert sorted(c[0] for c in retried) == ["followup", "followup"]
    assert summary.failed == 0
    november = [r for r in reports() if r.month == NOVEMBER]
    assert all(r.status == ReportStatus.READY for r in november)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Notification)) > 0


def test_reports_are_made_in_each_readers_language(world, folder):
    world.admin.language = "en"
    db.session.commit()
    renders = Renders()
    delivery.make_monthly_reports(FIRST, renders)
    east = {
        (name, language) for name, branch, _, _, language in renders.calls if branch == "城东支行"
    }
    assert {language for _, language in east} == {"zh_CN", "en"}
    [admin_note] = db.session.scalars(
        sa.select(Notification).where(
            Notification.staff_id == world.admin.id, Notification.title.contains("城东支行")
        )
    ).all()
    assert admin_note.title.startswith("Reports for 城东支行, November 2026")
