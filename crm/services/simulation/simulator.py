"""The simulator (模拟运营): months of history made by the real services under a moved clock.

``flask crm simulate --months 12 --seed S`` loads the demo bank into an empty database as
it stood ``months`` before today, then lives through every day up to yesterday with the
clock frozen at each moment of the day (``clock.frozen``), calling the same functions the
scheduler, the web pages and the staff call. Nothing here decides a business rule: the
quadrant, the budget, the plan, the SMS rules, the willingness deltas and the targets are
the services' own; the simulator only plays the customers and the staff, by the model
below. The history it leaves (quadrant events with their causes, recorded experiences with
costs, the outbox, call-backs, complaints, referrals, audit rows) has the shape of real use.
It is deterministic per seed: one ``random.Random(seed)`` decides everything, in an order
set by what the rows are, never by their ids (PostgreSQL may number the rows of one
set-based insert differently from one run to the next, as its plans follow statistics), so
one seed gives one history, up to that numbering.

A day, in the business's zone (the scheduler's times where it runs the job):

- 01:00 maturity scan (call-back tasks); 01:30 the rolling planner; 07:30 morning digest;
- 09:00 the day's SMS queued and dispatched (console provider), again at 14:00 for messages
  deferred by the weekly cap; 16:00 visit reminders;
- 10:00–17:00 the staff: record the experiences due (their outcome, response, cost and at
  times a revised asset figure), plan an occasional discretionary one, make call-backs up to
  the daily quota, open and answer complaints, re-assess willingness, revise dossiers, open
  dossiers for referred customers; customers reply "R" to opt out now and then.

Each staff action is committed on its own, as a request would be; one the services refuse
(over a budget, a stale version) is rolled back and the day goes on.

The customer model
------------------

Responses to an experience held, per quadrant and touchpoint category, as probabilities of
(enthusiastic, positive, neutral, negative, no response) — ``RESPONSES``. Willingness then
moves by the app's configured delta for the response (+10, +5, 0, −5, −2 by default):

=========  =====================  ======================  ======================
quadrant   visit                  event                   premium event
=========  =====================  ======================  ======================
develop    .06 .26 .43 .15 .10    .08 .30 .40 .14 .08     —
maintain   .06 .24 .45 .15 .10    .10 .30 .40 .12 .08     .14 .34 .36 .10 .06
cultivate  .06 .26 .43 .15 .10    .10 .30 .38 .14 .08     .18 .37 .30 .10 .05
pamper     .08 .30 .42 .12 .08    —                       .20 .40 .30 .07 .03
=========  =====================  ======================  ======================

Lifestyle services: cultivate .20 .40 .28 .08 .04, pamper .25 .40 .27 .06 .02; bespoke:
pamper .35 .40 .20 .04 .01. A category not listed for a quadrant uses ``DEFAULT_RESPONSE``.
Routine SMS get no response: dispatch closes them as held.

- No-shows (``NO_SHOW``): visit 5%, event 12%, premium event 8%, lifestyle 3%, bespoke 2%.
- An experience due today is recorded today 85% of the time; one overdue, 70% a day after.
- Actual cost: the planned cost × N(1, 0.08), never negative.
- Asset revision with the record: 10% of held experiences, assets × exp(N(0, 0.30)).
- Dossier revision of assets: each customer 1/365 a day, assets × exp(N(0.02, 0.15)).
- Re-assessment: each customer 0.3% a month, willingness ± 5–15, with a reason.
- Discretionary experience planned by the owner: each customer 1% a month, in the
  quadrant's discretionary category, 3–20 days ahead (refused over budget: dropped).
- Complaints: each customer 0.4% a month; each open one is answered on a given day with
  probability 0.28 (about one in ten after the 7-day SLA); 4% end in a non-routine
  surrender, else 85% satisfied.
- Referrals: a customer with willingness ≥ 75 refers a new customer 1.5% a month (channel
  referral, same owner; assets and willingness drawn as the demo draws them).
- Opt-out replies: a customer who can be sent SMS replies "R" 0.1% a month.
- Call-backs: each staff member works through their open tasks, most urgent first, as many a
  day as they manage that day: between 60% and 120% of the quota, never past it (so on a
  busy day after the monthly scan the quota may not be met); intents per product type
  (``INTENTS``): participating .20 new policy, .28 deposit, .12 renew, .18 surrender, .12
  undecided, .10 unreachable; universal life .10 / .12 / .40 / .16 / .12 / .10; other
  policies .15 / .15 / .35 / .10 / .15 / .10.
"""

