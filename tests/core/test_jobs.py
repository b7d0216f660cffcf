"""The queue of long work (crm.core.jobs) and the threshold change that uses it: queued by a
page, run elsewhere, one at a time, its end shown as it happened."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa

from crm.core import jobs
from crm.core.inputs import InvalidInput
from crm.extensions import db
from crm.models import AuditLog, BackgroundJob, Setting
from crm.models.job import JobState
from crm.scheduler.jobs import LONG_WORK
from crm.services.customers import tiering

EN = {"Accept-Language": "en"}


def save(auth, capability: str, willingness: str = "60"):
    return auth.client.post(
        "/admin/settings",
        data={"capability_threshold": capability, "willingness_threshold": willingness},
        headers=EN,
    )


def test_a_change_while_one_is_queued_is_refused_and_nothing_written(world, auth):
    auth.login("admin")
    assert save(auth, "500000").status_code == 302
    settings_before = db.session.scalars(sa.select(Setting.value).order_by(Setting.key)).all()
    audits_before = db.session.scalar(sa.select(sa.func.count()).select_from(AuditLog))
    refused = save(auth, "700000", "70")
    assert refused.status_code == 200
    assert "still being re-tiered" in refused.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.scalars(sa.select(Setting.value).order_by(Setting.key)).all() == (
        settings_before
    )
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditLog)) == audits_before
    assert tiering.current_thresholds().capability == Decimal("500000.00")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(BackgroundJob)) == 1
    # Nor may the command line change them meanwhile.
    with pytest.raises(InvalidInput):
        tiering.change_thresholds(None, tiering.Thresholds(Decimal("900000"), 50))
    db.session.rollback()
    # Once it has run, the next change is taken.
    jobs.run(jobs.claim("test"), LONG_WORK)
    assert save(auth, "700000", "70").status_code == 302
    page = auth.client.get("/admin/settings", headers=EN).get_data(as_text=True)
    assert 'data-state="queued"' in page and "Queued at" in page


def test_the_database_itself_keeps_a_second_job_out(world):
    jobs.enqueue("retier", {}, None)
    db.session.commit()
    second = BackgroundJob(kind="retier", params={}, state=JobState.QUEUED, lane="busy")
    db.session.add(second)
    with pytest.raises(sa.exc.IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_a_failing_job_is_shown_failed_with_its_reason_and_frees_the_queue(
    world, auth, monkeypatch
):
    def broken(params, progress):
        progress(10, 40)
        raise RuntimeError("disk full")

    monkeypatch.setitem(LONG_WORK, "retier", "tests.core.test_jobs:_broken")
    monkeypatch.setattr(f"{__name__}._broken", broken, raising=False)
    auth.login("admin")
    save(auth, "500000")
    jobs.run(jobs.claim("test"), LONG_WORK)
    page = auth.client.get("/admin/settings", headers=EN).get_data(as_text=True)
    assert 'data-state="failed"' in page and "RuntimeError: disk full" in page
    assert jobs.under_way() is None
    assert save(auth, "600000").status_code == 302


def test_a_job_interrupted_goes_back_to_the_queue_and_an_abandoned_one_is_taken_up(world):
    job = jobs.enqueue("retier", {"capability": "500000", "willingness": 60}, None)
    db.session.commit()
    claimed = jobs.claim("scheduler-a")
    jobs.run(claimed, LONG_WORK, keep_going=lambda: False)
    db.session.refresh(job)
    assert job.state == JobState.QUEUED and job.lane == "busy"
    # A process that died with a job running: the next active scheduler queues it again.
    jobs.claim("scheduler-a")
    assert jobs.requeue_abandoned("scheduler-b") == 1
    again = jobs.claim("scheduler-b")
    jobs.run(again, LONG_WORK)
    db.session.refresh(job)
    assert job.state == JobState.DONE and job.lane is None and job.result["examined"] == 3
