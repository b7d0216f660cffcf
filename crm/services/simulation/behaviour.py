"""What the simulated staff and customers do in a day, by the customer model (``model``).

Each staff action goes through the service a page or the API would call, and is committed
on its own, as a request would be; one the services refuse (over a budget, a stale version)
is rolled back and the day goes on. Nothing here decides a business rule.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from crm.core import revisions
from crm.core.clock import local_today
from crm.core.inputs import InvalidInput
from crm.extensions import db
from crm.models import Complaint, Customer, Experience, MaturityCallback, Policy, Staff
from crm.models.enums import (
    CallbackIntent,
    ExperienceStatus,
    Gender,
    Mark,
    RelationshipStatus,
    Role,
    Touchpoint,
)
from crm.services.customers import dossier, willingness
from crm.services.experiences import plans, recording
from crm.services.followup import calls, complaints
from crm.services.outreach import inbox, sms_replies
from crm.services.planning import matrix
from crm.services.simulation import model, people, truth
from crm.services.simulation.world import World


def attempt(action: Callable[[], Any], counts: Counter, name: str) -> bool:
    """One staff action, committed on its own; refused ones are rolled back and counted."""
    try:
        action()
    except InvalidInput:
        db.session.rollback()
        counts[f"{name}_refused"] += 1
        return False
    except revisions.StaleDossier:
        db.session.rollback()
        counts[f"{name}_stale"] += 1
        return False
    db.session.commit()
    counts[name] += 1
    return True


def revised_assets(world: World, assets: Decimal, drift: float, sigma: float) -> Decimal:
    """``assets`` after a log-normal move, in whole hundreds of yuan."""
    factor = math.exp(world.rng.gauss(drift, sigma))
    return (assets * Decimal(str(round(factor, 4)))).quantize(Decimal("100"))


# --- experiences -------------------------------------------------------------------------------


def record_due_experiences(world: World, day: date, counts: Counter) -> None:
    """The owners record the experiences due by ``day``, most on the day, some later."""
    due = db.session.scalars(
        sa.select(Experience.id)
        .where(
            Experience.status == ExperienceStatus.PLANNED,
            Experience.category != Touchpoint.ROUTINE,
            Experience.group_event_id.is_(None),
            Experience.due_on <= day,
        )
        # By what they are, not by id: set-based inserts (the planner's) number rows in
        # whatever order the database's plan produces, and the draws must not follow it.
        .order_by(
            Experience.due_on,
            Experience.customer_id,
            Experience.category,
            Experience.origin,
            Experience.id,
        )
    ).all()
    for experience_id in due:
        experience = db.session.get(Experience, experience_id)
        chance = model.RECORD_ON_DUE_DAY if experience.due_on == day else model.RECORD_OVERDUE
        if not world.chance(chance):
            continue
        customer = experience.customer
        owner = db.session.get(Staff, customer.owner_id)
        data = outcome(world, experience, customer)
        added = _true_effect(world, customer, experience, data)
        recorded = attempt(
            lambda e=experience, c=customer, o=owner, d=data: recording.record_experience(
                o, e, d, e.version, c.version
            ),
            counts,
            "experiences_recorded",
        )
        if recorded and data["outcome"] == ExperienceStatus.NO_SHOW.value:
            counts["no_shows"] += 1
        if recorded and added is not None:
            world.ledger.add(truth.Applied(customer.id, experience.category, day, added))


def _true_effect(
    world: World, customer: Customer, experience: Experience, data: dict[str, Any]
) -> int | None:
    """Where the effects file names the cell, the willingness it gives is recorded with an
    experience held (``truth``); the points added, or None where the model decides."""
    if world.effects is None:
        return None
    effect = world.effects.of(customer.quadrant, experience.category)
    if effect is None:
        return None
    if data["outcome"] != ExperienceStatus.DONE.value:
        # Not attended: the truth gives nothing (not the delta of "no response").
        data["willingness"] = customer.willingness
        return None
    score = truth.willingness_after(world.rng, customer.willingness, effect)
    data["willingness"] = score
    return score - customer.willingness


def outcome(world: World, experience: Experience, customer: Customer) -> dict[str, Any]:
    """The customer's side of an experience, drawn from the model."""
    rng = world.rng
    category = experience.category
    data: dict[str, Any] = {"held_on": experience.due_on}
    if world.chance(model.NO_SHOW.get(category, 0.05)):
        data["outcome"] = ExperienceStatus.NO_SHOW.value
        return data
    weights = model.RESPONSES.get((customer.quadrant, category), model.DEFAULT_RESPONSE)
    response = rng.choices(model.RESPONSE_ORDER, weights=weights)[0]
    factor = max(0.0, rng.gauss(1.0, model.COST_SPREAD))
    cost = (experience.planned_cost * Decimal(str(round(factor, 4)))).quantize(Decimal("0.01"))
    data.update(outcome=ExperienceStatus.DONE.value, response=response.value)
    data["actual_cost"] = str(cost)
    if world.chance(model.ASSET_REVISION):
        # As a person types it: "123500", never the exponent form str() gives hundreds.
        data["liquid_assets"] = format(
            revised_assets(world, customer.liquid_assets, 0.0, model.ASSET_REVISION_SIGMA), "f"
        )
    return data


