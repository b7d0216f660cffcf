"""De-identified sharing with the insurer partner (seed 000): a scan of the file for anything
personal, the keyed pseudonyms, the scope, the audit, and the refusals."""

from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from crm.core.clock import local_today
from crm.core.phones import national_digits
from crm.extensions import db
from crm.models import AuditLog, Customer, Policy
from crm.models.enums import PaymentMode, ProductType
from crm.services.transfer import partner_share

SECRET = "s" * 16 + "-a-share-secret-of-32+"


@pytest.fixture
def shared(world, settings):
    """The world's customers with what a partner must never see: birth dates, e-mail, and
    a phone number planted in every free-text field."""
    settings(CRM_SHARE_SECRET=SECRET)
    planted = "13987654321"
    for customer in (world.alice_customer, world.bob_customer, world.carol_customer):
        customer.birth_date = date(1975, 6, 30)
        customer.email = f"c{customer.id}@example.com"
        customer.notes = f"客户说可以打 {planted} 找她丈夫"
        customer.family_notes = "丈夫电话 +86 139 8765 4321"
        customer.interests_notes = "高尔夫"
        customer.occupation = "企业主 13987654321"
    world.alice_customer.liquid_assets = Decimal("2000000.00")
    db.session.add(
        Policy(
            customer=world.alice_customer,
            policy_number="P-1",
            product_name="客户自填 13987654321",
            product_type=ProductType.ANNUITY,
            premium=Decimal("10000.00"),
            payment_mode=PaymentMode.REGULAR,
            start_date=date(2024, 1, 1),
        )
    )
    db.session.commit()
    return planted


def read(path) -> list[list[str]]:
    import csv

    with path.open(encoding="utf-8") as file:
        return list(csv.reader(file))


def test_the_partner_file_holds_no_name_phone_birth_date_or_free_text(world, shared, tmp_path):
    out = tmp_path / "share.csv"
    summary = partner_share.export_share(None, "中国人寿", out)
    db.session.commit()
    assert summary.rows == 3
    text = out.read_text(encoding="utf-8")
    digits = "".join(c for c in text if c.isdigit())
    customers = db.session.scalars(sa.select(Customer)).all()
    for customer in customers:
        assert customer.name not in text
        for form in (customer.phone, national_digits(customer.phone), customer.phone[-8:]):
            assert form not in text and form not in digits
        assert customer.email not in text
        for birth in ("1975-06-30", "19750630", "1975/6/30", "1975年"):
            assert birth not in text
    assert shared not in text and shared not in digits  # the planted number
    for free in ("客户", "丈夫", "高尔夫", "企业主", "自填"):
        assert free not in text
    rows = read(out)
    assert rows[0] == list(partner_share.COLUMNS)
    by_assets = {row[3]: row for row in rows[1:]}
    rich = by_assets["1000000-5000000"]
    age = partner_share.age_band(date(1975, 6, 30), local_today())
    assert rich[1:] == [age, "develop", "1000000-5000000", "R1", "annuity"]
    assert by_assets["0-1000000"][5] == ""  # no policy held
    # Pseudonyms: 64 hex digits, no id of the bank's.
    assert all(len(row[0]) == 64 and int(row[0], 16) >= 0 for row in rows[1:])


def test_pseudonyms_are_stable_per_partner_and_differ_between_partners(world, shared, tmp_path):
    first, again, other = tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "c.csv"
    partner_share.export_share(None, "中国人寿", first)
    partner_share.export_share(None, " 中国人寿 ", again)
    partner_share.export_share(None, "平安人寿", other)
    ids = [{row[0] for row in read(path)[1:]} for path in (first, again, other)]
    assert ids[0] == ids[1]
    assert not ids[0] & ids[2]


def test_a_manager_shares_their_branch_and_every_export_is_audited(world, shared, tmp_path):
    out = tmp_path / "east.csv"
    summary = partner_share.export_share(world.manager, "中国人寿", out)
    db.session.commit()
    assert summary.rows == 2  # 城东支行's two
    rows = db.session.scalars(sa.select(AuditLog).where(AuditLog.entity == "partner_share")).all()
    assert {r.field: r.new_value for r in rows} == {
        "partner": "中国人寿",
        "rows": "2",
        "file": "east.csv",
    }
    assert {r.actor_id for r in rows} == {world.manager.id}


def test_without_the_secret_or_a_partner_nothing_is_written(world, settings, tmp_path):
    out = tmp_path / "none.csv"
    settings(CRM_SHARE_SECRET="short")
    with pytest.raises(partner_share.InvalidInput):
        partner_share.export_share(None, "中国人寿", out)
    settings(CRM_SHARE_SECRET=SECRET)
    with pytest.raises(partner_share.InvalidInput):
        partner_share.export_share(None, "  ", out)
    assert not out.exists()
    db.session.rollback()
    assert (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(AuditLog)
            .where(AuditLog.entity == "partner_share")
        )
        == 0
    )


def test_the_share_command_writes_the_file(world, shared, runner, tmp_path, monkeypatch):
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    out = tmp_path / "cli.csv"
    result = runner.invoke(
        args=["crm", "share", "export", "--partner", "中国人寿", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "Wrote 3 de-identified customers" in result.output
    assert len(read(out)) == 4
    refused = runner.invoke(
        args=["crm", "share", "export", "--partner", "x", "--out", str(out), "--as", "alice"]
    )
    assert refused.exit_code != 0 and "Only managers and admins" in refused.output
