"""The report's figures against hand computations: the Wald interval of a difference of two
shares, Welch's interval of a difference of two means, the cost per arm and the uplift per
¥10,000; and the report of a hand-made bank read end to end."""

from __future__ import annotations

import math
from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from scipy import stats

from crm.extensions import db
from crm.models import Experience, Policy
from crm.models.enums import (
    ExperienceStatus,
    PaymentMode,
    PlanOrigin,
    ProductType,
    Quadrant,
    Touchpoint,
)
from crm.models.experiment import Arm, ExperimentAssignment, Metric
from crm.services.experiments import analysis, power
from crm.services.experiments.outcomes import ArmTotals
from tests.services.experiments.helpers import START, customers_in, started

Z = 1.959963984540054  # the normal's 97.5% quantile


def test_the_wald_interval_equals_a_hand_computation():
    # 30 of 100 treated bought a policy, 20 of 100 held out.
    treated = ArmTotals(100, 30, 30, Decimal("50000.00"))
    held = ArmTotals(100, 20, 20, Decimal("10000.00"))
    figures = analysis.compare(Metric.POLICY_BOUGHT, treated, held)

    se = math.sqrt(0.3 * 0.7 / 100 + 0.2 * 0.8 / 100)  # 0.060827
    assert figures.difference.method == analysis.WALD
    assert figures.difference.estimate == pytest.approx(0.10)
    assert figures.difference.low == pytest.approx(0.10 - Z * se)  # −0.0192
    assert figures.difference.high == pytest.approx(0.10 + Z * se)  # 0.2192
    assert (figures.treatment.mean, figures.holdout.mean) == (0.3, 0.2)
    # ¥500 a treated customer, ¥100 a held-out one: ¥400 more buys 0.10 policies each, so
    # ¥10,000 buys 2.5, with the interval scaled alike.
    assert figures.treatment.cost_per_customer == Decimal("500.00")
    assert figures.uplift_per_10k.estimate == pytest.approx(2.5)
    assert figures.uplift_per_10k.low == pytest.approx((0.10 - Z * se) * 25)
    assert figures.uplift_per_10k.high == pytest.approx((0.10 + Z * se) * 25)


def test_welchs_interval_equals_a_hand_computation():
    treated_values = [5, 7, 9, 3, 6]
    held_values = [1, 2, 0, 4, 3, 2]

    def totals(values):
        return ArmTotals(len(values), sum(values), sum(v * v for v in values), Decimal("0"))

    figures = analysis.compare(
        Metric.WILLINGNESS_CHANGE, totals(treated_values), totals(held_values)
    )
    # By hand: means 6 and 2; variances 5 and 2 (n − 1); se² = 5/5 + 2/6.
    a, b = 5 / 5, 2 / 6
    dof = (a + b) ** 2 / (a * a / 4 + b * b / 5)
    t = stats.t.ppf(0.975, dof)
    assert figures.difference.method == analysis.WELCH
    assert figures.difference.estimate == pytest.approx(4.0)
    assert figures.difference.low == pytest.approx(4.0 - t * math.sqrt(a + b))
    assert figures.difference.high == pytest.approx(4.0 + t * math.sqrt(a + b))
    # The same as scipy's Welch test on the raw values.
    raw = stats.ttest_ind(treated_values, held_values, equal_var=False).confidence_interval()
    assert (figures.difference.low, figures.difference.high) == pytest.approx((raw.low, raw.high))
    # Nothing was spent on either arm: no uplift per ¥.
    assert figures.uplift_per_10k is None


