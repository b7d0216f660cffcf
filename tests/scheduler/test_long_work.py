"""Long work queued by a page: a threshold change saved on the settings page is re-tiered by
the scheduler process in chunks, the page showing it queued, running with its progress, then done
with its summary."""

from __future__ import annotations

import re
import time
from collections import Counter
from decimal import Decimal

import sqlalchemy as sa

from crm.extensions import db

RETIER_CUSTOMERS = 240
_RUNNING = re.compile(r"Running: (\d[\d,]*) of (\d[\d,]*) customers")


def _settings_state(client) -> tuple[str | None, str]:
    page = client.get("/admin/settings", headers={"Accept-Language": "en"}).get_data(as_text=True)
    state = re.search(r'class="retier-job" data-state="(\w+)"', page)
    return (state.group(1) if state else None), page


def test_a_threshold_change_from_the_page_runs_in_the_scheduler_with_its_progress(
    local_app, start_scheduler, monkeypatch
):
    """Saving thresholds answers at once with the re-tier queued; the scheduler process runs
    it in chunks (here of 2 customers), the page shows it running with its progress, then done
    with its summary, and every customer is re-tiered once."""
    from crm.models import Branch, Customer, QuadrantEvent
    from crm.models.enums import MoveCause, Role
    from crm.services.customers import tiering
    from tests.support.factories import PASSWORD, make_customer, make_staff

    with local_app.app_context():
        branch = Branch(name="城东支行")
        make_staff("boss", Role.ADMIN, None)
        owner = make_staff("wangli", Role.STAFF, branch)
        for n in range(RETIER_CUSTOMERS):
            customer = make_customer(
                owner,
                f"客户{n}",
                f"+86138{n:08d}",
                liquid_assets=Decimal(100_000 * (n % 20)),
                willingness=(n * 7) % 100,
            )
            tiering.place(customer, MoveCause.IMPORT, None, first=True)
        db.session.commit()
        db.session.remove()
    wanted = tiering.Thresholds(capability=Decimal("550000.00"), willingness=35)

    client = local_app.test_client()
    client.post("/login", data={"username": "boss", "password": PASSWORD})
    started = time.monotonic()
    saved = client.post(
        "/admin/settings",
        data={"capability_threshold": "550000", "willingness_threshold": "35"},
    )
    assert saved.status_code == 302
    assert time.monotonic() - started < 2  # nothing re-tiered in the request
    assert _settings_state(client)[0] == "queued"

    monkeypatch.setenv("CRM_RETIER_CHUNK", "2")
    monkeypatch.setenv("CRM_JOB_POLL_SECONDS", "0.2")
    process = start_scheduler("worker")
    seen: list[tuple[int, int]] = []
    deadline = time.monotonic() + 60
    while True:
        state, page = _settings_state(client)
        if state == "running" and (running := _RUNNING.search(page)):
            seen.append(tuple(int(g.replace(",", "")) for g in running.groups()))
        if state in ("done", "failed"):
            break
        assert process.process.poll() is None, process.output()
        assert time.monotonic() < deadline, process.output()
        time.sleep(0.02)
    assert state == "done", page
    partial = [done for done, total in seen if 0 < done < total]
    assert partial, f"never seen part-way: {seen}"
    assert partial == sorted(partial)
    assert all(total == RETIER_CUSTOMERS for done, total in seen if done)

    with local_app.app_context():
        customers = db.session.scalars(sa.select(Customer)).all()
        assert all(
            c.quadrant == tiering.quadrant_for(c.liquid_assets, c.willingness, wanted)
            for c in customers
        )
        moves = Counter(
            db.session.scalars(
                sa.select(QuadrantEvent.customer_id).where(
                    QuadrantEvent.cause == MoveCause.THRESHOLD_CHANGE
                )
            )
        )
        first = Counter(
            db.session.execute(
                sa.select(QuadrantEvent.customer_id, QuadrantEvent.to_quadrant).where(
                    QuadrantEvent.cause == MoveCause.IMPORT
                )
            ).all()
        )
        moved = {c.id for c in customers if (c.id, c.quadrant) not in first}
        db.session.remove()
    assert moved and set(moves) == moved and set(moves.values()) == {1}
    summary = f"{len(moved)} of {RETIER_CUSTOMERS} customers changed quadrant"
    assert summary in page
    assert process.stop() == 0
