"""``flask crm ...``: the command-line face of the same domain functions.

The commands live by subject in the modules beside this one; the group gathers them.
Commands import what only they need inside themselves, so that ``flask`` starts quickly.
"""

from __future__ import annotations

import click

from crm.cli import (
    advice,
    backups,
    dashboard,
    data,
    experiments,
    followup_sheets,
    people,
    planning,
    reports,
    retention,
    sharing,
    team,
)

crm_group = click.Group(
    "crm",
    help="Bancassurance CRM administration.",
    commands=[
        people.create_user,
        people.create_branch,
        people.api_token_group,
        data.demo_command,
        data.demo_logins,
        data.simulate_command,
        data.import_command,
        planning.settings_command,
        planning.retier_command,
        planning.plan_command,
        planning.maturity_scan_command,
        planning.scheduler_command,
        retention.churn_score_command,
        retention.churn_weights_command,
        retention.churn_backtest_command,
        advice.effect_history_command,
        reports.report_group,
        experiments.experiment_group,
        sharing.share_group,
        backups.backup_command,
        backups.restore_command,
        team.handover_command,
        dashboard.dashboard_months_command,
    ],
)

# Seed 003's sheets join the report group beside the analytics reports.
reports.report_group.add_command(followup_sheets.callbacks_command)
reports.report_group.add_command(followup_sheets.complaints_command)
