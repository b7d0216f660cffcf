"""Pseudonymised frames from the CRM's database.

No frame holds a customer's name, phone, e-mail, birth date or any free text (notes,
complaint points, call-back remarks): customers appear only as ``customer``, a stable hashed
id (HMAC-SHA256 of the customer's id under the app's ``SECRET_KEY``, 16 hex digits), the same
in every frame and every run with the same key, and useless without it. Staff and branches
appear by display name: they are the people and places a manager splits results by.

Times are aware, in the business's zone (``CRM_TIMEZONE``); days are ``datetime64`` dates;
money is yuan as ``float`` (reporting figures; the exact amounts stay in the database).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import date
from functools import cached_property

import numpy as np
import pandas as pd
import sqlalchemy as sa
from flask import Flask
from sqlalchemy.orm import aliased

from analytics.quadrants import CAUSE_TYPE, QUADRANT_TYPE
from crm.models import (
    Branch,
    Complaint,
    Customer,
    Experience,
    MaturityCallback,
    Policy,
    QuadrantEvent,
    Staff,
)
from crm.models.enums import (
    CallbackIntent,
    Channel,
    ExperienceStatus,
    PlanOrigin,
    ProductType,
    Response,
    Touchpoint,
)

PSEUDONYM_LENGTH = 16


def _categories(enum) -> pd.CategoricalDtype:
    return pd.CategoricalDtype([m.value for m in enum])


CATEGORY_TYPE = _categories(Touchpoint)
STATUS_TYPE = _categories(ExperienceStatus)
RESPONSE_TYPE = _categories(Response)
ORIGIN_TYPE = _categories(PlanOrigin)
CHANNEL_TYPE = _categories(Channel)
INTENT_TYPE = _categories(CallbackIntent)
PRODUCT_TYPE = _categories(ProductType)


@dataclass
class Source:
    """The app's database and the settings analytics reads from its configuration."""

    app: Flask
    engine: sa.Engine

    @property
    def zone(self) -> str:
        return self.app.config["BABEL_DEFAULT_TIMEZONE"]

    @cached_property
    def _key(self) -> bytes:
        return str(self.app.config["SECRET_KEY"]).encode()

    def pseudonym(self, customer_id: int | None) -> str | None:
        """The stable hashed id of one customer."""
        if customer_id is None:
            return None
        digest = hmac.new(self._key, f"customer:{int(customer_id)}".encode(), hashlib.sha256)
        return digest.hexdigest()[:PSEUDONYM_LENGTH]

    def today(self) -> date:
        """Today in the business's zone."""
        return pd.Timestamp.now(tz=self.zone).date()

    def cost_limits(self) -> dict[str, float]:
        """Per-customer 12-month budget per quadrant, as the app has it (``matrix``)."""
        from crm.services.planning import matrix

        with self.app.app_context():
            return {q.value: float(amount) for q, amount in matrix.cost_limits().items()}

    @property
    def targets(self) -> dict[str, float]:
        """Seed 003's follow-up targets in percent."""
        return {k: float(v) for k, v in self.app.config["CRM_FOLLOWUP_TARGETS"].items()}

    @property
    def callback_quota(self) -> int:
        return int(self.app.config["CRM_CALLBACK_DAILY_QUOTA"])

    @property
    def complaint_sla_days(self) -> int:
        return int(self.app.config["CRM_COMPLAINT_SLA_DAYS"])


def connect(database_url: str | None = None) -> Source:
    """The app's database (``CRM_DATABASE_URL``, else its default), or the one at
    ``database_url``; the secret key and settings come from the app's configuration."""
    from crm import create_app
    from crm.extensions import db

    overrides = {"SQLALCHEMY_DATABASE_URI": database_url} if database_url else None
    app = create_app(overrides=overrides)
    with app.app_context():
        engine = db.engine
    return Source(app, engine)


def _rows(source: Source, statement: sa.Select) -> list[sa.Row]:
    with source.engine.connect() as conn:
        return conn.execute(statement).all()


def _times(values, zone: str) -> pd.Series:
    return pd.to_datetime(pd.Series(values, dtype=object), utc=True).dt.tz_convert(zone)


def _days(values) -> pd.Series:
    return pd.to_datetime(pd.Series(values, dtype=object)).astype("datetime64[s]")


def _money(values) -> pd.Series:
    return pd.Series([None if v is None else float(v) for v in values], dtype="float64")


def _pseudonyms(source: Source, ids) -> pd.Series:
    cache: dict[int, str] = {}

    def one(customer_id):
        if customer_id is None or pd.isna(customer_id):
            return None
        if customer_id not in cache:
            cache[customer_id] = source.pseudonym(customer_id)
        return cache[customer_id]

    return pd.Series([one(i) for i in ids], dtype=object)


# --- the frames -----------------------------------------------------------------------------


