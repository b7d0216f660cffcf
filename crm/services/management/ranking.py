"""The monthly ranking (荣誉体系, seed 003): each staff member of a branch by what they did in
a month, the top three of the chosen column marked.

Seed 003 builds its honour system on monthly figures ("月度为方案"): call-backs made, what they
converted, experiences held, complaints ended satisfied, and, where sales are worked as
opportunities (商机), the premium won. Each figure is credited to whoever did the work: the
staff member who recorded the call-back, held the experience, answered the complaint or owns
the won opportunity.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import sqlalchemy as sa

from crm.extensions import db
from crm.models import Complaint, Experience, MaturityCallback, Opportunity, Staff
from crm.models.enums import CallbackIntent, ExperienceStatus, Role, SalesStage
from crm.services.followup import targets
from crm.services.management.period import Month, after_day, day_begins, this_month

# What the ranking may be ordered by; the first is the default (seed 003's daily measure).
COLUMNS = ("callbacks", "conversions", "experiences", "satisfaction", "premium")
TOP = 3
CONVERTED = (CallbackIntent.NEW_POLICY, CallbackIntent.DEPOSIT)


@dataclass
class Standing:
    """One staff member's month."""

    staff_id: int
    name: str
    callbacks: int = 0
    conversions: int = 0
    experiences: int = 0
    complaints_answered: int = 0
    complaints_satisfied: int = 0
    premium: Decimal = Decimal("0.00")
    place: int | None = None  # 1, 2 or 3 when among the top three of the chosen column

    @property
    def satisfaction(self) -> Decimal | None:
        return targets.ratio(self.complaints_satisfied, self.complaints_answered)


@dataclass
class Ranking:
    branch_id: int
    month: Month
    by: str
    standings: list[Standing] = field(default_factory=list)


def ranking(branch_id: int, month: Month, by: str = COLUMNS[0], *, zone) -> Ranking:
    """Every active relationship manager of the branch (its managers lead, they are not
    ranked) for ``month``, best first by ``by``."""
    staff = db.session.execute(
        sa.select(Staff.id, Staff.display_name)
        .where(
            Staff.branch_id == branch_id,
            Staff.role == Role.STAFF,
            Staff.is_active_account.is_(True),
        )
        .order_by(Staff.display_name)
    ).all()
    rows = {sid: Standing(sid, name) for sid, name in staff}
    ids = list(rows)
    if ids:
        _callbacks(rows, ids, month)
        _experiences(rows, ids, month)
        _complaints(rows, ids, month, zone)
        _premium(rows, ids, month)
    standings = sorted(rows.values(), key=lambda s: (-_value(s, by), s.name))
    mark_top(standings, by)
    return Ranking(branch_id, month, by, standings)


def _value(standing: Standing, by: str):
    value = getattr(standing, by)
    return -1 if value is None else value


def mark_top(standings: list[Standing], by: str) -> None:
    """Places 1–3 for the best of ``by`` (equal figures share a place; nothing done, no
    place)."""
    for s in standings:
        value = getattr(s, by)
        if not value:
            continue
        better = sum(1 for other in standings if _value(other, by) > value)
        if better < TOP:
            s.place = better + 1


def _count_if(*conditions):
    return sa.func.sum(sa.case((sa.and_(*conditions), 1), else_=0))


def _callbacks(rows: dict[int, Standing], ids: list[int], month: Month) -> None:
    made = db.session.execute(
        sa.select(
            MaturityCallback.recorded_by_id,
            sa.func.count(),
            _count_if(MaturityCallback.intent.in_(CONVERTED)),
        )
        .where(
            MaturityCallback.recorded_by_id.in_(ids),
            MaturityCallback.recorded_on.between(month.first, month.last),
        )
        .group_by(MaturityCallback.recorded_by_id)
    )
    for sid, count, converted in made:
        rows[sid].callbacks, rows[sid].conversions = count, converted or 0


def _experiences(rows: dict[int, Standing], ids: list[int], month: Month) -> None:
    held = db.session.execute(
        sa.select(Experience.recorded_by_id, sa.func.count())
        .where(
            Experience.recorded_by_id.in_(ids),
            Experience.status == ExperienceStatus.DONE,
            Experience.held_on.between(month.first, month.last),
        )
        .group_by(Experience.recorded_by_id)
    )
    for sid, count in held:
        rows[sid].experiences = count


def _complaints(rows: dict[int, Standing], ids: list[int], month: Month, zone) -> None:
    satisfied = sa.and_(
        Complaint.satisfied.is_(True),
        sa.func.coalesce(Complaint.non_routine_surrender, False).is_(False),
    )
    answered = db.session.execute(
        sa.select(Complaint.answered_by_id, sa.func.count(), _count_if(satisfied))
        .where(
            Complaint.answered_by_id.in_(ids),
            Complaint.answered_at >= day_begins(month.first, zone),
            Complaint.answered_at < after_day(month.last, zone),
        )
        .group_by(Complaint.answered_by_id)
    )
    for sid, count, happy in answered:
        rows[sid].complaints_answered, rows[sid].complaints_satisfied = count, happy or 0


def _premium(rows: dict[int, Standing], ids: list[int], month: Month) -> None:
    """The expected premium of opportunities won (成交) in the month, by their owner."""
    money = Opportunity.expected_premium.type
    won = db.session.execute(
        sa.select(
            Opportunity.owner_id,
            sa.type_coerce(sa.func.sum(Opportunity.expected_premium), money),
        )
        .where(
            Opportunity.owner_id.in_(ids),
            Opportunity.stage == SalesStage.WON,
            Opportunity.closed_on.between(month.first, month.last),
        )
        .group_by(Opportunity.owner_id)
    )
    for sid, amount in won:
        rows[sid].premium = amount or Decimal("0.00")


def month_of(day: date) -> Month:
    """The whole calendar month ``day`` falls in."""
    return Month(*this_month(day))