from __future__ import annotations

import calendar
import math
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask import current_app

from crm.core import revisions
from crm.core.clock import business_zone, frozen, local_today
from crm.core.inputs import InvalidInput
from crm.extensions import db
from crm.models import Complaint, Customer, Experience, MaturityCallback, Policy, Staff
from crm.models.enums import (
    CallbackIntent,
    ExperienceStatus,
    Gender,
    Mark,
    ProductType,
    Quadrant,
    Response,
    Role,
    Touchpoint,
)
from crm.services.customers import dossier, willingness
from crm.services.experiences import recording
from crm.services.followup import calls, complaints
from crm.services.outreach import notifications, outbox, sms_replies
from crm.services.planning import matrix, planner
from crm.services.simulation import demo

RESPONSE_ORDER = (
    Response.ENTHUSIASTIC,
    Response.POSITIVE,
    Response.NEUTRAL,
    Response.NEGATIVE,
    Response.NO_RESPONSE,
)
Q, T = Quadrant, Touchpoint
RESPONSES: dict[tuple[Quadrant, Touchpoint], tuple[float, ...]] = {
    (Q.DEVELOP, T.VISIT): (0.06, 0.26, 0.43, 0.15, 0.10),
    (Q.DEVELOP, T.EVENT): (0.08, 0.30, 0.40, 0.14, 0.08),
    (Q.MAINTAIN, T.VISIT): (0.06, 0.24, 0.45, 0.15, 0.10),
    (Q.MAINTAIN, T.EVENT): (0.10, 0.30, 0.40, 0.12, 0.08),
    (Q.MAINTAIN, T.PREMIUM_EVENT): (0.14, 0.34, 0.36, 0.10, 0.06),
    (Q.CULTIVATE, T.VISIT): (0.06, 0.26, 0.43, 0.15, 0.10),
    (Q.CULTIVATE, T.EVENT): (0.10, 0.30, 0.38, 0.14, 0.08),
    (Q.CULTIVATE, T.PREMIUM_EVENT): (0.18, 0.37, 0.30, 0.10, 0.05),
    (Q.CULTIVATE, T.LIFESTYLE): (0.20, 0.40, 0.28, 0.08, 0.04),
    (Q.PAMPER, T.VISIT): (0.08, 0.30, 0.42, 0.12, 0.08),
    (Q.PAMPER, T.PREMIUM_EVENT): (0.20, 0.40, 0.30, 0.07, 0.03),
    (Q.PAMPER, T.LIFESTYLE): (0.25, 0.40, 0.27, 0.06, 0.02),
    (Q.PAMPER, T.BESPOKE): (0.35, 0.40, 0.20, 0.04, 0.01),
}
DEFAULT_RESPONSE = (0.08, 0.30, 0.40, 0.14, 0.08)
NO_SHOW = {T.VISIT: 0.05, T.EVENT: 0.12, T.PREMIUM_EVENT: 0.08, T.LIFESTYLE: 0.03, T.BESPOKE: 0.02}

