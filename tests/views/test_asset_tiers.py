"""Asset tiers (资产分层): boundaries exactly at ¥1,000,000 and ¥5,000,000, the list's ?tier=,
the dossier, the grid split by tier, and the admin page refusing overlaps and gaps."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa

from crm.core.inputs import InvalidInput
from crm.extensions import db
from crm.models import AuditLog, Setting
from crm.models.enums import MoveCause
from crm.services.customers import asset_tiers, tiering
from tests.support.factories import make_customer

pytestmark = pytest.mark.backends("sqlite")

AMOUNTS = {
    "低于百万": Decimal("999999.99"),
    "正好百万": Decimal("1000000.00"),
    "接近五百万": Decimal("4999999.99"),
    "正好五百万": Decimal("5000000.00"),
}


@pytest.fixture
def customers(world):
    made = {}
    for n, (name, amount) in enumerate(AMOUNTS.items()):
        customer = make_customer(world.alice, name, f"+8613711{n:06d}", liquid_assets=amount)
        tiering.place(customer, MoveCause.IMPORT, None, first=True)
        made[name] = customer
    db.session.commit()
    return made


def test_the_bounds_belong_to_the_higher_tier(app):
    tiers = asset_tiers.tiers_from(asset_tiers.DEFAULT_BOUNDS)
    numbers = {name: asset_tiers.tier_of(a, tiers).number for name, a in AMOUNTS.items()}
    assert numbers == {"低于百万": 1, "正好百万": 2, "接近五百万": 2, "正好五百万": 3}


def test_the_list_filters_by_tier_and_the_dossier_names_it(world, customers, auth, client):
    auth.login("alice")
    second = client.get("/customers?tier=2").get_data(as_text=True)
    assert "正好百万" in second and "接近五百万" in second
    assert "低于百万" not in second and "正好五百万" not in second
    third = client.get("/customers?tier=3").get_data(as_text=True)
    assert "正好五百万" in third and "正好百万" not in third
    # An unknown tier is no filter.
    assert "低于百万" in client.get("/customers?tier=9").get_data(as_text=True)
    page = client.get(f"/customers/{customers['正好五百万'].id}").get_data(as_text=True)
    assert "¥5,000,000 及以上" in page
    page = client.get(f"/customers/{customers['正好百万'].id}").get_data(as_text=True)
    assert "¥1,000,000 至 ¥5,000,000" in page


def test_the_grid_splits_each_cell_by_tier(world, customers, auth, client):
    auth.login("alice")
    page = client.get("/grid").get_data(as_text=True)
    assert 'data-testid="tier-split"' in page
    assert "?quadrant=cultivate&amp;tier=2" in page or "quadrant=cultivate&amp;tier=2" in page


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0 - 1000000\n900000 - 5000000\n5000000 -", "第 1 层与第 2 层重叠"),
        ("0 - 1000000\n1200000 - 5000000\n5000000 -", "第 1 层与第 2 层之间有空档"),
        ("100 - 1000000\n1000000 -", "第一层须从 ¥0 开始"),
        ("0 - 1000000\n1000000 - 5000000", "最后一层不设上限"),
        ("0 - 一百万\n一百万 -", ""),
    ],
)
def test_tiers_that_overlap_or_leave_a_gap_are_refused_and_nothing_written(
    world, auth, client, text, message
):
    auth.login("admin")
    response = client.post("/admin/asset-tiers", data={"tiers": text})
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert 'role="alert"' in response.get_data(as_text=True)
    assert db.session.get(Setting, asset_tiers.SETTING_KEY) is None


def test_an_admin_sets_new_tiers_audited(world, customers, auth, client):
    auth.login("admin")
    text = "0 - 500,000\n500,000 - 2,000,000\n2,000,000 - 10,000,000\n10,000,000 -"
    response = client.post("/admin/asset-tiers", data={"tiers": text})
    assert response.status_code == 302
    assert asset_tiers.current_bounds() == (
        Decimal("500000.00"),
        Decimal("2000000.00"),
        Decimal("10000000.00"),
    )
    assert db.session.scalar(
        sa.select(sa.func.count()).select_from(AuditLog).where(AuditLog.field == "asset_tiers")
    )
    auth.logout()
    auth.login("alice")
    page = client.get("/customers?tier=3").get_data(as_text=True)
    assert "正好五百万" in page and "正好百万" not in page
    # Staff do not see the admin page.
    assert client.get("/admin/asset-tiers").status_code == 404


def test_parse_tiers_reads_the_defaults_back(app):
    with app.test_request_context():
        text = asset_tiers.as_text(asset_tiers.DEFAULT_BOUNDS)
        assert asset_tiers.parse_tiers(text) == asset_tiers.DEFAULT_BOUNDS
        with pytest.raises(InvalidInput):
            asset_tiers.parse_tiers("0 -")
