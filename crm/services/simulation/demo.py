"""Demo data: a small bank with branches, staff and customers, deterministic per seed.

The customers are drawn as ``people`` draws them; a share of their policies matures
within the coming year so call-back lists have work in them, and every relationship
manager has a few maturing this or next month, and a complaint or two.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa

from crm.extensions import db
from crm.models import (
    AuditLog,
    Branch,
    Complaint,
    Customer,
    Policy,
    QuadrantEvent,
    Staff,
    Tag,
)
from crm.models.base import utcnow
from crm.models.enums import (
    BranchStage,
    MoveCause,
    PaymentMode,
    PolicyStatus,
    ProductType,
    Role,
)
from crm.services.customers import tags as customer_tags
from crm.services.customers import tiering
from crm.services.followup import calls, complaints
from crm.services.simulation import demo_sales, people

DEMO_PASSWORD = "demo1234"

BRANCHES = (
    ("城东支行", BranchStage.MATURE),
    ("高新区支行", BranchStage.GROWTH),
    ("老城支行", BranchStage.ADJUSTMENT),
)
# (username, display name, role, branch index or None)
STAFF = (
    ("admin", "系统管理员", Role.ADMIN, None),
    ("manager1", "周主管", Role.MANAGER, 0),
    ("staff1", "李晓红", Role.STAFF, 0),
    ("staff2", "王建国", Role.STAFF, 0),
    ("manager2", "陈主管", Role.MANAGER, 1),
    ("staff3", "赵敏", Role.STAFF, 1),
    ("staff4", "孙浩", Role.STAFF, 1),
    ("staff5", "吴芳", Role.STAFF, 2),
)

TAGS = (
    "高净值",
    "企业主",
    "子女教育",
    "养老规划",
    "退休",
    "爱好旅游",
    "爱好书画",
    "关注健康",
    "二胎家庭",
    "老客户",
)
# (product name, type, payment, term in years or None for whole life)
PRODUCTS = (
    ("鑫享两全保险（分红型）", ProductType.PARTICIPATING, PaymentMode.SINGLE, 5),
    ("金福年年两全保险（分红型）", ProductType.PARTICIPATING, PaymentMode.REGULAR, 10),
    ("稳盈账户终身寿险（万能型）", ProductType.UNIVERSAL, PaymentMode.SINGLE, 6),
    ("福寿安康年金保险", ProductType.ANNUITY, PaymentMode.REGULAR, 10),
    ("传世终身寿险", ProductType.WHOLE_LIFE, PaymentMode.REGULAR, None),
    ("康健一生重大疾病保险", ProductType.CRITICAL_ILLNESS, PaymentMode.REGULAR, 20),
    ("百万医疗保险", ProductType.MEDICAL, PaymentMode.REGULAR, 1),
    ("出行无忧综合意外险", ProductType.ACCIDENT, PaymentMode.SINGLE, 1),
    ("智选投资连结保险", ProductType.INVESTMENT_LINKED, PaymentMode.SINGLE, 8),
)


@dataclass
class DemoSummary:
    branches: int
    staff: int
    customers: int
    policies: int


def database_is_empty() -> bool:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Staff)) == 0


def generate(customers: int = 1000, seed: int = 2026, today: date | None = None) -> DemoSummary:
    """Create the demo bank in an empty database; the caller commits."""
    if not database_is_empty():
        raise RuntimeError("the database already holds staff; demo data goes into an empty one")
    rng = random.Random(seed)
    today = today or utcnow().date()
    now = utcnow()
    branches, staff, tags = _open_bank()
    owners = [s for s in staff if s.role == Role.STAFF]

    # The database is empty, so the demo numbers its customers itself: bulk inserts need
    # no RETURNING (which SQLAlchemy makes quadratic over many batches on SQLite).
    thresholds = tiering.current_thresholds()
    first_id = (db.session.scalar(sa.select(sa.func.max(Customer.id))) or 0) + 1
    phones: set[str] = set()
    batch = _Batch()
    policies = 0
    firsts: dict[int, list[int]] = {}  # each owner's first few customers
    for index in range(customers):
        customer_id = first_id + index
        owner = rng.choice(owners)
        firsts.setdefault(owner.id, [])
        if len(firsts[owner.id]) < FOLLOW_UP_CUSTOMERS:
            firsts[owner.id].append(customer_id)
        row = people.customer_row(rng, index, owner, first_id, phones, today, now, thresholds)
        batch.customers.append(row)
        for tag in rng.sample(tags, k=rng.choice((0, 1, 1, 2, 3))):
            batch.tags.append((customer_id, tag.id))
        for _ in range(rng.choice((1, 1, 2, 2, 3))):
            policies += 1
            batch.policies.append(_policy(rng, customer_id, seed, policies, today, now))
        batch.audit.append(_opening_audit(customer_id, now))
        batch.placements.append(_first_placement(row, thresholds, now))
        if len(batch.customers) >= BATCH_SIZE:
            batch.write()
    # A separate stream, so the bank drawn above is the same as without these.
    extra = random.Random(seed + 1)
    for customer_ids in firsts.values():
        for customer_id, kind in zip(customer_ids, MATURING_SOON, strict=False):
            policies += 1
            batch.policies.append(
                _maturing_soon(extra, customer_id, kind, seed, policies, today, now)
            )
    batch.write()
    _complaints(staff, firsts, today, now)
    demo_sales.seed(owners, today, seed)
    if customers and db.engine.dialect.name == "postgresql":
        db.session.execute(
            sa.text("SELECT setval(pg_get_serial_sequence('customer', 'id'), :last)"),
            {"last": first_id + customers - 1},
        )
    return DemoSummary(len(branches), len(staff), customers, policies)


def _open_bank() -> tuple[list[Branch], list[Staff], list[Tag]]:
    """The branches, their staff (all with the demo password) and the tags, with their ids."""
    branches = [Branch(name=name, stage=stage) for name, stage in BRANCHES]
    db.session.add_all(branches)
    staff = []
    for username, display, role, branch in STAFF:
        member = Staff(
            username=username,
            display_name=display,
            role=role,
            branch=branches[branch] if branch is not None else None,
        )
        member.set_password(DEMO_PASSWORD)
        staff.append(member)
    db.session.add_all(staff)
    tags = [Tag(name=name) for name in TAGS]
    db.session.add_all(tags)
    db.session.flush()
    return branches, staff, tags


def _opening_audit(customer_id: int, now: datetime) -> dict:
    """The dossier's "created" audit row: demo dossiers are attributed to the system, like
    any import."""
    return {
        "at": now,
        "actor_id": None,
        "entity": "customer",
        "entity_id": customer_id,
        "customer_id": customer_id,
        "action": "create",
        "version": 1,
    }


def _first_placement(row: dict, thresholds: tiering.Thresholds, now: datetime) -> dict:
    """The customer's first quadrant event: placed as an import places them."""
    return {
        "customer_id": row["id"],
        "from_quadrant": None,
        "to_quadrant": row["quadrant"],
        "liquid_assets": row["liquid_assets"],
        "willingness": row["willingness"],
        "capability_threshold": thresholds.capability,
        "willingness_threshold": thresholds.willingness,
        "cause": MoveCause.IMPORT,
        "actor_id": None,
        "at": now,
    }