I = CallbackIntent  # noqa: E741  (a table's row key, read as "intent")
INTENT_ORDER = (I.NEW_POLICY, I.DEPOSIT, I.RENEW, I.SURRENDER, I.UNDECIDED, I.UNREACHABLE)
INTENTS: dict[ProductType | None, tuple[float, ...]] = {
    ProductType.PARTICIPATING: (0.20, 0.28, 0.12, 0.18, 0.12, 0.10),
    ProductType.UNIVERSAL: (0.10, 0.12, 0.40, 0.16, 0.12, 0.10),
    None: (0.15, 0.15, 0.35, 0.10, 0.15, 0.10),
}

RECORD_ON_DUE_DAY = 0.85
RECORD_OVERDUE = 0.70
COST_SPREAD = 0.08
ASSET_REVISION = 0.10
ASSET_REVISION_SIGMA = 0.30
MONTH = 30.0
DOSSIER_REVISION_A_DAY = 1 / 365
DOSSIER_DRIFT, DOSSIER_SIGMA = 0.02, 0.15
REASSESS_A_MONTH = 0.003
DISCRETIONARY_A_MONTH = 0.01
COMPLAINT_A_MONTH = 0.004
ANSWER_A_DAY = 0.28
SURRENDER = 0.04
SATISFIED = 0.85
REFERRAL_FROM = 75
REFERRAL_A_MONTH = 0.015
OPT_OUT_A_MONTH = 0.001
# A staff member's call-backs a day, as a share of the quota (never past the quota).
CALLBACK_CAPACITY = (0.6, 1.2)

COMPLAINT_POINTS = (
    "理财经理推荐产品时收益说明不清",
    "活动安排临时变更未提前通知",
    "满期给付到账时间比预期晚",
    "短信发送过于频繁",
    "网点排队时间过长",
)
OPINIONS = (
    "已向客户说明产品条款并致歉",
    "已协调加快办理并电话回访",
    "已调整联系频率并记录客户偏好",
)
REASSESS_REASONS = ("电话沟通后重新评估", "近期多次主动联系", "对上次服务有意见")


@dataclass
class SimulationSummary:
    start: date
    end: date  # the last day lived
    customers: int = 0
    days: int = 0
    counts: Counter = field(default_factory=Counter)


class SimulationRefused(RuntimeError):
    """The simulator cannot run on this database or over this period; the message says why."""


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later (or earlier), or the month's last day if it is shorter."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _daily(rate_a_month: float) -> float:
    return rate_a_month / MONTH