def customers(source: Source) -> pd.DataFrame:
    """One row per customer: customer, quadrant, willingness, liquid_assets, channel,
    owner, branch, risk_level, referred_by (a pseudonym), sms (may be sent SMS), opened."""
    owner = aliased(Staff)
    rows = _rows(
        source,
        sa.select(
            Customer.id,
            Customer.quadrant,
            Customer.willingness,
            Customer.liquid_assets,
            Customer.channel,
            owner.display_name,
            Branch.name,
            Customer.risk_level,
            Customer.referred_by_id,
            sa.and_(Customer.sms_consent.is_(True), Customer.sms_opt_out_at.is_(None)),
            Customer.created_at,
        )
        .join(owner, owner.id == Customer.owner_id)
        .join(Branch, Branch.id == Customer.branch_id)
        .order_by(Customer.id),
    )
    columns = list(zip(*rows, strict=True)) if rows else [()] * 11
    return pd.DataFrame(
        {
            "customer": _pseudonyms(source, columns[0]),
            "quadrant": pd.Categorical(_values(columns[1]), dtype=QUADRANT_TYPE),
            "willingness": pd.Series(columns[2], dtype="int64"),
            "liquid_assets": _money(columns[3]),
            "channel": pd.Categorical(_values(columns[4]), dtype=CHANNEL_TYPE),
            "owner": pd.Series(columns[5], dtype=object),
            "branch": pd.Series(columns[6], dtype=object),
            "risk_level": pd.Series(_values(columns[7]), dtype=object),
            "referred_by": _pseudonyms(source, columns[8]),
            "sms": pd.Series(columns[9], dtype=bool),
            "opened": _times(columns[10], source.zone),
        }
    )


def _values(items) -> list:
    """Enum members as their stored values (None stays None)."""
    return [None if i is None else getattr(i, "value", i) for i in items]


def quadrant_events(source: Source) -> pd.DataFrame:
    """Every quadrant event, sorted by customer and time (ties in creation order): customer,
    from_quadrant (missing for a first placement), to_quadrant, cause, experience_id,
    willingness, liquid_assets, at."""
    rows = _rows(
        source,
        sa.select(
            QuadrantEvent.customer_id,
            QuadrantEvent.from_quadrant,
            QuadrantEvent.to_quadrant,
            QuadrantEvent.cause,
            QuadrantEvent.experience_id,
            QuadrantEvent.willingness,
            QuadrantEvent.liquid_assets,
            QuadrantEvent.at,
        ).order_by(QuadrantEvent.customer_id, QuadrantEvent.at, QuadrantEvent.id),
    )
    columns = list(zip(*rows, strict=True)) if rows else [()] * 8
    return pd.DataFrame(
        {
            "customer": _pseudonyms(source, columns[0]),
            "from_quadrant": pd.Categorical(_values(columns[1]), dtype=QUADRANT_TYPE),
            "to_quadrant": pd.Categorical(_values(columns[2]), dtype=QUADRANT_TYPE),
            "cause": pd.Categorical(_values(columns[3]), dtype=CAUSE_TYPE),
            "experience_id": pd.Series(columns[4], dtype="Int64"),
            "willingness": pd.Series(columns[5], dtype="int64"),
            "liquid_assets": _money(columns[6]),
            "at": _times(columns[7], source.zone),
        }
    )


def experiences(source: Source) -> pd.DataFrame:
    """Every experience: experience_id, customer, category, status, origin, response,
    due_on, held_on, planned_cost, actual_cost, cost (what counts: actual once held, else
    planned; nothing when cancelled), group_event_id, recorded_at."""
    rows = _rows(
        source,
        sa.select(
            Experience.id,
            Experience.customer_id,
            Experience.category,
            Experience.status,
            Experience.origin,
            Experience.response,
            Experience.due_on,
            Experience.held_on,
            Experience.planned_cost,
            Experience.actual_cost,
            Experience.group_event_id,
            Experience.recorded_at,
        ).order_by(Experience.id),
    )
    columns = list(zip(*rows, strict=True)) if rows else [()] * 12
    frame = pd.DataFrame(
        {
            "experience_id": pd.Series(columns[0], dtype="int64"),
            "customer": _pseudonyms(source, columns[1]),
            "category": pd.Categorical(_values(columns[2]), dtype=CATEGORY_TYPE),
            "status": pd.Categorical(_values(columns[3]), dtype=STATUS_TYPE),
            "origin": pd.Categorical(_values(columns[4]), dtype=ORIGIN_TYPE),
            "response": pd.Categorical(_values(columns[5]), dtype=RESPONSE_TYPE),
            "due_on": _days(columns[6]),
            "held_on": _days(columns[7]),
            "planned_cost": _money(columns[8]),
            "actual_cost": _money(columns[9]),
            "group_event_id": pd.Series(columns[10], dtype="Int64"),
            "recorded_at": _times(columns[11], source.zone),
        }
    )
    frame["cost"] = counted_cost(frame)
    return frame


def counted_cost(frame: pd.DataFrame) -> pd.Series:
    """What each experience costs (``Experience.cost``): the actual cost once held, else
    the plan; nothing when cancelled."""
    cost = frame["actual_cost"].fillna(frame["planned_cost"])
    return cost.where(frame["status"].astype(object) != ExperienceStatus.CANCELLED.value, 0.0)


