"""What a report covers: one branch's customers, and whether the data can answer its period.

A report for a branch counts the customers who belong to it now (as every split by branch
does). A period the data cannot answer is said in a sentence instead of a table of zeros:
one that starts before the first dossier of the bank (or branch) was opened, where nobody's
quadrant on the eve of the period is known, and one in which nothing happened.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
from flask_babel import gettext as _

from crm.core.dates import date_text


def in_branch(frame: pd.DataFrame, customers: pd.DataFrame, branch: str | None) -> pd.DataFrame:
    """The rows of ``frame`` about the customers of ``branch`` (all rows for None): by its
    ``branch`` column where it has one, else by its ``customer``."""
    if not branch:
        return frame
    if "branch" in frame.columns:
        return frame.loc[frame["branch"] == branch].reset_index(drop=True)
    members = customers.loc[customers["branch"] == branch, "customer"]
    return frame.loc[frame["customer"].isin(set(members))].reset_index(drop=True)


def first_dossier_day(events: pd.DataFrame) -> date | None:
    """The day the first dossier among these events was opened (its first placement)."""
    if events.empty:
        return None
    return events["at"].min().date()


def before_the_data(events: pd.DataFrame, start: date) -> str | None:
    """A sentence when the period starts before the first dossier was opened, else None."""
    first = first_dossier_day(events)
    if first is None:
        return _("There are no dossiers yet: the data cannot answer for any period.")
    if start < first:
        return _(
            "The period starts on %(start)s, before the first dossier was opened on "
            "%(first)s: where customers stood then is not known. Choose a period from "
            "%(first)s on.",
            start=date_text(start),
            first=date_text(first),
        )
    return None


def nothing_happened(count: int, what: str) -> str | None:
    """A sentence when nothing of ``what`` (already in the reader's language) happened in
    the period, else None."""
    if count:
        return None
    return _("Nothing to report for this period: %(what)s.", what=what)
