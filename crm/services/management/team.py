"""The team page (团队): each staff member of a branch at a glance, and the daily check.

One row per staff member: experiences due today and overdue (the agenda's: planned visits,
events and services), experiences held this week and this month against those planned for
it (each counted for the staff member answerable for it: the customer's owner while it is
planned, whoever owned the customer when it was held), call-backs made today against the
quota (the supervisor's daily check, 由主管进行每日检查, seed 003: who is short), complaints
open and overdue, customers at high churn risk, and the last sign-in. A handful of grouped
statements for the whole branch, each by an index, never one per staff member: the page
costs the same for a branch of five or of fifty.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from crm.core import reads
from crm.core.clock import local_today
from crm.extensions import db
from crm.models import Complaint, Customer, Experience, MaturityCallback, Staff, StaffSession
from crm.models.base import utcnow
from crm.models.enums import ChurnLevel, ExperienceStatus, RelationshipStatus, Role, Touchpoint
from crm.services.followup import calls


@dataclass
class TeamRow:
    """One staff member's figures."""

    id: int
    display_name: str
    username: str
    role: Role
    due_today: int = 0
    overdue: int = 0
    held_week: int = 0
    planned_week: int = 0
    held_month: int = 0
    planned_month: int = 0
    callbacks_today: int = 0
    complaints_open: int = 0
    complaints_overdue: int = 0
    high_churn: int = 0
    last_sign_in: datetime | None = None
    quota: int = 0  # 0: not held to the quota (managers)

    @property
    def short(self) -> int:
        """Call-backs still owed today against the quota (0: the quota is met)."""
        return max(0, self.quota - self.callbacks_today)


@dataclass
class Team:
    branch_id: int
    today: date
    week_start: date
    month_start: date
    quota: int
    rows: list[TeamRow]

    @property
    def short_count(self) -> int:
        return sum(1 for r in self.rows if r.short)


