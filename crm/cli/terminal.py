"""What the commands share on the terminal: refused input, and progress bars."""

from __future__ import annotations

import sys

import click
from flask_babel import gettext as _

from crm import labels
from crm.core.inputs import InvalidInput
from crm.extensions import db


def fail(error: InvalidInput) -> None:
    """Say what was refused, field by field, and exit with status 2 (nothing written)."""
    db.session.rollback()
    for field, message in error.errors.items():
        label = labels.FIELD.get(field, field)
        click.echo(_("%(label)s: %(text)s", label=label, text=message), err=True)
    raise SystemExit(2)


def with_progress(label: str, run):
    """Run ``run(progress)`` under a progress bar that ``progress(done, total)`` moves; on a
    terminal only (in a log the bar would be a bare label line)."""
    hidden = not sys.stdout.isatty()
    with click.progressbar(length=1, label=label, show_pos=False, hidden=hidden) as bar:
        state = {"done": 0}

        def progress(done: int, total: int) -> None:
            bar.length = max(total, 1)
            bar.update(done - state["done"])
            state["done"] = done

        return run(progress)
