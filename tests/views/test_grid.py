"""The grid page against a direct count, the quadrant filter, the dossier timeline."""

import re
from decimal import Decimal

import sqlalchemy as sa

from crm.core import jobs as queue
from crm.extensions import db
from crm.models import Customer
from crm.models.enums import MoveCause, Quadrant
from crm.scheduler import jobs as scheduler_jobs
from crm.services.customers import tiering


def cell(page, quadrant):
    block = page.split(f'data-quadrant="{quadrant}"')[1].split("</a>")[0]
    count = int(re.search(r"<strong>(\d+)</strong>", block)[1])
    assets = re.search(r"¥([\d,]+\.\d\d)", block)[1].replace(",", "")
    moves = tuple(int(n) for n in re.findall(r"\d+", block.split('class="cell-moves">')[1]))
    return count, Decimal(assets), moves


def test_grid_counts_match_a_direct_count(app, runner, auth):
    runner.invoke(args=["crm", "demo", "--customers", "300", "--seed", "3"])
    tiering.change_thresholds(None, tiering.Thresholds(Decimal("800000"), 55))
    auth.login("manager1", "demo1234")
    page = auth.client.get("/grid").get_data(as_text=True)
    manager_branch = db.session.scalar(
        sa.select(Customer.branch_id)
        .join(Customer.owner)
        .where(Customer.owner.has(username="staff1"))
    )
    for q in Quadrant:
        direct = db.session.execute(
            sa.select(
                sa.func.count(), sa.func.coalesce(sa.func.sum(Customer.liquid_assets), 0)
            ).where(Customer.quadrant == q, Customer.branch_id == manager_branch)
        ).one()
        count, assets, (moved_in, moved_out) = cell(page, q.value)
        assert (count, assets) == (direct[0], Decimal(direct[1]).quantize(Decimal("0.01"))), q
    total_in = sum(cell(page, q.value)[2][0] for q in Quadrant)
    total_out = sum(cell(page, q.value)[2][1] for q in Quadrant)
    assert total_in == total_out > 0  # every move leaves one cell and enters another


def test_each_cell_links_to_its_filtered_list(world, auth):
    tiering.place(world.alice_customer, MoveCause.IMPORT, None, first=True)
    world.bob_customer.willingness = 80
    tiering.place(world.bob_customer, MoveCause.IMPORT, None, first=True)
    db.session.commit()
    auth.login("manager")
    page = auth.client.get(f"/grid?owner={world.bob.id}").get_data(as_text=True)
    link = re.search(r'href="([^"]*quadrant=maintain[^"]*)"', page)[1].replace("&amp;", "&")
    assert f"owner={world.bob.id}" in link
    listing = auth.client.get(link).get_data(as_text=True)
    assert "李娜" in listing and "张伟" not in listing


def test_dossier_shows_the_badge_timeline_and_reassessment(world, auth):
    tiering.place(world.alice_customer, MoveCause.IMPORT, None, first=True)
    db.session.commit()
    auth.login("alice")
    url = f"/customers/{world.alice_customer.id}"
    bad = auth.client.post(
        url + "/willingness",
        data={"willingness": "80", "reason": "", "version": str(world.alice_customer.version)},
        headers={"Accept-Language": "en"},
    )
    assert "Say why the willingness changed" in bad.get_data(as_text=True)
    ok = auth.client.post(
        url + "/willingness",
        data={
            "willingness": "80",
            "reason": "参加了产品说明会并主动咨询",
            "version": str(world.alice_customer.version),
        },
        headers={"Accept-Language": "en"},
    )
    assert ok.status_code == 302
    page = auth.client.get(url, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'data-testid="quadrant">Maintain' in page
    timeline = page.split('id="tier"')[1]
    assert "Willingness re-assessment" in timeline and "参加了产品说明会并主动咨询" in timeline
    assert "Alice" in timeline
    history = page.split('class="history"')[1]
    assert "Reason: 参加了产品说明会并主动咨询" in history


def test_admin_changes_thresholds_in_the_ui(world, auth):
    auth.login("admin")
    bad = auth.client.post(
        "/admin/settings",
        data={"capability_threshold": "-5", "willingness_threshold": "60"},
        headers={"Accept-Language": "en"},
    )
    assert "must be more than ¥0" in bad.get_data(as_text=True)
    assert tiering.current_thresholds() == tiering.Thresholds()
    ok = auth.client.post(
        "/admin/settings", data={"capability_threshold": "50000", "willingness_threshold": "60"}
    )
    assert ok.status_code == 302
    db.session.expire_all()
    assert tiering.current_thresholds().capability == Decimal("50000.00")
    # The re-tier is queued for the scheduler process; run it here as that process would.
    queue.run(queue.claim("test"), scheduler_jobs.LONG_WORK)
    db.session.expire_all()
    assert db.session.get(Customer, world.alice_customer.id).quadrant == Quadrant.CULTIVATE
