"""What every form handler does alike: read the version a form was begun on, and answer an
edit that someone else's save overtook (``revisions.StaleDossier``)."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from crm.extensions import db


def version_of(value: Any) -> int:
    """The version a form says it was begun on; unknown counts as stale, so that the user
    sees what is current."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1


def refuse_stale(form, message: str | None = None, then: str | None = None, **records) -> None:
    """Someone else saved first: nothing of this edit is kept, the form keeps what the user
    typed, with the page's ``message`` and what to do next (``then``, by default "Check the
    current values and save again."), and its version fields (``version=experience``,
    ``customer_version=customer``) are set to the records' current versions, so that saving
    again applies the user's input knowingly."""
    db.session.rollback()
    if message is not None:
        form.form_errors.append(
            message + " " + (then or _("Check the current values and save again."))
        )
    for field, record in records.items():
        form[field].data = record.version  # read anew: the rollback expired it
