"""The churn backtest on a simulated year: the score, from history alone, ranks the customers
who then left above those who stayed, and better than recency alone.

The simulator's customers leave by its attrition model (crm/services/simulation/attrition.py),
whose causes overlap the score's signals without being them; 150 customers lived through a
year (about eight minutes on two busy cores, SQLite only: nothing here is database-specific
beyond what the retention tests cover on both).
"""

from __future__ import annotations

import statistics
from datetime import date

import pytest
from flask_migrate import upgrade

from crm import create_app
from crm.extensions import db
from crm.models import Customer
from crm.models.enums import RelationshipStatus
from crm.services.retention import backtest
from crm.services.simulation import run

CUSTOMERS = 150
SEED = 3
START = date(2025, 3, 2)
TODAY = date(2026, 3, 2)
AS_OF = (date(2025, 9, 1), date(2025, 10, 1), date(2025, 11, 1))


@pytest.fixture(scope="module")
def simulated_year(tmp_path_factory):
    folder = tmp_path_factory.mktemp("churn-year")
    app = create_app(
        "testing",
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'year.sqlite3'}",
            "CRM_SMS_CONSOLE_PATH": str(folder / "sms.jsonl"),
            "CRM_MAIL_CONSOLE_PATH": str(folder / "mail.jsonl"),
        },
    )
    with app.app_context():
        upgrade()
        summary = run.simulate(12, SEED, customers=CUSTOMERS, start=START, today=TODAY)
        yield summary
        db.session.remove()
        db.engine.dispose()


def test_a_simulated_year_has_customers_who_left(simulated_year):
    lost = (
        db.session.query(Customer)
        .filter(Customer.relationship_status == RelationshipStatus.LOST)
        .all()
    )
    assert simulated_year.counts["customers_lost"] == len(lost) > CUSTOMERS // 10
    assert all(c.lost_reason is not None and START <= c.lost_on < TODAY for c in lost)


def test_the_score_beats_the_recency_baseline(simulated_year):
    """Over three days of the year's second half (a quarter of a small book sees few leave,
    so one day alone is noisy, and its top tenth noisier still), the score ranks those who
    left above those who stayed more often than recency does."""
    results = [backtest.run_backtest(as_of, 90) for as_of in AS_OF]
    assert all(r.churned >= 5 and r.customers > CUSTOMERS * 0.8 for r in results)
    score_auc = statistics.mean(r.score.auc for r in results)
    recency_auc = statistics.mean(r.recency.auc for r in results)
    assert score_auc > 0.55 and score_auc > recency_auc, (score_auc, recency_auc)
