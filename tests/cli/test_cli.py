"""``flask crm ...`` commands."""

import pytest
import sqlalchemy as sa

from crm.extensions import db
from crm.models import Customer, Policy, Staff
from crm.services.simulation import demo


def test_create_user_with_branch(runner, world):
    result = runner.invoke(
        args=[
            "crm",
            "create-user",
            "frank",
            "--role",
            "manager",
            "--branch",
            "城西支行",
            "--password",
            "long-enough",
        ]
    )
    assert result.exit_code == 0, result.output
    frank = db.session.scalar(sa.select(Staff).where(Staff.username == "frank"))
    assert (
        frank.role == "manager"
        and frank.branch == world.west
        and frank.check_password("long-enough")
    )


def test_create_user_refuses_bad_input_with_a_message(runner, world, monkeypatch):
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    result = runner.invoke(
        args=["crm", "create-user", "gina", "--branch", "无此网点", "--password", "long-enough"]
    )
    assert result.exit_code == 2 and "Unknown branch" in result.output
    result = runner.invoke(
        args=["crm", "create-user", "gina", "--branch", "城西支行", "--password", "short"]
    )
    assert result.exit_code == 2 and "at least 8" in result.output
    assert db.session.scalar(sa.select(Staff).where(Staff.username == "gina")) is None


def _fingerprint():
    rows = db.session.execute(
        sa.select(
            Customer.name, Customer.phone, Customer.birth_date, Customer.liquid_assets
        ).order_by(Customer.id)
    ).all()
    return [tuple(r) for r in rows]


def test_demo_is_deterministic_per_seed_and_only_fills_an_empty_database(runner, app, monkeypatch):
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    result = runner.invoke(args=["crm", "demo", "--customers", "60", "--seed", "5"])
    assert result.exit_code == 0, result.output
    first = _fingerprint()
    assert len(first) == 60
    again = runner.invoke(args=["crm", "demo", "--customers", "60", "--seed", "5"])
    assert again.exit_code != 0 and "already has data" in again.output
    assert runner.invoke(args=["crm", "demo", "--if-empty"]).exit_code == 0
    assert len(_fingerprint()) == 60

    # Same seed on an emptied database: the same bank.
    from tests.support.databases import empty_tables

    empty_tables()
    runner.invoke(args=["crm", "demo", "--customers", "60", "--seed", "5"])
    assert _fingerprint() == first
    empty_tables()
    runner.invoke(args=["crm", "demo", "--customers", "60", "--seed", "6"])
    assert _fingerprint() != first


def test_demo_customers_follow_seed_003_age_bands_and_policies_mature_soon(app, runner):
    from datetime import date, timedelta

    runner.invoke(args=["crm", "demo", "--customers", "400", "--seed", "1"])
    today = date.today()
    ages = [(today - b).days // 365 for b in db.session.scalars(sa.select(Customer.birth_date))]
    assert min(ages) >= 20
    bands = [
        sum(lo <= a <= hi for a in ages)
        for lo, hi in ((20, 30), (31, 40), (41, 50), (51, 60), (61, 200))
    ]
    assert all(count > 0 for count in bands)
    maturing = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Policy)
        .where(Policy.maturity_date.between(today, today + timedelta(days=365)))
    )
    assert maturing > 50
    assert db.session.scalar(sa.select(sa.func.max(Policy.start_date))) <= today
    # Every demo phone is a valid mobile number by the same rule the forms apply.
    from crm.core.phones import normalize_phone

    for phone in db.session.scalars(sa.select(Customer.phone)):
        assert normalize_phone(phone) == phone


def test_demo_logins_work(app, runner):
    runner.invoke(args=["crm", "demo", "--customers", "5"])
    client = app.test_client()
    for username, password, _ in demo.demo_logins():
        response = client.post("/login", data={"username": username, "password": password})
        assert response.status_code == 302, username
        client.post("/logout")


def test_cli_speaks_chinese_in_a_chinese_shell(runner, world, monkeypatch):
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    result = runner.invoke(
        args=["crm", "create-user", "gina", "--branch", "无此网点", "--password", "long-enough"]
    )
    assert "网点" in result.output


@pytest.mark.parametrize(
    ("lang", "said"),
    [
        ("zh_CN.UTF-8", ["已检查 3 位客户", "已计划", "资产门槛："]),
        ("en_US.UTF-8", ["Examined 3 customers", "Planned", "Capability threshold:"]),
    ],
)
def test_the_commands_report_in_the_shells_language(runner, world, monkeypatch, lang, said):
    monkeypatch.setenv("LANG", lang)
    retier = runner.invoke(args=["crm", "retier"])
    plan = runner.invoke(args=["crm", "plan", "--days", "7"])
    settings = runner.invoke(args=["crm", "settings"])
    assert said[0] in retier.output and said[1] in plan.output
    assert said[2] in settings.output
    # No bare progress label when the output is not a terminal (a log, a pipe).
    assert "Planning" not in plan.output and "正在计划" not in plan.output
    assert "Re-tiering" not in retier.output and "重新分层" not in retier.output


def test_the_demo_bank_has_prospects_and_a_pipeline_at_every_open_stage(app, runner):
    from crm.models import Opportunity, Prospect
    from crm.models.enums import OPEN_STAGES, ProspectStatus

    result = runner.invoke(args=["crm", "demo", "--customers", "200", "--seed", "3"])
    assert result.exit_code == 0, result.output
    stages = set(db.session.scalars(sa.select(Opportunity.stage)))
    assert stages == set(OPEN_STAGES)
    statuses = set(db.session.scalars(sa.select(Prospect.status)))
    assert statuses == {ProspectStatus.NEW, ProspectStatus.CONTACTED, ProspectStatus.QUALIFIED}


def test_demo_with_months_gives_the_bank_a_history_up_to_yesterday(runner, app, monkeypatch):
    from datetime import timedelta

    from crm.core.clock import local_today
    from crm.models import Experience
    from crm.models.enums import ExperienceStatus

    monkeypatch.setenv("LANG", "en_US.UTF-8")
    result = runner.invoke(args=["crm", "demo", "--customers", "40", "--months", "1"])
    assert result.exit_code == 0, result.output
    assert "Simulated" in result.output
    yesterday = local_today() - timedelta(days=1)
    held = db.session.execute(
        sa.select(sa.func.count(), sa.func.max(Experience.held_on)).where(
            Experience.status == ExperienceStatus.DONE
        )
    ).one()
    assert held[0] > 0 and held[1] <= yesterday
    # The list shows when each was last contacted: not every customer "never contacted".
    contacted = db.session.scalar(
        sa.select(sa.func.count()).where(Customer.last_contact_on.is_not(None))
    )
    assert contacted > 0
    # …and the demo still only fills an empty database.
    again = runner.invoke(args=["crm", "demo", "--months", "1", "--if-empty"])
    assert again.exit_code == 0 and "not loaded" in again.output
