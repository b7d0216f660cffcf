"""The dashboard's book stored month by month per branch (``dashboard_month``), so that a
year of a branch's figures reads a few hundred stored rows and only the events since the last
run, never every event of the branch.

What the rows hold. ``refresh`` groups every event dated before ``until`` (by default the
start of today, in the business's zone) by branch, month, the quadrants moved from and to and
the one left (``crm.services.management.book``), in one ``INSERT … SELECT``; ``DashboardBuild``
records ``until`` and the highest event and audit ids it saw. A closed month never changes by
itself, so a nightly run recomputes only the month of the previous run's ``until`` onward
(the current month, and the one just closed on the first night of a month), and beyond that
only what the marks show to have changed:

- a late event: one recorded after the run but dated before its ``until`` (an import, a
  correction): its branch is recomputed from that event's month on;
- a customer moved to another branch (the audit trail's ``branch_id`` changes: a handover, an
  edited dossier): both branches are recomputed from their first month, since the figures
  follow customers by their current branch; a customer erased (audited ``delete``): every
  branch is.

Reading (``stored_groups``) applies the same two checks before it trusts a row, so the
dashboard equals the live computation at every moment, not only after the next run: a month
the marks show changed is read live until the job has caught up. One caveat is the database's:
a transaction still open when the job reads, holding events dated before ``until``, is
missed until a later event of the same branch is; the job runs half an hour after midnight
for that reason, past any write of the day before.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

import sqlalchemy as sa

from crm.core.clock import business_zone, local_today
from crm.extensions import db
from crm.models import AuditLog, Customer, DashboardBuild, DashboardMonth, QuadrantEvent
from crm.models.base import utcnow
from crm.services.management import book
from crm.services.management.period import day_begins, month_start, next_month

BUILD_ID = 1  # the one row of dashboard_build
EVERY_BRANCH = None


@dataclass
class Summary:
    """What a run stored: up to when, and which months of which branches it recomputed."""

    until: datetime
    recomputed: dict[date, set[int] | None] = field(default_factory=dict)  # None: every branch
    rows: int = 0

    def __str__(self) -> str:
        parts = [
            f"{'all' if since == date.min else f'{since:%Y-%m} on'}: "
            f"{'every branch' if ids is None else f'branches {sorted(ids)}'}"
            for since, ids in sorted(self.recomputed.items())
        ]
        return f"stored up to {self.until.isoformat()}: {'; '.join(parts) or 'nothing'}"


def _month_of(moment: datetime) -> date:
    return month_start(moment.astimezone(business_zone()).date())


def _begins(month: date) -> datetime:
    return day_begins(month, business_zone())


def _marks() -> tuple[int, int]:
    return (
        db.session.scalar(sa.select(sa.func.max(QuadrantEvent.id))) or 0,
        db.session.scalar(sa.select(sa.func.max(AuditLog.id))) or 0,
    )


def _unindexed(column: sa.ColumnElement) -> sa.ColumnElement:
    """``column`` as no index can serve it: so that the planner reads the few rows recorded
    since a mark by their id, not the whole of an index on ``column``."""
    return sa.func.coalesce(column, column)


def _late(build: DashboardBuild, scope: sa.ColumnElement[bool]) -> list[tuple[int, datetime]]:
    """Events recorded after ``build`` but dated before its ``until``: per branch, the
    earliest. (Asked first without the customers: there are seldom any.)"""
    since_mark = sa.and_(
        QuadrantEvent.id > build.event_mark, _unindexed(QuadrantEvent.at) < build.built_at
    )
    if not db.session.scalar(sa.select(sa.func.count()).where(since_mark)):
        return []
    earliest = sa.type_coerce(sa.func.min(QuadrantEvent.at), QuadrantEvent.at.type)
    return db.session.execute(
        sa.select(Customer.branch_id, earliest)
        .join(Customer, Customer.id == QuadrantEvent.customer_id)
        .where(scope, since_mark)
        .group_by(Customer.branch_id)
    ).all()


def _moved(build: DashboardBuild) -> tuple[set[int], bool]:
    """Branches customers left or joined since ``build``, and whether a customer was erased."""
    rows = db.session.execute(
        sa.select(AuditLog.action, AuditLog.old_value, AuditLog.new_value).where(
            AuditLog.id > build.audit_mark,
            _unindexed(AuditLog.entity) == "customer",
            sa.or_(AuditLog.action == "delete", AuditLog.field == "branch_id"),
        )
    ).all()
    branches: set[int] = set()
    for action, old, new in rows:
        if action == "delete":
            return branches, True
        branches.update(int(v) for v in (old, new) if v and v.isdigit())
    return branches, False


def _plan(build: DashboardBuild | None, until: datetime) -> dict[date, set[int] | None]:
    """From which month on which branches must be recomputed (``None``: every branch;
    ``date.min``: from the first event)."""
    if build is None:
        return {date.min: EVERY_BRANCH}
    # The month the last run stopped inside (or this run's, should it stop earlier).
    plan: dict[date, set[int] | None] = {
        min(_month_of(build.built_at), _month_of(until)): EVERY_BRANCH
    }
    for branch_id, earliest in _late(build, sa.true()):
        plan.setdefault(_month_of(earliest), set()).add(branch_id)
    moved, erased = _moved(build)
    if erased:
        return {date.min: EVERY_BRANCH}
    if moved:
        plan.setdefault(date.min, set()).update(moved)
    everyone = min(since for since, ids in plan.items() if ids is EVERY_BRANCH)
    return {since: ids for since, ids in plan.items() if since <= everyone}


def _store(since: date, branches: set[int] | None, until: datetime) -> int:
    """Delete and recompute the stored months of ``branches`` from ``since`` on, with every
    event dated before ``until``."""
    in_scope = sa.true() if branches is None else Customer.branch_id.in_(sorted(branches))
    full = since == date.min
    if full:
        first = db.session.scalar(
            sa.select(sa.type_coerce(sa.func.min(QuadrantEvent.at), QuadrantEvent.at.type))
            .join(Customer, Customer.id == QuadrantEvent.customer_id)
            .where(in_scope)
        )
        since = _month_of(first) if first is not None and first < until else _month_of(until)
    # From the beginning, every stored month of the branches goes, even one before their
    # first event now (their customers may all have moved away).
    gone = sa.delete(DashboardMonth).where(sa.true() if full else DashboardMonth.month >= since)
    if branches is not None:
        gone = gone.where(DashboardMonth.branch_id.in_(sorted(branches)))
    db.session.execute(gone)
    months = []
    first = since
    while _begins(first) < until:
        months.append(first)
        first = next_month(first)
    if not months:
        return 0
    bounds = [_begins(months[0]), *(_begins(next_month(m)) for m in months[:-1]), until]
    label = sa.case(
        *((QuadrantEvent.at < bounds[k + 1], sa.literal(m, sa.Date)) for k, m in enumerate(months))
    )
    # From the first event on, every customer is read; else only those with an event since.
    windows = None if full else [(bounds[0], until)]
    groups = book.grouped(
        in_scope, bounds, label=label, keys=(Customer.branch_id,), windows=windows
    ).subquery()
    money = DashboardMonth.placed_assets.type
    select = sa.select(
        groups.c.branch_id,
        groups.c.bucket,
        groups.c.from_quadrant,
        groups.c.to_quadrant,
        groups.c.left,
        groups.c.events,
        groups.c.placed,
        sa.func.coalesce(groups.c.taken, sa.literal(0, money)),
    )
    db.session.execute(
        sa.insert(DashboardMonth).from_select(
            [
                "branch_id",
                "month",
                "from_quadrant",
                "to_quadrant",
                "left_quadrant",
                "events",
                "placed_assets",
                "taken_assets",
            ],
            select,
        )
    )
    # Counted, not taken from the cursor: not every driver reports an INSERT … SELECT's rows.
    written = sa.select(sa.func.count(DashboardMonth.id)).where(DashboardMonth.month >= since)
    if branches is not None:
        written = written.where(DashboardMonth.branch_id.in_(sorted(branches)))
    return db.session.scalar(written) or 0


def refresh(until: datetime | None = None, *, from_scratch: bool = False) -> Summary:
    """Store the book up to ``until`` (by default the start of today): the months the last run
    left open, and whatever the marks show changed since; ``from_scratch``: every month. The
    caller commits."""
    until = until or day_begins(local_today(), business_zone())
    # The build row locked first: a second run at the same time (the command while the job
    # runs) waits, then plans from what this one stored, instead of storing the same twice.
    build = db.session.get(DashboardBuild, BUILD_ID, with_for_update=True)
    event_mark, audit_mark = _marks()
    plan = _plan(None if from_scratch else build, until)
    summary = Summary(until, plan)
    for since, branches in sorted(plan.items()):
        summary.rows += _store(since, branches, until)
    build = build or DashboardBuild(id=BUILD_ID)
    build.built_at, build.event_mark, build.audit_mark = until, event_mark, audit_mark
    build.finished_at = utcnow()
    db.session.add(build)
    return summary


def rebuild(until: datetime | None = None) -> Summary:
    """Forget every stored month and store them all again (``flask crm dashboard-months``)."""
    return refresh(until, from_scratch=True)


# --- reading -----------------------------------------------------------------------------------


def _cut(scope: sa.ColumnElement[bool], branch_id: int | None) -> datetime | None:
    """From when the stored months cannot be trusted for ``scope``: the last run's ``until``,
    or the start of the month of an event recorded late, or the beginning (None) when the
    scope's customers changed branch or one was erased."""
    build = db.session.get(DashboardBuild, BUILD_ID)
    if build is None:
        return None
    moved, erased = _moved(build)
    if erased or (branch_id is not None and branch_id in moved):
        return None
    cut = build.built_at
    for _branch, earliest in _late(build, scope):
        cut = min(cut, _begins(_month_of(earliest)))
    return cut