def test_the_report_of_a_hand_made_bank(world):
    customers_in(world.alice, Quadrant.MAINTAIN, 20)
    db.session.commit()
    experiment = started(
        world.manager,
        quadrants="maintain",
        holdout_share="0.5",
        horizon_days=60,
        metric="policy_bought",
    )
    rows = db.session.execute(
        sa.select(ExperimentAssignment.customer_id, ExperimentAssignment.arm)
        .where(ExperimentAssignment.experiment_id == experiment.id)
        .order_by(ExperimentAssignment.customer_id)
    ).all()
    treated = [c for c, arm in rows if arm == Arm.TREATMENT]
    held = [c for c, arm in rows if arm == Arm.HOLDOUT]
    assert (len(treated), len(held)) == (10, 10)
    # 6 treated and 2 held-out customers buy a policy within the window; one more treated
    # customer buys on the horizon's day, which is outside it.
    for n, customer_id in enumerate(treated[:7] + held[:2]):
        day = START + timedelta(days=60 if n == 6 else 10 + n)
        db.session.add(
            Policy(
                customer_id=customer_id,
                policy_number=f"P-{n}",
                product_name="鑫享年金",
                product_type=ProductType.ANNUITY,
                premium=Decimal("10000.00"),
                payment_mode=PaymentMode.SINGLE,
                start_date=day,
            )
        )
    # Each treated customer had one visit held, at ¥200; a held-out one none.
    for customer_id in treated:
        db.session.add(
            Experience(
                customer_id=customer_id,
                category=Touchpoint.VISIT,
                status=ExperienceStatus.DONE,
                origin=PlanOrigin.CADENCE,
                due_on=START + timedelta(days=5),
                held_on=START + timedelta(days=5),
                planned_cost=Decimal("150.00"),
                actual_cost=Decimal("200.00"),
            )
        )
    db.session.commit()

    peeking = analysis.report(experiment, START + timedelta(days=59))
    assert peeking.peeking and peeking.counts == {Arm.TREATMENT: 10, Arm.HOLDOUT: 10}

    report = analysis.report(experiment, START + timedelta(days=61))
    assert report.horizon_reached and not report.stopped_early
    primary = report.primary
    assert (primary.treatment.mean, primary.holdout.mean) == (0.6, 0.2)
    se = math.sqrt(0.6 * 0.4 / 10 + 0.2 * 0.8 / 10)  # 0.2
    assert primary.difference.low == pytest.approx(0.4 - Z * se)
    assert primary.difference.high == pytest.approx(0.4 + Z * se)
    assert (primary.treatment.cost, primary.holdout.cost) == (Decimal("2000.00"), Decimal("0.00"))
    # ¥200 more per treated customer: 0.4 policies, so ¥10,000 buys 20.
    assert primary.uplift_per_10k.estimate == pytest.approx(20.0)
    secondary = {f.metric: f for f in report.secondary}
    assert set(secondary) == set(Metric) - {Metric.POLICY_BOUGHT}
    assert all(f.secondary for f in report.secondary)
    assert secondary[Metric.PREMIUM].treatment.mean == pytest.approx(6000.0)
    assert secondary[Metric.PREMIUM].holdout.mean == pytest.approx(2000.0)
    balance = {row.covariate: row for row in report.balance}
    assert balance["quadrant:maintain"].treatment == balance["quadrant:maintain"].holdout == 1.0
    assert balance["willingness"].standardised_difference == 0.0


def test_power_says_what_a_design_can_detect():
    detectable, h = power.detectable_difference(Metric.UPWARD_MOVE, 0.10, None, 800, 200)
    # Cohen's h for n1 = 800, n2 = 200: (1.96 + 0.84) · √(1/800 + 1/200) ≈ 0.2214.
    assert h == pytest.approx(2.8016 * math.sqrt(1 / 800 + 1 / 200), rel=1e-3)
    assert detectable == pytest.approx(math.sin(math.asin(math.sqrt(0.1)) + h / 2) ** 2 - 0.1)
    assert 0.06 < detectable < 0.08
    small, _ = power.detectable_difference(Metric.UPWARD_MOVE, 0.10, None, 8, 2)
    assert small > detectable
    assert power.detectable_difference(Metric.PREMIUM, 1000.0, 0.0, 800, 200) == (None, None)
    assert power.detectable_difference(Metric.LOST, 0.1, None, 1, 1) == (None, None)


def test_a_design_over_too_few_customers_says_it_can_detect_nothing_useful(world):
    customers_in(world.alice, Quadrant.MAINTAIN, 6)
    db.session.commit()
    estimate = power.power_of_design(
        {
            "metric": "upward_move",
            "quadrants": ["maintain"],
            "branch_ids": [],
            "horizon_days": 90,
            "holdout_share": Decimal("0.2"),
        }
    )
    assert (estimate.customers, estimate.treatment, estimate.holdout) == (6, 5, 1)
    assert estimate.detectable is None and not estimate.useful
