"""The demo bank's Hunt and Harvest: a few prospects and opportunities per relationship
manager, so the prospects list, the pipeline board and the funnel have something to show.

They go through the sales services (their rules, their audit rows), as staff would make
them; a product a customer does not suit is skipped, as a relationship manager would.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa

from crm.core.inputs import InvalidInput
from crm.extensions import db
from crm.models import Customer, Product, Staff
from crm.models.enums import Channel, OpportunitySource, PaymentMode, ProspectStatus
from crm.services.sales import opportunities, prospects

PROSPECTS = (
    ("郑立新", Channel.COLD_VISIT, ProspectStatus.NEW),
    ("何婉清", Channel.REFERRAL, ProspectStatus.CONTACTED),
    ("冯志强", Channel.CORPORATE, ProspectStatus.QUALIFIED),
)
# How many stages on from the lead (线索) each demo opportunity got.
STEPS = (0, 1, 2, 3, 1, 0)
PREMIUMS = (Decimal("20000"), Decimal("50000"), Decimal("100000"), Decimal("300000"))


def seed(owners: list[Staff], today: date, seed: int) -> None:
    """Prospects, and opportunities on their first customers, for each relationship manager
    (no commit)."""
    rng = random.Random(seed + 2)
    shelf = db.session.scalars(sa.select(Product).order_by(Product.id)).all()
    for n, owner in enumerate(owners):
        for i, (name, channel, status) in enumerate(PROSPECTS):
            _prospect(owner, f"{name[0]}{'晓文静国'[n % 4]}{name[1:]}", channel, status, n, i)
        firsts = db.session.scalars(
            sa.select(Customer)
            .where(Customer.owner_id == owner.id)
            .order_by(Customer.id)
            .limit(len(STEPS))
        ).all()
        for customer, steps in zip(firsts, STEPS, strict=False):
            _opportunity(owner, customer, shelf, steps, today, rng)


def _prospect(owner: Staff, name: str, channel: Channel, status: ProspectStatus, n, i) -> None:
    phone = f"+861390{n:03d}{i:04d}"
    try:
        prospect = prospects.create_prospect(
            owner, {"name": name, "phone": phone, "channel": channel.value}
        )
        for target in (ProspectStatus.CONTACTED, ProspectStatus.QUALIFIED):
            if prospect.status == status:
                break
            prospects.move_prospect(owner, prospect, target, prospect.version)
    except InvalidInput:
        return  # the number is taken: the demo has one prospect fewer


def _opportunity(owner, customer, shelf, steps: int, today: date, rng: random.Random) -> None:
    for product in rng.sample(shelf, k=len(shelf)):
        data = {
            "product_id": product.id,
            "expected_premium": str(rng.choice(PREMIUMS)),
            "payment_mode": rng.choice(list(PaymentMode)).value,
            "expected_close_on": today + timedelta(days=rng.randint(10, 90)),
            "source": rng.choice([OpportunitySource.REFERRAL, OpportunitySource.OTHER]).value,
        }
        try:
            opportunity = opportunities.open_opportunity(owner, customer, data)
        except InvalidInput:
            continue  # not suitable for this customer's risk level: try another product
        for _ in range(steps):
            opportunities.advance(owner, opportunity, opportunity.version)
        return
