"""How each database answers the team page's experience counts, read from its own plans
(SQLite's EXPLAIN QUERY PLAN, PostgreSQL's EXPLAIN) over a bank large enough, and analysed,
for the planner to choose: each staff member's range of the experiences' owner index
(``ix_experience_owner_id_status_due_on_category``), never a probe per customer of the
branch, never the customer or experience table read."""

from __future__ import annotations

import re
from datetime import timedelta

import sqlalchemy as sa

from crm.core.clock import local_today
from crm.extensions import db
from crm.models import Customer, Experience
from crm.models.enums import Role
from crm.services.management import team
from tests.support.factories import customer_row, make_staff

CUSTOMERS = 20_000
EXPERIENCES_EACH = 5
WEST_STAFF = 30


def _bank(world):
    """``CUSTOMERS`` customers, one in fifty alice's, one in twenty bob's, the others among
    ``WEST_STAFF`` of the other branch (a bank of many branches: the branch holds a few in a
    hundred), each with ``EXPERIENCES_EACH`` visits a fortnight apart up to today, the
    latest planned; analysed."""
    created = world.alice.created_at
    west = [world.carol] + [
        make_staff(f"west{n}", Role.STAFF, world.west) for n in range(WEST_STAFF - 1)
    ]
    db.session.flush()
    rows = []
    for n in range(CUSTOMERS):
        owner = world.alice if n % 50 == 1 else world.bob if n % 20 == 2 else west[n % WEST_STAFF]
        rows.append(customer_row(n, owner, created))
    db.session.execute(sa.insert(Customer.__table__), rows)
    today = local_today()
    for k in range(EXPERIENCES_EACH):
        status = "planned" if k == 0 else "done"
        db.session.execute(
            sa.insert(Experience.__table__).from_select(
                ["customer_id", "owner_id", "category", "status", "origin", "due_on"]
                + ["planned_cost", "created_at", "version"],
                sa.select(
                    Customer.id,
                    Customer.owner_id,
                    sa.literal("visit"),
                    sa.literal(status),
                    sa.literal("staff"),
                    sa.literal(today - timedelta(days=14 * k), sa.Date),
                    sa.literal(0),
                    sa.literal(created, Customer.created_at.type),
                    sa.literal(1),
                ).where(Customer.phone.like("+86137%")),
            )
        )
    db.session.commit()
    if db.engine.dialect.name == "sqlite":
        db.session.execute(sa.text("ANALYZE"))
        db.session.commit()
    else:  # as autovacuum leaves a table: its visibility map set, its statistics taken
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("VACUUM ANALYZE experience"))
            conn.execute(sa.text("ANALYZE customer"))


def _experience_plans(branch_id: int) -> list[str]:
    ran: list[tuple[str, object]] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if re.search(r"FROM experience", statement):
            ran.append((statement, parameters))

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        team.team(branch_id)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
    connection = db.session.connection()
    sqlite = db.engine.dialect.name == "sqlite"
    explain = "EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN "
    return [
        "\n".join(
            str(line[-1] if sqlite else line[0])
            for line in connection.exec_driver_sql(explain + statement, parameters).all()
        )
        for statement, parameters in ran
    ]


def test_each_staff_members_experiences_are_one_range_of_the_owner_index(world, backend):
    _bank(world)

    plans = _experience_plans(world.east.id)

    assert len(plans) == 2, plans  # the agenda's and the week's and month's
    for plan in plans:
        assert "ix_experience_owner_id_status_due_on_category" in plan, plan
        assert "customer" not in plan, plan  # neither the table nor any of its indexes
        if backend == "sqlite":
            assert "COVERING INDEX" in plan, plan  # the rows themselves are never read
            assert "SCAN experience" not in plan, plan
        else:
            assert "Seq Scan on experience" not in plan, plan
            assert re.search(r"Index Cond: \(\(owner_id = ANY", plan), plan  # a range each