def callbacks(source: Source) -> pd.DataFrame:
    """Every maturity call-back task: callback_id, customer, owner (the customer's owner
    now), branch, channel, product_type, maturity_date, created_on (the day the scan made
    it), intent, recorded_on, recorded_by, experience_id."""
    owner = aliased(Staff)
    recorder = aliased(Staff)
    rows = _rows(
        source,
        sa.select(
            MaturityCallback.id,
            MaturityCallback.customer_id,
            owner.display_name,
            Branch.name,
            Customer.channel,
            Policy.product_type,
            MaturityCallback.maturity_date,
            MaturityCallback.created_at,
            MaturityCallback.intent,
            MaturityCallback.recorded_on,
            recorder.display_name,
            MaturityCallback.experience_id,
        )
        .join(Customer, Customer.id == MaturityCallback.customer_id)
        .join(owner, owner.id == Customer.owner_id)
        .join(Branch, Branch.id == Customer.branch_id)
        .join(Policy, Policy.id == MaturityCallback.policy_id)
        .outerjoin(recorder, recorder.id == MaturityCallback.recorded_by_id)
        .order_by(MaturityCallback.id),
    )
    columns = list(zip(*rows, strict=True)) if rows else [()] * 12
    created = _times(columns[7], source.zone)
    return pd.DataFrame(
        {
            "callback_id": pd.Series(columns[0], dtype="int64"),
            "customer": _pseudonyms(source, columns[1]),
            "owner": pd.Series(columns[2], dtype=object),
            "branch": pd.Series(columns[3], dtype=object),
            "channel": pd.Categorical(_values(columns[4]), dtype=CHANNEL_TYPE),
            "product_type": pd.Categorical(_values(columns[5]), dtype=PRODUCT_TYPE),
            "maturity_date": _days(columns[6]),
            "created_on": created.dt.tz_localize(None).dt.normalize().astype("datetime64[s]"),
            "intent": pd.Categorical(_values(columns[8]), dtype=INTENT_TYPE),
            "recorded_on": _days(columns[9]),
            "recorded_by": pd.Series(columns[10], dtype=object),
            "experience_id": pd.Series(columns[11], dtype="Int64"),
        }
    )


def complaints(source: Source) -> pd.DataFrame:
    """Every complaint: complaint_id, customer, owner, branch, channel, opened_at, due_at,
    answered_at, satisfied, non_routine_surrender (no complaint text)."""
    owner = aliased(Staff)
    rows = _rows(
        source,
        sa.select(
            Complaint.id,
            Complaint.customer_id,
            owner.display_name,
            Branch.name,
            Customer.channel,
            Complaint.opened_at,
            Complaint.due_at,
            Complaint.answered_at,
            Complaint.satisfied,
            Complaint.non_routine_surrender,
        )
        .join(Customer, Customer.id == Complaint.customer_id)
        .join(owner, owner.id == Customer.owner_id)
        .join(Branch, Branch.id == Customer.branch_id)
        .order_by(Complaint.id),
    )
    columns = list(zip(*rows, strict=True)) if rows else [()] * 10
    return pd.DataFrame(
        {
            "complaint_id": pd.Series(columns[0], dtype="int64"),
            "customer": _pseudonyms(source, columns[1]),
            "owner": pd.Series(columns[2], dtype=object),
            "branch": pd.Series(columns[3], dtype=object),
            "channel": pd.Categorical(_values(columns[4]), dtype=CHANNEL_TYPE),
            "opened_at": _times(columns[5], source.zone),
            "due_at": _times(columns[6], source.zone),
            "answered_at": _times(columns[7], source.zone),
            "satisfied": pd.Series(columns[8], dtype="boolean"),
            "non_routine_surrender": pd.Series(columns[9], dtype="boolean"),
        }
    )


def budget_usage(source: Source, as_of: date | None = None) -> pd.DataFrame:
    """Each customer's budget use as of a day, as the app counts it (``budget``: committed
    plus spent over the rolling 12 months): customer, quadrant, limit, used."""
    from crm.services.planning import budget

    as_of = as_of or source.today()
    with source.app.app_context():
        usage = budget.usage_by_customer(as_of).subquery()
        statement = (
            sa.select(Customer.id, Customer.quadrant, usage.c.used)
            .outerjoin(usage, usage.c.customer_id == Customer.id)
            .order_by(Customer.id)
        )
        rows = _rows(source, statement)
    limits = source.cost_limits()
    columns = list(zip(*rows, strict=True)) if rows else [()] * 3
    quadrant = pd.Categorical(_values(columns[1]), dtype=QUADRANT_TYPE)
    return pd.DataFrame(
        {
            "customer": _pseudonyms(source, columns[0]),
            "quadrant": quadrant,
            "limit": np.asarray([limits[q] for q in quadrant.astype(object)], dtype=float),
            "used": _money(columns[2]).fillna(0.0),
        }
    )
