"""``flask crm handover``: a leaver's customers to a colleague from the shell, refusals said
in the shell's language with nothing moved."""

from __future__ import annotations

import sqlalchemy as sa

from crm.extensions import db
from crm.models import Customer, Staff
from crm.models.enums import Quadrant


def _owner(customer_id: int) -> int:
    return db.session.scalar(sa.select(Customer.owner_id).where(Customer.id == customer_id))


def test_handing_over_all_of_a_leavers_customers(world, runner, monkeypatch):
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    result = runner.invoke(
        args=["crm", "handover", "--from", "alice", "--to", "bob", "--deactivate"]
    )
    assert result.exit_code == 0, result.output
    assert "Customers handed over from Alice to Bob: 1, with" in result.output
    assert "Alice is deactivated." in result.output
    assert _owner(world.alice_customer.id) == world.bob.id
    assert db.session.get(Staff, world.alice.id).is_active_account is False


def test_a_filter_and_a_manager_s_reach(world, runner, monkeypatch):
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    db.session.get(Customer, world.alice_customer.id).quadrant = Quadrant.PAMPER
    db.session.commit()
    skipped = runner.invoke(
        args=["crm", "handover", "--from", "alice", "--to", "bob", "--quadrant", "develop"]
    )
    assert skipped.exit_code == 2 and "No customers of Alice match." in skipped.output
    outside = runner.invoke(
        args=["crm", "handover", "--from", "alice", "--to", "carol", "--by", "manager"]
    )
    assert outside.exit_code == 2
    assert "Handed over to: Choose a staff member of your branch." in outside.output
    assert _owner(world.alice_customer.id) == world.alice.id
    moved = runner.invoke(
        args=[
            "crm",
            "handover",
            "--from",
            "alice",
            "--to",
            "bob",
            "--quadrant",
            "pamper",
            "--by",
            "manager",
        ]
    )
    assert moved.exit_code == 0, moved.output
    assert _owner(world.alice_customer.id) == world.bob.id


def test_refusals_speak_chinese_by_default(world, runner, monkeypatch):
    monkeypatch.setenv("LANG", "C.UTF-8")
    result = runner.invoke(args=["crm", "handover", "--from", "alice", "--to", "alice"])
    assert result.exit_code == 2
    assert "不能移交给同一名员工。" in result.output
    unknown = runner.invoke(args=["crm", "handover", "--from", "nobody", "--to", "bob"])
    assert unknown.exit_code == 2 and "没有名为 nobody 的员工。" in unknown.output
    assert _owner(world.alice_customer.id) == world.alice.id
