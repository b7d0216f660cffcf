"""Attrition (客户流失) in the simulated bank: customers leave, so a simulated year has churn to
warn about.

Each customer who is not lost leaves on a given day with the hazard

    h = BASE × exp(SILENCE × min(days without a liked experience, 365)
                   + NEGATIVE × negative responses in 180 days
                   + COMPLAINT × complaints past their answer date, unanswered
                   + MATURED × policies matured in 90 days with no call-back recorded
                   − LIKED × experiences liked in 90 days)

(the constants are in ``model``: a customer with nothing wrong and a liked experience lately
leaves about 7% a year, one silent for half a year at about 27% a year, one silent a year
and more at about 70%: a harsh bank, so that a simulated year has churn enough to measure).
Days without a liked experience count from the dossier's opening when there was none. A
customer who leaves is marked lost by their owner through ``crm.services.retention.status``,
the same service the dossier's form calls, with a reason drawn from ``model.LOST_REASONS``;
the history then has lost customers, with a date, on the days the model chose. The draws
come from a random source of their own, derived from the world's without drawing from it,
so the rest of a seeded history is unchanged until someone leaves.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa

from crm.core.clock import business_zone
from crm.extensions import db
from crm.models import Complaint, Customer, Experience, MaturityCallback, Policy, Staff
from crm.models.enums import ExperienceStatus, RelationshipStatus, Response
from crm.services.retention import status
from crm.services.simulation import model
from crm.services.simulation.behaviour import attempt
from crm.services.simulation.world import World

LIKED = (Response.ENTHUSIASTIC, Response.POSITIVE)


def _rng(world: World) -> random.Random:
    """The attrition's own random source, seeded from the world's state without a draw."""
    if getattr(world, "attrition_rng", None) is None:
        world.attrition_rng = random.Random(repr(world.rng.getstate()[1][:8]))
    return world.attrition_rng


def exposure(day: date) -> sa.Select:
    """Each customer not lost with what the hazard reads, as of ``day``."""
    end = datetime.combine(day + timedelta(days=1), time(), business_zone())
    liked = sa.and_(Experience.status == ExperienceStatus.DONE, Experience.response.in_(LIKED))
    held = (
        sa.select(
            Experience.customer_id,
            sa.func.max(sa.case((liked, Experience.held_on))).label("last_liked"),
            sa.func.sum(
                sa.case((sa.and_(liked, Experience.held_on > day - timedelta(days=90)), 1), else_=0)
            ).label("liked"),
            sa.func.sum(
                sa.case(
                    (
                        sa.and_(
                            Experience.response == Response.NEGATIVE,
                            Experience.held_on > day - timedelta(days=180),
                        ),
                        1,
                    ),
                    else_=0,
                )
            ).label("negative"),
        )
        .where(Experience.held_on <= day)
        .group_by(Experience.customer_id)
        .subquery()
    )
    complaints = (
        sa.select(Complaint.customer_id, sa.func.count().label("overdue"))
        .where(Complaint.answered_at.is_(None), Complaint.due_at < end)
        .group_by(Complaint.customer_id)
        .subquery()
    )
    called = (
        sa.select(MaturityCallback.id)
        .where(MaturityCallback.policy_id == Policy.id, MaturityCallback.recorded_at.is_not(None))
        .exists()
    )
    matured = (
        sa.select(Policy.customer_id, sa.func.count().label("matured"))
        .where(
            Policy.maturity_date > day - timedelta(days=90),
            Policy.maturity_date <= day,
            ~called,
        )
        .group_by(Policy.customer_id)
        .subquery()
    )
    return (
        sa.select(
            Customer.id,
            Customer.created_at,
            held.c.last_liked,
            sa.func.coalesce(held.c.liked, 0),
            sa.func.coalesce(held.c.negative, 0),
            sa.func.coalesce(complaints.c.overdue, 0),
            sa.func.coalesce(matured.c.matured, 0),
        )
        .outerjoin(held, held.c.customer_id == Customer.id)
        .outerjoin(complaints, complaints.c.customer_id == Customer.id)
        .outerjoin(matured, matured.c.customer_id == Customer.id)
        .where(Customer.relationship_status != RelationshipStatus.LOST)
        .order_by(Customer.id)
    )


def hazard(silence: int, liked: int, negative: int, overdue: int, matured: int) -> float:
    """The chance that a customer leaves on one day (the model above)."""
    x = (
        model.ATTRITION_SILENCE * min(silence, 365)
        + model.ATTRITION_NEGATIVE * negative
        + model.ATTRITION_COMPLAINT * overdue
        + model.ATTRITION_MATURED * matured
        - model.ATTRITION_LIKED * liked
    )
    return min(1.0, model.ATTRITION_BASE * math.exp(x))


def customers_leave(world: World, day: date, counts: Counter) -> None:
    """The customers who leave today, marked lost by their owners."""
    rng = _rng(world)
    leaving = []
    for customer_id, opened, last_liked, liked, negative, overdue, matured in db.session.execute(
        exposure(day)
    ).all():
        since = last_liked or opened.astimezone(business_zone()).date()
        silence = max(0, (day - since).days)
        if rng.random() < hazard(silence, liked, negative, overdue, matured):
            leaving.append(customer_id)
    for customer_id in leaving:
        customer = db.session.get(Customer, customer_id)
        owner = db.session.get(Staff, customer.owner_id)
        reasons, weights = zip(*model.LOST_REASONS, strict=True)
        data = {
            "relationship_status": RelationshipStatus.LOST.value,
            "lost_reason": rng.choices(reasons, weights)[0].value,
            "lost_on": day,
        }
        version = customer.version
        attempt(
            lambda c=customer, o=owner, d=data, v=version: status.set_relationship_status(
                o, c, d, v, today=day
            ),
            counts,
            "customers_lost",
        )