# --- call-backs --------------------------------------------------------------------------------


def make_callbacks(world: World, day: date, counts: Counter) -> None:
    """Each relationship manager works through their call-backs, as many as they manage."""
    staff = db.session.scalars(
        sa.select(Staff)
        .where(Staff.role == Role.STAFF, Staff.is_active_account.is_(True))
        .order_by(Staff.id)
    ).all()
    for member in staff:
        listing = calls.day_of_callbacks(member, day)
        low, high = model.CALLBACK_CAPACITY
        capacity = round(listing.quota * world.rng.uniform(low, high))
        budget = min(listing.remaining_today, capacity)
        # Most urgent first, ties by policy rather than by the scan's numbering.
        ordered = sorted(listing.open, key=lambda c: (c.maturity_date, c.policy_id))
        for callback in ordered:
            if budget <= 0:
                break
            data = call(world, callback)
            if attempt(
                lambda c=callback, m=member, d=data: calls.record_callback(m, c, d, c.version),
                counts,
                "callbacks",
            ):
                budget -= 1


def call(world: World, callback: MaturityCallback) -> dict[str, Any]:
    """What the customer says on a maturity call-back, by the policy's product type."""
    kind = db.session.scalar(sa.select(Policy.product_type).where(Policy.id == callback.policy_id))
    weights = model.INTENTS.get(kind, model.INTENTS[None])
    intent = world.rng.choices(model.INTENT_ORDER, weights=weights)[0]
    return {
        "intent": intent.value,
        "maturity_note": "满期提醒已告知",
        "conversion_note": {
            CallbackIntent.NEW_POLICY: "有意向转投新保单",
            CallbackIntent.DEPOSIT: "计划转为存款",
        }.get(intent, ""),
        "remarks": "",
        "product_id": None,
    }


# --- what customers and staff do now and then --------------------------------------------------


def customers_act(world: World, day: date, counts: Counter) -> None:
    """Each customer's rare events of the day: revisions, complaints, referrals, opt-outs."""
    rows = db.session.execute(
        sa.select(
            Customer.id,
            Customer.willingness,
            Customer.sms_consent,
            Customer.sms_opt_out_at.is_(None),
        )
        # A customer who left does nothing more.
        .where(Customer.relationship_status != RelationshipStatus.LOST)
        .order_by(Customer.id)
    ).all()
    discretionary = {
        quadrant: category
        for (quadrant, category), rule in matrix.rules().items()
        if rule.mark == Mark.DISCRETIONARY
    }
    daily = model.daily
    for customer_id, score, consent, not_opted_out in rows:
        # One draw per kind of event per customer per day, always in this order, so a
        # seed gives one history.
        draws = [world.rng.random() for _ in range(6)]
        if draws[0] < model.DOSSIER_REVISION_A_DAY:
            revise_dossier(world, customer_id, counts)
        if draws[1] < daily(model.REASSESS_A_MONTH):
            reassess(world, customer_id, counts)
        if draws[2] < daily(model.DISCRETIONARY_A_MONTH):
            plan_discretionary(world, customer_id, day, discretionary, counts)
        if draws[3] < daily(model.COMPLAINT_A_MONTH):
            complain(world, customer_id, counts)
        if score >= model.REFERRAL_FROM and draws[4] < daily(model.REFERRAL_A_MONTH):
            refer(world, customer_id, day, counts)
        if consent and not_opted_out and draws[5] < daily(model.OPT_OUT_A_MONTH):
            opt_out(customer_id, counts)


def _customer_and_owner(customer_id: int) -> tuple[Customer, Staff]:
    customer = db.session.get(Customer, customer_id)
    return customer, db.session.get(Staff, customer.owner_id)


