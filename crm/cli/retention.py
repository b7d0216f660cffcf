"""``flask crm`` commands of churn warning (流失预警): scoring the book, its weights, and the
backtest that tells a bank whether to trust them."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from crm.cli.terminal import fail
from crm.core.inputs import InvalidInput
from crm.extensions import db


@click.command("churn-score")
@with_appcontext
def churn_score_command():
    """Score every customer's churn risk and keep the history (the nightly job does the same)."""
    from crm.services.retention import scoring

    summary = scoring.score_all()
    db.session.commit()
    levels = ", ".join(f"{level} {summary.levels.get(level, 0)}" for level in _LEVELS)
    click.echo(f"Scored {summary.scored} customers ({levels}); {summary.changed} scores changed.")


_LEVELS = ("high", "medium", "low")


@click.command("churn-weights")
@click.option(
    "--set",
    "pairs",
    multiple=True,
    metavar="SIGNAL=WEIGHT",
    help="Change a signal's weight (a number from 0 to 100); repeat for several.",
)
@with_appcontext
def churn_weights_command(pairs: tuple[str, ...]):
    """Show the churn signals and their weights, or change some."""
    from crm.services.retention import signals

    if pairs:
        given = {}
        for pair in pairs:
            code, _, value = pair.partition("=")
            given[code.strip()] = value
        try:
            weights = signals.parse_weights(given)
        except InvalidInput as error:
            fail(error)
        signals.save_weights(None, weights)
        db.session.commit()
    for code, weight in signals.current_weights().items():
        click.echo(f"{code:<17} {weight:g}")


@click.command("churn-backtest")
@click.option("--as-of", "as_of", required=True, help="Score the book as it stood on this day.")
@click.option("--horizon-days", default="90", show_default=True, help="Days to look ahead.")
@with_appcontext
def churn_backtest_command(as_of: str, horizon_days: str):
    """Score the book as of a past day from history alone; compare with who then left."""
    from crm.services.retention import backtest

    try:
        day, horizon = backtest.read_request(as_of, horizon_days)
    except InvalidInput as error:
        fail(error)
    result = backtest.run_backtest(day, horizon)
    click.echo(
        f"As of {result.as_of.isoformat()}, {result.horizon_days} days ahead: "
        f"{result.customers} customers, {result.churned} left (marked lost or liquid assets "
        f"revised down by half); the top 10% is {result.top} customers."
    )
    click.echo(f"{'':<16} {'AUC':>6} {'precision@10%':>14} {'recall@10%':>11}")
    for name, ranking in (("churn score", result.score), ("recency only", result.recency)):
        auc = "   n/a" if ranking.auc is None else f"{ranking.auc:6.3f}"
        click.echo(f"{name:<16} {auc} {ranking.precision_top:>14.3f} {ranking.recall_top:>11.3f}")
