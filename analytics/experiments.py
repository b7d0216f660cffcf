"""Holdout experiments (对照实验) as frames: the same report the page and ``flask crm experiment
report`` show, from the same function (``crm.services.experiments.analysis.report``), laid
out for a notebook. Nothing here computes a figure of its own.
"""

from __future__ import annotations

from datetime import date

import pandas as pd


def listing(source) -> pd.DataFrame:
    """Every experiment: its design, status and dates, newest first."""
    from crm.services.experiments import design

    with source.app.app_context():
        rows = [
            {
                "id": e.id,
                "experiment": e.name,
                "category": e.category.value,
                "metric": e.metric.value,
                "holdout_share": float(e.holdout_share),
                "horizon_days": e.horizon_days,
                "status": e.status.value,
                "started_on": e.started_on,
                "horizon_end": design.horizon_end(e),
            }
            for e in design.list_experiments()
        ]
    columns = ["experiment", "category", "metric", "holdout_share", "horizon_days", "status"]
    frame = pd.DataFrame(rows, columns=["id", *columns, "started_on", "horizon_end"])
    return frame.set_index("id")


def result(source, experiment_id: int, today: date | None = None):
    """The experiment's report (``analysis.Report``) as of ``today``; None if there is no such
    experiment."""
    from crm.services.experiments import analysis, design

    with source.app.app_context():
        experiment = design.get_experiment(experiment_id)
        return None if experiment is None else analysis.report(experiment, today)


def arms(report) -> pd.DataFrame:
    """The primary metric per arm: customers, mean (a share for a yes/no metric), cost."""
    figures = report.primary
    rows = [
        {
            "arm": arm.arm.value,
            "customers": arm.customers,
            "mean": arm.mean,
            "cost": float(arm.cost),
            "cost_per_customer": None
            if arm.cost_per_customer is None
            else float(arm.cost_per_customer),
        }
        for arm in (figures.treatment, figures.holdout)
    ]
    return pd.DataFrame(rows).set_index("arm")


def differences(report) -> pd.DataFrame:
    """Treatment − holdout with the 95% interval and the uplift per ¥10,000, the primary
    metric first and the secondary ones marked."""
    rows = []
    for figures in [report.primary, *report.secondary]:
        difference, uplift = figures.difference, figures.uplift_per_10k
        rows.append(
            {
                "metric": figures.metric.value,
                "secondary": figures.secondary,
                "difference": None if difference is None else difference.estimate,
                "low": None if difference is None else difference.low,
                "high": None if difference is None else difference.high,
                "uplift_per_10k": None if uplift is None else uplift.estimate,
                "uplift_low": None if uplift is None else uplift.low,
                "uplift_high": None if uplift is None else uplift.high,
            }
        )
    frame = pd.DataFrame(rows).set_index("metric")
    frame.index.name = "measure"  # the primary and the secondary ones alike
    return frame


def balance(report) -> pd.DataFrame:
    """The pre-period covariates per arm and their standardised differences."""
    rows = [
        {
            # "quadrant:develop" as (quadrant, develop): the report shows each by its label.
            "covariate": tuple(row.covariate.split(":")) if ":" in row.covariate else row.covariate,
            "treatment": row.treatment,
            "holdout": row.holdout,
            "standardised_difference": row.standardised_difference,
        }
        for row in report.balance
    ]
    columns = ["covariate", "treatment", "holdout", "standardised_difference"]
    return pd.DataFrame(rows, columns=columns).set_index("covariate")