def stored_groups(
    scope: sa.ColumnElement[bool],
    branch_id: int | None,
    bounds: list[datetime],
) -> tuple[list[book.Group], list[book.Window] | None]:
    """The stored groups ``scope`` may use, bucketed by ``bounds``, and the windows of time
    left to read live: stored months that a bound cuts in two, and everything from the cut on
    (None: nothing stored can be used, every event is read). ``branch_id`` None: every
    branch's rows."""
    cut = _cut(scope, branch_id)
    if cut is None:
        return [], None
    query = (
        sa.select(
            DashboardMonth.month,
            DashboardMonth.from_quadrant,
            DashboardMonth.to_quadrant,
            DashboardMonth.left_quadrant,
            sa.func.sum(DashboardMonth.events),
            sa.type_coerce(
                sa.func.sum(DashboardMonth.placed_assets), DashboardMonth.placed_assets.type
            ),
            sa.type_coerce(
                sa.func.sum(DashboardMonth.taken_assets), DashboardMonth.taken_assets.type
            ),
        )
        .where(DashboardMonth.month < next_month(_month_of(cut)))
        .group_by(
            DashboardMonth.month,
            DashboardMonth.from_quadrant,
            DashboardMonth.to_quadrant,
            DashboardMonth.left_quadrant,
        )
    )
    if branch_id is not None:
        query = query.where(DashboardMonth.branch_id == branch_id)
    groups: list[book.Group] = []
    windows: list[book.Window] = []
    for month, rows in _by_month(db.session.execute(query)):
        start, end = _begins(month), min(_begins(next_month(month)), cut)
        if start >= cut or start >= bounds[-1]:
            continue
        k = bisect.bisect_right(bounds, start)
        if any(start < bound < end for bound in bounds) or end > bounds[-1]:
            windows.append((start, end))
            continue
        groups.extend((k, *row) for row in rows)
    if cut < bounds[-1]:
        windows.append((cut, bounds[-1]))
    return groups, windows


def _by_month(rows: Iterable) -> Iterable[tuple[date, list[tuple]]]:
    found: dict[date, list[tuple]] = {}
    for month, *rest in rows:
        found.setdefault(month, []).append(tuple(rest))
    return found.items()
