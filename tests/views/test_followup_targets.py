"""The manager's follow-up page: targets against actuals per staff member, branch and channel,
the missed targets marked, the complaints overdue or due within a day, and who may open it."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from crm.core.clock import local_today
from crm.extensions import db
from crm.models import Complaint
from crm.models.enums import CallbackIntent, Channel, ProductType
from crm.services.followup import calls, complaints
from tests.support.pages import EN, text_of
from tests.views.maturities import callback_of, next_month, policy, scan


@pytest.fixture
def outcomes(world):
    """Hand-built follow-up: Alice's ten participating maturities (2 to a new policy, 3 to a
    deposit), Bob's five universal-life ones (3 kept, 1 surrendered, 1 unreachable), five
    answered complaints of Alice's customer (all satisfied, but one ended in a non-routine
    surrender, which never counts as satisfied), and an overdue one of Bob's."""
    world.alice_customer.channel = Channel.REFERRAL
    world.bob_customer.channel = Channel.EVENT
    alice_policies = [policy(world.alice_customer, next_month(1 + i)) for i in range(10)]
    bob_policies = [
        policy(world.bob_customer, next_month(12 + i), ProductType.UNIVERSAL) for i in range(5)
    ]
    carol_policy = policy(world.carol_customer, next_month(2))
    db.session.commit()
    scan()
    now = datetime.now(UTC)
    intents = {
        **dict(
            zip(
                alice_policies,
                [CallbackIntent.NEW_POLICY] * 2 + [CallbackIntent.DEPOSIT] * 3,
                strict=False,
            )
        ),
        **dict(
            zip(
                bob_policies,
                [CallbackIntent.RENEW] * 2
                + [CallbackIntent.UNDECIDED, CallbackIntent.SURRENDER, CallbackIntent.UNREACHABLE],
                strict=True,
            )
        ),
        carol_policy: CallbackIntent.NEW_POLICY,
    }
    for p, intent in intents.items():
        callback = callback_of(p)
        callback.intent, callback.recorded_at = intent, now
    for satisfied, surrender in ((True, False),) * 4 + ((True, True),):
        db.session.add(
            Complaint(
                customer=world.alice_customer,
                point="p",
                opened_at=now - timedelta(days=2),
                due_at=now + timedelta(days=5),
                answered_at=now - timedelta(days=1),
                satisfied=satisfied,
                non_routine_surrender=surrender,
                handling_opinion="o",
            )
        )
    late = complaints.open_complaint(
        world.bob, world.bob_customer, {"point": "久未答复", "opened_at": now - timedelta(days=8)}
    )
    db.session.commit()
    return late


def period() -> str:
    start, end = calls.scan_window(local_today())
    return f"from={start.isoformat()}&to={end.isoformat()}"


def row(page: str, key) -> str:
    rest = page.split(f'data-row="{key}"', 1)[1].split(">", 1)[1]
    return text_of(rest.split("</tr>", 1)[0])


def test_followup_page_sets_targets_against_actuals_per_staff_member(world, outcomes, auth):
    auth.login("manager")
    page = auth.client.get(f"/followup?{period()}&split=staff", headers=EN).get_data(as_text=True)
    alice, bob, total = row(page, world.alice.id), row(page, world.bob.id), row(page, "all")
    assert alice.startswith("Alice 10 5 ")
    assert "20.0% (2/10) ✓ met" in alice  # policy conversion, target 20%
    assert "30.0% (3/10) ✓ met" in alice  # deposit conversion, target 30%
    assert "80.0% (4/5) ✓ met" in alice  # satisfaction, target ≥ 80%: the surrender is not
    assert bob.startswith("Bob 5 5 ")
    assert "75.0% (3/4) ✓ met" in bob  # retention among the four reached
    assert bob.endswith("1 1")  # one open complaint, overdue
    assert total.startswith("Overall 15 10 ") and "20.0% (2/10) ✓ met" in total
    assert "Carol" not in page  # another branch
    pressing = page.split('data-testid="pressing-complaints"', 1)[1]
    assert f'class="overdue" data-complaint="{outcomes.id}"' in pressing and "久未答复" in pressing


def test_followup_page_lists_complaints_overdue_or_due_within_a_day(world, outcomes, auth):
    now = datetime.now(UTC)
    soon, _later = (
        complaints.open_complaint(
            world.alice, world.alice_customer, {"point": point, "opened_at": now - age}
        )
        for point, age in (
            ("明早到期", timedelta(days=6, hours=12)),
            ("下周到期", timedelta(days=1)),
        )
    )
    db.session.commit()
    auth.login("manager")
    page = auth.client.get("/followup", headers=EN).get_data(as_text=True)
    pressing = page.split('data-testid="pressing-complaints"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r'<tr class="(\w*)" data-complaint="(\d+)"', pressing)
    assert rows == [("overdue", str(outcomes.id)), ("", str(soon.id))]  # soonest due first
    assert "下周到期" not in pressing  # due in six days: not yet pressing
    assert "1 overdue" in text_of(page)


def test_followup_targets_missed_are_marked(world, outcomes, auth):
    # One more participating maturity, not converted: 2 of 11 is under 20%.
    policy(world.alice_customer, next_month(28))
    db.session.commit()
    scan()
    auth.login("manager")
    page = auth.client.get(f"/followup?{period()}", headers=EN).get_data(as_text=True)
    assert "18.2% (2/11) ✗ missed" in row(page, world.alice.id)


def test_followup_page_splits_by_branch_and_channel(world, outcomes, auth):
    auth.login("admin")
    by_branch = auth.client.get(f"/followup?{period()}&split=branch", headers=EN)
    page = by_branch.get_data(as_text=True)
    east, west = row(page, world.east.id), row(page, world.west.id)
    assert east.startswith("城东支行 15 10 ") and "20.0% (2/10) ✓ met" in east
    assert west.startswith("城西支行 1 1 ") and "100.0% (1/1) ✓ met" in west
    assert row(page, "all").startswith("Overall 16 11 ")

    page = auth.client.get(f"/followup?{period()}&split=channel", headers=EN).get_data(as_text=True)
    assert row(page, "referral").startswith("Referral 10 5 ")
    assert row(page, "event").startswith("Event 5 5 ")
    assert row(page, "none").startswith("Not recorded 1 1 ")  # Carol's customer


def test_followup_page_is_for_managers_and_explains_bad_input(world, outcomes, auth):
    auth.login("alice")
    assert auth.client.get("/followup").status_code == 404  # as every page beyond one's role
    auth.logout()
    auth.login("manager")
    bad = auth.client.get("/followup?from=2026-13-40&split=everyone", headers=EN)
    assert bad.status_code == 400
    page = bad.get_data(as_text=True)
    assert "Enter dates as YYYY-MM-DD" in page and "staff members are shown" in page