def simulate(
    months: int,
    seed: int,
    *,
    customers: int = 1000,
    start: date | None = None,
    today: date | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> SimulationSummary:
    """Load the demo bank into this empty database as of ``start`` (default: ``months``
    before ``today``) and live every day from then until the day before ``start + months``."""
    if months < 1:
        raise SimulationRefused("Simulate at least one month.")
    if not demo.database_is_empty():
        raise SimulationRefused(
            "The database already has data; the simulator starts from an empty one."
        )
    today = today or local_today()
    start = start or add_months(today, -months)
    end = add_months(start, months)
    if end > today:
        raise SimulationRefused(
            f"The simulated period would end on {end.isoformat()}, after today "
            f"({today.isoformat()}); start it earlier."
        )
    world = World(random.Random(seed))
    if db.engine.dialect.name == "sqlite":
        # A simulation commits thousands of small transactions a day; in WAL mode NORMAL
        # keeps the file consistent and skips the flush to disk at each commit (a power cut
        # could lose the last ones: run it again). Only this connection is affected.
        db.session.execute(sa.text("PRAGMA synchronous=NORMAL"))
    with world.at(start, time(0, 30)):
        made = demo.generate(customers=customers, seed=seed, today=start)
        db.session.commit()
    summary = SimulationSummary(start, end - timedelta(days=1), customers=made.customers)
    total = (end - start).days
    try:
        for offset in range(total):
            world.live(start + timedelta(days=offset), summary.counts)
            summary.days += 1
            if progress:
                progress(offset + 1, total)
    finally:
        world.close()
    return summary


class World:
    """The simulated bank: a random source, the clock and the providers."""

    def __init__(self, rng: random.Random):
        from crm.providers.console import ConsoleProvider
        from crm.providers.mail import ConsoleMailer

        self.rng = rng
        self.zone = business_zone()
        # Always the console backends: a simulation never reaches a real phone or inbox.
        self.sms = ConsoleProvider(current_app.config["CRM_SMS_CONSOLE_PATH"])
        self.mail = ConsoleMailer(current_app.config["CRM_MAIL_CONSOLE_PATH"])
        self.phones: set[str] | None = None

    def at(self, day: date, clock: time):
        return frozen(datetime.combine(day, clock, tzinfo=self.zone))

    def close(self) -> None:
        self.sms.close()
        self.mail.close()

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    # --- one day -----------------------------------------------------------------------------

    def live(self, day: date, counts: Counter) -> None:
        with self.at(day, time(1, 0)):
            counts["callback_tasks"] += calls.maturity_scan(day)
            db.session.commit()
        with self.at(day, time(1, 30)):
            counts["planned"] += planner.plan_contacts(planner.horizon(day), today=day).planned
        with self.at(day, time(7, 30)) as now:
            notifications.send_morning_digest(day, now=now)
        with self.at(day, time(9, 0)) as now:
            outbox.enqueue_due(day, now)
            counts["sms_sent"] += outbox.dispatch(now, provider=self.sms, mailer=self.mail).sent
        with self.at(day, time(10, 0)):
            self.record_due_experiences(day, counts)
        with self.at(day, time(11, 0)):
            self.make_callbacks(day, counts)
        with self.at(day, time(13, 0)):
            self.customers_act(day, counts)
        with self.at(day, time(14, 0)) as now:
            counts["sms_sent"] += outbox.dispatch(now, provider=self.sms, mailer=self.mail).sent
        with self.at(day, time(15, 0)):
            self.answer_complaints(day, counts)
        with self.at(day, time(16, 0)) as now:
            notifications.send_visit_reminders(day, now=now)

    def attempt(self, action: Callable[[], Any], counts: Counter, name: str) -> bool:
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

    # --- experiences ---------------------------------------------------------------------------

    def record_due_experiences(self, day: date, counts: Counter) -> None:
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
            chance = RECORD_ON_DUE_DAY if experience.due_on == day else RECORD_OVERDUE
            if not self.chance(chance):
                continue
            customer = experience.customer
            owner = db.session.get(Staff, customer.owner_id)
            data = self.outcome(experience, customer)
            recorded = self.attempt(
                lambda e=experience, c=customer, o=owner, d=data: recording.record_experience(
                    o, e, d, e.version, c.version
                ),
                counts,
                "experiences_recorded",
            )
            if recorded and data["outcome"] == ExperienceStatus.NO_SHOW.value:
                counts["no_shows"] += 1

    def outcome(self, experience: Experience, customer: Customer) -> dict[str, Any]:
        """The customer's side of an experience, drawn from the model."""
        category = experience.category
        data: dict[str, Any] = {"held_on": experience.due_on}
        if self.chance(NO_SHOW.get(category, 0.05)):
            data["outcome"] = ExperienceStatus.NO_SHOW.value
            return data
        weights = RESPONSES.get((customer.quadrant, category), DEFAULT_RESPONSE)
        response = self.rng.choices(RESPONSE_ORDER, weights=weights)[0]
        factor = max(0.0, self.rng.gauss(1.0, COST_SPREAD))
        cost = (experience.planned_cost * Decimal(str(round(factor, 4)))).quantize(Decimal("0.01"))
        data.update(outcome=ExperienceStatus.DONE.value, response=response.value)
        data["actual_cost"] = str(cost)
        if self.chance(ASSET_REVISION):
            data["liquid_assets"] = str(
                self.revised(customer.liquid_assets, 0.0, ASSET_REVISION_SIGMA)
            )
        return data

    def revised(self, assets: Decimal, drift: float, sigma: float) -> Decimal:
        factor = math.exp(self.rng.gauss(drift, sigma))
        return (assets * Decimal(str(round(factor, 4)))).quantize(Decimal("100"))

    # --- call-backs ----------------------------------------------------------------------------

    def make_callbacks(self, day: date, counts: Counter) -> None:
        staff = db.session.scalars(
            sa.select(Staff)
            .where(Staff.role == Role.STAFF, Staff.is_active_account.is_(True))
            .order_by(Staff.id)
        ).all()
        for member in staff:
            listing = calls.day_of_callbacks(member, day)
            low, high = CALLBACK_CAPACITY
            capacity = round(listing.quota * self.rng.uniform(low, high))
            budget = min(listing.remaining_today, capacity)
            # Most urgent first, ties by policy rather than by the scan's numbering.
            ordered = sorted(listing.open, key=lambda c: (c.maturity_date, c.policy_id))
            for callback in ordered:
                if budget <= 0:
                    break
                data = self.call(callback)
                if self.attempt(
                    lambda c=callback, m=member, d=data: calls.record_callback(m, c, d, c.version),
                    counts,
                    "callbacks",
                ):
                    budget -= 1

    def call(self, callback: MaturityCallback) -> dict[str, Any]:
        kind = db.session.scalar(
            sa.select(Policy.product_type).where(Policy.id == callback.policy_id)
        )
        weights = INTENTS.get(kind, INTENTS[None])
        intent = self.rng.choices(INTENT_ORDER, weights=weights)[0]
        return {
            "intent": intent.value,
            "maturity_note": "满期提醒已告知",
            "conversion_note": {
                I.NEW_POLICY: "有意向转投新保单",
                I.DEPOSIT: "计划转为存款",
            }.get(intent, ""),
            "remarks": "",
            "product_id": None,
        }

    # --- what customers and staff do now and then ------------------------------------------------

    def customers_act(self, day: date, counts: Counter) -> None:
        rows = db.session.execute(
            sa.select(
                Customer.id,
                Customer.willingness,
                Customer.sms_consent,
                Customer.sms_opt_out_at.is_(None),
            ).order_by(Customer.id)
        ).all()
        discretionary = {
            quadrant: category
            for (quadrant, category), rule in matrix.rules().items()
            if rule.mark == Mark.DISCRETIONARY
        }
        for customer_id, score, consent, not_opted_out in rows:
            # One draw per kind of event per customer per day, always in this order, so a
            # seed gives one history.
            draws = [self.rng.random() for _ in range(6)]
            if draws[0] < DOSSIER_REVISION_A_DAY:
                self.revise_dossier(customer_id, counts)
            if draws[1] < _daily(REASSESS_A_MONTH):
                self.reassess(customer_id, counts)
            if draws[2] < _daily(DISCRETIONARY_A_MONTH):
                self.plan_discretionary(customer_id, day, discretionary, counts)
            if draws[3] < _daily(COMPLAINT_A_MONTH):
                self.complain(customer_id, counts)
            if score >= REFERRAL_FROM and draws[4] < _daily(REFERRAL_A_MONTH):
                self.refer(customer_id, day, counts)
            if consent and not_opted_out and draws[5] < _daily(OPT_OUT_A_MONTH):
                self.opt_out(customer_id, counts)

    def _customer_and_owner(self, customer_id: int) -> tuple[Customer, Staff]:
        customer = db.session.get(Customer, customer_id)
        return customer, db.session.get(Staff, customer.owner_id)

    def revise_dossier(self, customer_id: int, counts: Counter) -> None:
        customer, owner = self._customer_and_owner(customer_id)
        data = dossier.form_values(customer)
        data["liquid_assets"] = self.revised(customer.liquid_assets, DOSSIER_DRIFT, DOSSIER_SIGMA)
        data["assets_as_of"] = local_today()
        version = customer.version
        self.attempt(
            lambda: dossier.update_customer(owner, customer, data, version),
            counts,
            "dossier_revisions",
        )

    def reassess(self, customer_id: int, counts: Counter) -> None:
        customer, owner = self._customer_and_owner(customer_id)
        step = self.rng.randint(5, 15) * self.rng.choice((-1, 1))
        score = max(0, min(100, customer.willingness + step))
        reason = self.rng.choice(REASSESS_REASONS)
        version = customer.version
        self.attempt(
            lambda: willingness.reassess_willingness(owner, customer, score, reason, version),
            counts,
            "reassessments",
        )

    def plan_discretionary(
        self, customer_id: int, day: date, discretionary: dict, counts: Counter
    ) -> None:
        customer, owner = self._customer_and_owner(customer_id)
        category = discretionary.get(customer.quadrant)
        if category is None:
            return
        data = {
            "category": category.value,
            "due_on": day + timedelta(days=self.rng.randint(3, 20)),
            "planned_cost": "",
        }
        self.attempt(
            lambda: recording.add_experience(owner, customer, data),
            counts,
            "discretionary_planned",
        )

    def complain(self, customer_id: int, counts: Counter) -> None:
        customer, owner = self._customer_and_owner(customer_id)
        point = self.rng.choice(COMPLAINT_POINTS)
        self.attempt(
            lambda: complaints.open_complaint(owner, customer, {"point": point}),
            counts,
            "complaints_opened",
        )

    def answer_complaints(self, day: date, counts: Counter) -> None:
        waiting = db.session.scalars(
            sa.select(Complaint).where(Complaint.answered_at.is_(None)).order_by(Complaint.id)
        ).all()
        for complaint in waiting:
            if not self.chance(ANSWER_A_DAY):
                continue
            owner = db.session.get(Staff, complaint.customer.owner_id)
            surrender = self.chance(SURRENDER)
            data = {
                "handling_opinion": self.rng.choice(OPINIONS),
                "non_routine_surrender": surrender,
                "satisfied": (not surrender) and self.chance(SATISFIED),
            }
            self.attempt(
                lambda c=complaint, o=owner, d=data: complaints.answer_complaint(
                    o, c, d, c.version
                ),
                counts,
                "complaints_answered",
            )

    def refer(self, referrer_id: int, day: date, counts: Counter) -> None:
        referrer, owner = self._customer_and_owner(referrer_id)
        rng = self.rng
        birth = demo._birth_date(rng, day)
        age = (day - birth).days // 365
        assets = Decimal(int(rng.lognormvariate(12.9, 1.1)) // 100 * 100)
        data = {
            "name": rng.choice(demo.SURNAMES)
            + "".join(rng.choices(demo.GIVEN, k=rng.choice((1, 2)))),
            "gender": rng.choice((Gender.FEMALE, Gender.MALE)).value,
            "birth_date": birth,
            "phone": self.new_phone(),
            "liquid_assets": assets,
            "assets_as_of": day,
            "willingness": max(0, min(100, int(rng.triangular(20, 80, 50)))),
            "risk_level": demo._risk_for_age(rng, age).value,
            "channel": "referral",
            "referred_by_id": referrer.id,
            "owner_id": owner.id,
            "branch_id": owner.branch_id,
            "sms_consent": rng.random() < 0.7,
            "tags": "",
        }
        self.attempt(lambda: dossier.create_customer(owner, data), counts, "referrals")

    def new_phone(self) -> str:
        if self.phones is None:
            self.phones = set(db.session.scalars(sa.select(Customer.phone)))
        while True:
            prefix = self.rng.choice(demo.MOBILE_PREFIXES)
            phone = f"+86{prefix}{self.rng.randrange(10**8):08d}"
            if phone not in self.phones:
                self.phones.add(phone)
                return phone

    def opt_out(self, customer_id: int, counts: Counter) -> None:
        phone = db.session.scalar(sa.select(Customer.phone).where(Customer.id == customer_id))
        self.attempt(lambda: sms_replies.record_reply(phone, "R"), counts, "opt_outs")