def periods(today: date) -> tuple[date, date, date, date]:
    """This week (Monday to Sunday) and this month, first and last days."""
    week_start = today - timedelta(days=today.weekday())
    month_start = today.replace(day=1)
    month_end = (month_start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    return week_start, week_start + timedelta(days=6), month_start, month_end


def _param(name: str, type_=sa.Date) -> sa.BindParameter:
    return sa.bindparam(name, type_=type_)


def _members() -> sa.Select:
    """The branch's active staff: the rows of the page (ids feed the other statements)."""
    return sa.select(Staff.id).where(
        Staff.branch_id == _param("branch_id", sa.Integer), Staff.is_active_account.is_(True)
    )


@functools.cache
def _staff_statement() -> sa.Select:
    return (
        sa.select(Staff.id, Staff.display_name, Staff.username, Staff.role)
        .where(Staff.id.in_(_members()))
        .order_by(Staff.display_name, Staff.id)
    )


def _count_if(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
    return sa.func.sum(sa.case((condition, 1), else_=0))


def _member_ids() -> sa.BindParameter:
    """The members' ids as read for the page's rows, given as values: the database's query
    planner then estimates their share of the experiences from its statistics and reads each
    one's range of the owner's index (through the staff table it assumed the whole index)."""
    return sa.bindparam("ids", expanding=True)


@functools.cache
def _agenda_statement() -> sa.Select:
    """Each staff member's planned visits, events and services (routine SMS are the
    scheduler's) due today and overdue: the agenda's."""
    today = _param("today")
    return (
        sa.select(
            Experience.owner_id,
            _count_if(Experience.due_on == today).label("due_today"),
            _count_if(Experience.due_on < today).label("overdue"),
        )
        .where(
            Experience.owner_id.in_(_member_ids()),
            Experience.status == ExperienceStatus.PLANNED,
            Experience.due_on <= today,
            Experience.category != Touchpoint.ROUTINE,
        )
        .group_by(Experience.owner_id)
    )


@functools.cache
def _period_statement() -> sa.Select:
    """Of each staff member's visits, events and services due this week and this month, how
    many were planned (not cancelled) and how many held. The experience's own owner
    (migration 0025) makes each staff member one range of an index, however large their book:
    read through the customers, it was one probe a customer of the branch."""
    held = Experience.status == ExperienceStatus.DONE
    in_week = Experience.due_on.between(_param("week_start"), _param("week_end"))
    in_month = Experience.due_on.between(_param("month_start"), _param("month_end"))
    return (
        sa.select(
            Experience.owner_id,
            _count_if(in_week).label("planned_week"),
            _count_if(sa.and_(in_week, held)).label("held_week"),
            _count_if(in_month).label("planned_month"),
            _count_if(sa.and_(in_month, held)).label("held_month"),
        )
        .where(
            Experience.owner_id.in_(_member_ids()),
            Experience.status.in_(
                [ExperienceStatus.PLANNED, ExperienceStatus.DONE, ExperienceStatus.NO_SHOW]
            ),
            # This week and month together.
            Experience.due_on.between(_param("first"), _param("last")),
            Experience.category != Touchpoint.ROUTINE,
        )
        .group_by(Experience.owner_id)
    )


@functools.cache
def _callbacks_statement() -> sa.Select:
    """Call-backs each staff member recorded today (the quota's progress, ``calls.done_on``)."""
    return (
        sa.select(MaturityCallback.recorded_by_id, sa.func.count())
        .where(
            MaturityCallback.recorded_by_id.in_(_members()),
            MaturityCallback.recorded_on == _param("today"),
        )
        .group_by(MaturityCallback.recorded_by_id)
    )


@functools.cache
def _complaints_statement() -> sa.Select:
    now = _param("now", Complaint.due_at.type)
    return (
        sa.select(
            Customer.owner_id,
            sa.func.count().label("open"),
            _count_if(Complaint.due_at < now).label("overdue"),
        )
        .select_from(Complaint)
        .join(Customer, Customer.id == Complaint.customer_id)
        .where(Customer.owner_id.in_(_members()), Complaint.answered_at.is_(None))
        .group_by(Customer.owner_id)
    )


def high_churn() -> sa.ColumnElement[bool]:
    """High churn risk where the score exists, the lost set aside (the list's ?churn=high)."""
    return sa.and_(
        Customer.churn_level == ChurnLevel.HIGH,
        Customer.relationship_status != RelationshipStatus.LOST,
    )


@functools.cache
def _churn_statement() -> sa.Select:
    return (
        sa.select(Customer.owner_id, sa.func.count())
        .where(Customer.owner_id.in_(_members()), high_churn())
        .group_by(Customer.owner_id)
    )


@functools.cache
def _sign_in_statement() -> sa.Select:
    return (
        sa.select(StaffSession.staff_id, sa.func.max(StaffSession.started_at))
        .where(StaffSession.staff_id.in_(_members()))
        .group_by(StaffSession.staff_id)
    )


def team(branch_id: int, today: date | None = None, now: datetime | None = None) -> Team:
    """The branch's staff and their figures (ordered by name)."""
    today = today or local_today()
    now = now or utcnow()
    week_start, week_end, month_start, month_end = periods(today)
    quota = calls.daily_quota()
    rows = {
        # The quota is relationship staff's; a manager's own calls are counted, not checked.
        r.id: TeamRow(
            r.id, r.display_name, r.username, r.role, quota=quota * (r.role == Role.STAFF)
        )
        for r in reads.rows(_staff_statement(), branch_id=branch_id)
    }
    at = {"branch_id": branch_id}
    ids = list(rows)
    for owner_id, due_today, overdue in reads.rows(_agenda_statement(), today=today, ids=ids):
        rows[owner_id].due_today, rows[owner_id].overdue = int(due_today), int(overdue)
    for r in reads.rows(
        _period_statement(),
        first=min(week_start, month_start),
        last=max(week_end, month_end),
        week_start=week_start,
        week_end=week_end,
        month_start=month_start,
        month_end=month_end,
        ids=ids,
    ):
        row = rows[r.owner_id]
        row.planned_week, row.held_week = int(r.planned_week), int(r.held_week)
        row.planned_month, row.held_month = int(r.planned_month), int(r.held_month)
    for staff_id, done in reads.rows(_callbacks_statement(), today=today, **at):
        rows[staff_id].callbacks_today = int(done)
    for owner_id, still_open, overdue in reads.rows(_complaints_statement(), now=now, **at):
        rows[owner_id].complaints_open = int(still_open)
        rows[owner_id].complaints_overdue = int(overdue)
    for owner_id, count in reads.rows(_churn_statement(), **at):
        rows[owner_id].high_churn = int(count)
    for staff_id, started in reads.rows(_sign_in_statement(), **at):
        rows[staff_id].last_sign_in = started
    return Team(branch_id, today, week_start, month_start, quota, list(rows.values()))


def branch_shown(user: Staff, requested: int | None, branches: list) -> int | None:
    """The branch whose team ``user`` sees: a manager's own; an admin's choice (else the
    first branch)."""
    if user.role == Role.MANAGER:
        return user.branch_id
    ids = [b.id for b in branches]
    return requested if requested in ids else (ids[0] if ids else None)


def member_in_reach(user: Staff, staff_id: int | None) -> Staff | None:
    """The staff member whose lists ``user`` opens from the team page: none given, themselves;
    one of their branch (a manager) or anyone (an admin); else None (the caller 404s)."""
    if staff_id is None or staff_id == user.id:
        return user
    if user.role not in (Role.MANAGER, Role.ADMIN):
        return None
    member = db.session.get(Staff, staff_id)
    if member is None or (user.role == Role.MANAGER and member.branch_id != user.branch_id):
        return None
    return member
