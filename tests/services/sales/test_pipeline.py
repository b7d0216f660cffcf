"""The pipeline board and the funnel: what each role sees, the stage totals, and the funnel's
figures against counts made directly from the opportunities."""

import random
from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from crm.core.clock import local_today
from crm.core.inputs import InvalidInput
from crm.extensions import db
from crm.models import Opportunity, Product
from crm.models.enums import OPEN_STAGES, PaymentMode, Quadrant, SalesStage
from crm.services.sales import funnel, pipeline, stages
from tests.support.factories import make_customer

ORDER = [*OPEN_STAGES, SalesStage.WON]


def add(customer, stage, premium="10000", *, lost_from=None, mode=PaymentMode.REGULAR, days=0):
    opened = local_today() - timedelta(days=40)
    closed = opened + timedelta(days=days) if stage in (SalesStage.WON, SalesStage.LOST) else None
    found = Opportunity(
        customer=customer,
        owner_id=customer.owner_id,
        branch_id=customer.branch_id,
        product_id=db.session.scalars(sa.select(Product.id)).first(),
        expected_premium=Decimal(premium),
        payment_mode=mode,
        stage=stage,
        lost_from=lost_from,
        lost_reason="价格" if lost_from else None,
        opened_on=opened,
        expected_close_on=opened + timedelta(days=60),
        closed_on=closed,
        version=1,
    )
    db.session.add(found)
    return found


def test_each_role_sees_its_own_board_with_stage_totals(world):
    add(world.alice_customer, SalesStage.LEAD, "10000")
    add(world.alice_customer, SalesStage.LEAD, "30000")
    add(world.alice_customer, SalesStage.CLOSING, "100000")
    add(world.bob_customer, SalesStage.PROPOSAL, "20000")
    add(world.carol_customer, SalesStage.NEEDS, "5000")
    add(world.alice_customer, SalesStage.WON, "99999")  # closed: not on the board
    db.session.commit()

    alice = pipeline.board(world.alice)
    by_stage = {c.stage: c for c in alice.columns}
    assert [c.stage for c in alice.columns] == list(OPEN_STAGES)
    assert (by_stage[SalesStage.LEAD].count, by_stage[SalesStage.LEAD].premium) == (
        2,
        Decimal("40000.00"),
    )
    assert by_stage[SalesStage.LEAD].weighted == Decimal("4000.00")  # 10%
    assert by_stage[SalesStage.CLOSING].weighted == Decimal("75000.00")  # 75%
    assert alice.count == 3 and len(by_stage[SalesStage.LEAD].cards) == 2
    # Asking for someone else's board gives a staff member their own.
    assert pipeline.board(world.alice, owner_id=world.bob.id).count == 3

    assert pipeline.board(world.manager).count == 4  # the east branch
    assert pipeline.board(world.manager, branch_id=world.west.id).count == 4
    assert pipeline.board(world.manager, owner_id=world.bob.id).count == 1
    assert pipeline.board(world.admin).count == 5
    assert pipeline.board(world.admin, branch_id=world.west.id).count == 1


def test_an_admin_changes_the_probabilities_and_the_weights_follow(world):
    add(world.alice_customer, SalesStage.PROPOSAL, "10000")
    db.session.commit()
    wanted = {"lead": "5", "needs": "20", "proposal": "60", "closing": "90"}
    stages.save_probabilities(world.admin, wanted)
    db.session.commit()
    column = {c.stage: c for c in pipeline.board(world.alice).columns}[SalesStage.PROPOSAL]
    assert (column.probability, column.weighted) == (60, Decimal("6000.00"))
    with pytest.raises(InvalidInput) as refused:
        stages.save_probabilities(world.admin, wanted | {"lead": "101", "needs": "x"})
    assert set(refused.value.errors) == {"lead", "needs"}


def test_the_board_shows_a_limited_number_of_cards_per_stage_soonest_first(world):
    for i in range(pipeline.CARDS_PER_STAGE + 5):
        found = add(world.alice_customer, SalesStage.NEEDS)
        found.expected_close_on = local_today() + timedelta(days=100 - i)
    db.session.commit()
    column = {c.stage: c for c in pipeline.board(world.alice).columns}[SalesStage.NEEDS]
    assert column.count == pipeline.CARDS_PER_STAGE + 5
    assert len(column.cards) == pipeline.CARDS_PER_STAGE
    closes = [c.expected_close_on for c in column.cards]
    assert closes == sorted(closes)


def furthest(o: Opportunity) -> int:
    return ORDER.index(o.lost_from if o.stage == SalesStage.LOST else o.stage)


@pytest.mark.parametrize("dimension", funnel.DIMENSIONS)
def test_the_funnel_agrees_with_direct_counts(world, dimension):
    rng = random.Random(7)
    extra = [
        make_customer(owner, f"客户{i}", f"+86137{i:08d}", quadrant=rng.choice(list(Quadrant)))
        for i, owner in enumerate([world.alice, world.bob, world.carol] * 4)
    ]
    customers = [world.alice_customer, world.bob_customer, world.carol_customer, *extra]
    made = []
    for _ in range(120):
        stage = rng.choice(list(SalesStage))
        lost_from = rng.choice(OPEN_STAGES) if stage == SalesStage.LOST else None
        made.append(
            add(
                rng.choice(customers),
                stage,
                str(rng.randrange(1000, 90000)),
                lost_from=lost_from,
                mode=rng.choice(list(PaymentMode)),
                days=rng.randrange(1, 60),
            )
        )
    db.session.commit()
    start, end = date(2000, 1, 1), local_today()
    seen = funnel.funnel(world.admin, start, end, dimension)

    assert seen.total.opened == len(made)
    for i, stage in enumerate(ORDER):
        assert seen.total.reached[stage] == sum(furthest(o) >= i for o in made), stage
    won = [o for o in made if o.stage == SalesStage.WON]
    closed = [o for o in made if o.closed_on is not None]
    assert seen.total.won == len(won)
    assert seen.total.premium == sum(o.expected_premium for o in won)
    regular = sum(o.payment_mode == PaymentMode.REGULAR for o in won)
    assert seen.total.ratio == f"{regular}:{len(won) - regular}"
    mean = sum((o.closed_on - o.opened_on).days for o in closed) / len(closed)
    assert seen.total.cycle_time == pytest.approx(mean)

    def key(o):
        c = o.customer
        return {
            "owner": o.owner_id,
            "branch": c.branch_id,
            "channel": c.channel,
            "quadrant": c.quadrant,
        }[dimension]

    for row in seen.rows:
        mine = [o for o in made if key(o) == row.key]
        assert row.opened == len(mine)
        assert row.won == sum(o.stage == SalesStage.WON for o in mine)
        assert row.reached[SalesStage.PROPOSAL] == sum(furthest(o) >= 2 for o in mine)
    # A manager's funnel holds only the branch's opportunities.
    east = funnel.funnel(world.manager, start, end, dimension).total.opened
    assert east == sum(o.customer.branch_id == world.east.id for o in made)