BATCH_SIZE = 5000
# Each relationship manager's first customers get a policy maturing this or next month, of
# these types in turn, so the call-back list and the follow-up page have work after a demo.
MATURING_SOON = (ProductType.PARTICIPATING, ProductType.UNIVERSAL, ProductType.PARTICIPATING)
FOLLOW_UP_CUSTOMERS = len(MATURING_SOON)
# (days since opened, answered after days or None, satisfied, non-routine surrender, point)
DEMO_COMPLAINTS = (
    (9, None, None, None, "满期给付到账晚于承诺时间，客户多次来电催问"),
    (2, None, None, None, "对分红实现率低于销售时演示水平不满"),
    (20, 3, True, False, "柜面办理续保等候时间过长"),
    (15, 6, False, True, "认为销售时未充分说明退保损失，要求全额退保"),
    (4, None, None, None, "短信提醒过于频繁"),
)


@dataclass
class _Batch:
    """Rows waiting for one bulk insert per table."""

    customers: list[dict] = field(default_factory=list)
    tags: list[tuple[int, int]] = field(default_factory=list)  # (customer_id, tag_id)
    policies: list[dict] = field(default_factory=list)
    audit: list[dict] = field(default_factory=list)
    placements: list[dict] = field(default_factory=list)

    def write(self) -> None:
        for table, rows in (
            (Customer.__table__, self.customers),
            (Policy.__table__, self.policies),
            (AuditLog.__table__, self.audit),
            (QuadrantEvent.__table__, self.placements),
        ):
            if rows:
                db.session.execute(sa.insert(table), rows)
                rows.clear()
        if self.tags:
            customer_tags.link_new_customers(self.tags)
            self.tags.clear()