def revise_dossier(world: World, customer_id: int, counts: Counter) -> None:
    """The owner revises the customer's assets (档案修正)."""
    customer, owner = _customer_and_owner(customer_id)
    data = dossier.form_values(customer)
    data["liquid_assets"] = revised_assets(
        world, customer.liquid_assets, model.DOSSIER_DRIFT, model.DOSSIER_SIGMA
    )
    data["assets_as_of"] = local_today()
    version = customer.version
    attempt(
        lambda: dossier.update_customer(owner, customer, data, version),
        counts,
        "dossier_revisions",
    )


def reassess(world: World, customer_id: int, counts: Counter) -> None:
    """The owner re-assesses the customer's willingness, up or down, with a reason."""
    customer, owner = _customer_and_owner(customer_id)
    step = world.rng.randint(5, 15) * world.rng.choice((-1, 1))
    score = willingness.within_range(customer.willingness + step)
    reason = world.rng.choice(model.REASSESS_REASONS)
    version = customer.version
    attempt(
        lambda: willingness.reassess_willingness(owner, customer, score, reason, version),
        counts,
        "reassessments",
    )


def plan_discretionary(
    world: World, customer_id: int, day: date, discretionary: dict, counts: Counter
) -> None:
    """The owner plans an experience of the quadrant's discretionary category."""
    customer, owner = _customer_and_owner(customer_id)
    category = discretionary.get(customer.quadrant)
    if category is None:
        return
    data = {
        "category": category.value,
        "due_on": day + timedelta(days=world.rng.randint(3, 20)),
        "planned_cost": "",
    }
    attempt(
        lambda: plans.add_experience(owner, customer, data),
        counts,
        "discretionary_planned",
    )


def complain(world: World, customer_id: int, counts: Counter) -> None:
    """The customer complains; the owner opens the complaint."""
    customer, owner = _customer_and_owner(customer_id)
    point = world.rng.choice(model.COMPLAINT_POINTS)
    attempt(
        lambda: complaints.open_complaint(owner, customer, {"point": point}),
        counts,
        "complaints_opened",
    )


def answer_complaints(world: World, day: date, counts: Counter) -> None:
    """The owners answer some of the open complaints."""
    waiting = db.session.scalars(
        sa.select(Complaint).where(Complaint.answered_at.is_(None)).order_by(Complaint.id)
    ).all()
    for complaint in waiting:
        if not world.chance(model.ANSWER_A_DAY):
            continue
        owner = db.session.get(Staff, complaint.customer.owner_id)
        surrender = world.chance(model.SURRENDER)
        data = {
            "handling_opinion": world.rng.choice(model.OPINIONS),
            "non_routine_surrender": surrender,
            "satisfied": (not surrender) and world.chance(model.SATISFIED),
        }
        attempt(
            lambda c=complaint, o=owner, d=data: complaints.answer_complaint(o, c, d, c.version),
            counts,
            "complaints_answered",
        )


def refer(world: World, referrer_id: int, day: date, counts: Counter) -> None:
    """The customer refers a friend; the owner opens their dossier."""
    referrer, owner = _customer_and_owner(referrer_id)
    rng = world.rng
    birth = people.birth_date(rng, day)
    age = (day - birth).days // 365
    assets = people.liquid_assets(rng)
    data = {
        "name": people.full_name(rng),
        "gender": rng.choice((Gender.FEMALE, Gender.MALE)).value,
        "birth_date": birth,
        "phone": world.new_phone(),
        "liquid_assets": assets,
        "assets_as_of": day,
        "willingness": willingness.within_range(int(rng.triangular(20, 80, 50))),
        "risk_level": people.risk_for_age(rng, age).value,
        "channel": "referral",
        "referred_by_id": referrer.id,
        "owner_id": owner.id,
        "branch_id": owner.branch_id,
        "sms_consent": rng.random() < 0.7,
        "tags": "",
    }
    attempt(lambda: dossier.create_customer(owner, data), counts, "referrals")


def opt_out(customer_id: int, counts: Counter) -> None:
    """The customer replies "R" to stop marketing SMS."""
    phone = db.session.scalar(sa.select(Customer.phone).where(Customer.id == customer_id))
    attempt(lambda: sms_replies.record_reply(phone, "R"), counts, "opt_outs")


def read_notifications(now) -> None:
    """The staff read their notifications before they leave: a history lived without it
    would greet everyone with months of reminders still unread."""
    for member in db.session.scalars(sa.select(Staff).where(Staff.is_active_account.is_(True))):
        inbox.mark_read(member, now=now)
    db.session.commit()