def _policy(rng: random.Random, customer_id: int, seed: int, number: int, today, now) -> dict:
    name, kind, payment, term = rng.choice(PRODUCTS)
    if term is None:
        start, maturity = today - timedelta(days=rng.randint(30, 3650)), None
    else:
        # Four in ten policies with a term (all one-year covers) mature within the coming
        # year; every policy has already started.
        length = term * 365
        if term == 1 or rng.random() < 0.4:
            ahead = rng.randint(1, min(365, length))
        else:
            ahead = rng.randint(366, length)
        maturity = today + timedelta(days=ahead)
        start = maturity - timedelta(days=length)
    return {
        "customer_id": customer_id,
        "policy_number": f"P{seed % 10000:04d}{number:08d}",
        "product_name": name,
        "product_type": kind,
        "premium": Decimal(rng.choice((5, 10, 20, 30, 50, 100, 200)) * 1000),
        "payment_mode": payment,
        "start_date": start,
        "maturity_date": maturity,
        "status": PolicyStatus.IN_FORCE,
        "version": 1,
        "created_at": now,
        "updated_at": now,
    }


def _maturing_soon(
    rng: random.Random, customer_id: int, kind: ProductType, seed: int, number: int, today, now
) -> dict:
    """A policy maturing between tomorrow and the end of next month (the call-back window)."""
    _, last = calls.scan_window(today)
    maturity = today + timedelta(days=rng.randint(1, max(1, (last - today).days)))
    name = next(p for p, t, *_ in PRODUCTS if t == kind)
    years = rng.choice((5, 6, 10))
    return {
        "customer_id": customer_id,
        "policy_number": f"P{seed % 10000:04d}{number:08d}",
        "product_name": name,
        "product_type": kind,
        "premium": Decimal(rng.choice((20, 50, 100)) * 1000),
        "payment_mode": PaymentMode.SINGLE,
        "start_date": maturity.replace(year=maturity.year - years, day=min(maturity.day, 28)),
        "maturity_date": maturity,
        "status": PolicyStatus.IN_FORCE,
        "version": 1,
        "created_at": now,
        "updated_at": now,
    }


def _complaints(staff: list[Staff], firsts: dict[int, list[int]], today: date, now) -> None:
    """One complaint for each relationship manager's first customer: the first is overdue,
    some are open, some answered (one ending in a non-routine surrender)."""
    # Complaints are dated from the demo's day (mid-morning in the branch) when it is not today.
    anchor = (
        now if today == now.date() else datetime(today.year, today.month, today.day, 2, tzinfo=UTC)
    )
    owners = [s for s in staff if s.role == Role.STAFF and firsts.get(s.id)]
    for owner, (ago, after, satisfied, surrender, point) in zip(
        owners, DEMO_COMPLAINTS, strict=False
    ):
        opened = anchor - timedelta(days=ago, hours=2)
        complaint = Complaint(
            customer_id=firsts[owner.id][0],
            point=point,
            opened_at=opened,
            due_at=opened + complaints.sla(),
            opened_by_id=owner.id,
            version=1,
        )
        if after is not None:
            complaint.handling_opinion = "已由网点负责人当面沟通并书面答复"
            complaint.answered_at = opened + timedelta(days=after)
            complaint.answered_by_id = owner.id
            complaint.satisfied = satisfied
            complaint.non_routine_surrender = surrender
        db.session.add(complaint)
        db.session.flush()
        db.session.add(
            AuditLog(
                at=now,
                actor_id=None,
                entity="complaint",
                entity_id=complaint.id,
                customer_id=complaint.customer_id,
                action="create",
                field="point",
                new_value=point,
                version=1,
            )
        )


def demo_logins() -> list[tuple[str, str, str]]:
    """(username, password, who) for the README and ``make run``."""
    return [
        (username, DEMO_PASSWORD, f"{role.value}{' · ' + BRANCHES[b][0] if b is not None else ''}")
        for username, _, role, b in STAFF
    ]
