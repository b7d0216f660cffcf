"""Reports in the reader's language (Chinese by default, English on request).

A notebook's kernel has no request, so it cannot learn a language from a browser: the report
passes one in (``REPORT_LANG``) and ``speak`` forces it for the rest of the kernel's life,
inside an app context, so that the app's catalogue, its one table of labels
(``crm.labels``) and Babel's number and date formats all answer in it. Tables are shown with
every stored code (a cause, a channel, a quadrant, a direction…) replaced by its label and
every number formatted for the language; nothing else in a report decides how a code reads.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from flask_babel import force_locale, format_decimal, format_percent
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from crm import labels
from crm.core.dates import date_text

if TYPE_CHECKING:
    import pandas as pd

LANGUAGES = ("zh_CN", "en")
DEFAULT_LANGUAGE = "zh_CN"

# The codes of the tables a report shows, by the kind of thing they name.
CODES: dict[str, Mapping] = {
    "quadrant": labels.QUADRANT,
    "cause": labels.MOVE_CAUSE,
    "channel": labels.CHANNEL,
    "category": labels.TOUCHPOINT,
    "direction": labels.DIRECTION,
    "stage": labels.BRANCH_STAGE,
    "intent": labels.CALLBACK_INTENT,
    "product_type": labels.PRODUCT_TYPE,
    "metric": labels.METRIC,
    "arm": labels.ARM,
    "experiment_status": labels.EXPERIMENT_STATUS,
}

# Column and index names of the analytics frames, as a reader reads them.
COLUMNS = {
    "new": _l("New dossiers"),
    "total": _l("Total"),
    "from": _l("At the start"),
    "to": _l("At the end"),
    "branch": _l("Branch"),
    "owner": _l("Relationship manager"),
    "experiences": _l("Experiences held"),
    "cost": _l("Cost (CNY)"),
    "followed_up": _l("Followed by an upward move"),
    "share_up": _l("Share followed by an upward move"),
    "cost_per_up": _l("Cost per upward move (CNY)"),
    "direct_up": _l("Upward moves they caused"),
    "cost_per_direct_up": _l("Cost per upward move caused (CNY)"),
    "customers": _l("Customers"),
    "limit": _l("Limit per customer (CNY)"),
    "budget": _l("Budget (CNY)"),
    "used": _l("Used (CNY)"),
    "share_used": _l("Share used"),
    "median_share": _l("Median customer's share"),
    "near_limit": _l("Near the limit"),
    "at_limit": _l("At or over the limit"),
    "measure": _l("Measure"),
    "counted": _l("Counted"),
    "actual": _l("Actual (%)"),
    "target": _l("Target (%)"),
    "met": _l("Met"),
    "maturities": _l("Maturities"),
    "called": _l("Called back"),
    "participating": _l("Participating maturities"),
    "converted_to_policy": _l("Converted to a new policy"),
    "converted_to_deposit": _l("Converted to a deposit"),
    "universal_reached": _l("Universal life reached"),
    "universal_retained": _l("Universal life retained"),
    "complaints_answered": _l("Complaints answered"),
    "complaints_satisfied": _l("Answered to satisfaction"),
    "policy_conversion": _l("Policy conversion (%)"),
    "deposit_conversion": _l("Deposit conversion (%)"),
    "universal_retention": _l("Universal-life retention (%)"),
    "satisfaction": _l("Satisfaction (%)"),
    "days_owed": _l("Days with call-backs owed"),
    "days_met": _l("Days the quota was met"),
    "share_met": _l("Share of days met"),
    "per_day_owed": _l("Recorded per day owed"),
    "recorded": _l("Recorded"),
    "owed": _l("Owed"),
    "opened": _l("Opened"),
    "answered": _l("Answered"),
    "on_time": _l("On time"),
    "late": _l("Late"),
    "open": _l("Still open"),
    "overdue": _l("Overdue"),
    "share_on_time": _l("Share on time"),
    "median_days": _l("Median days to an answer"),
    "sla_days": _l("Days allowed"),
    "all": _l("All"),
    "cause": _l("Cause of the move"),
    "direction": _l("Direction"),
    # Holdout experiments (analytics.experiments).
    "id": _l("Number"),
    "experiment": _l("Experiment name"),
    "arm": _l("Arm"),
    "horizon_end": _l("Horizon reached on"),
    "mean": _l("Mean or share"),
    "cost_per_customer": _l("Cost per customer (CNY)"),
    "difference": _l("Difference, treatment − holdout"),
    "low": _l("Low (95%)"),
    "high": _l("High (95%)"),
    "uplift_per_10k": _l("Uplift per ¥10,000"),
    "uplift_low": _l("Uplift, low (95%)"),
    "uplift_high": _l("Uplift, high (95%)"),
    "secondary": _l("Secondary metric"),
    "standardised_difference": _l("Standardised difference"),
    "covariate": _l("Covariate"),
    "age": _l("Age (years)"),
}


class UnknownLanguage(ValueError):
    """A language the reports are not written in."""


def _missing(value) -> bool:
    """None, or a frame's missing value (NaN, NaT, NA). pandas is imported here, not with the
    module: the web workers import this module for the report pages and never call it."""
    import pandas as pd

    return value is None or (not isinstance(value, str) and bool(pd.isna(value)))


def language_of(tag: str | None) -> str:
    """The report language a tag names (``zh``, ``zh_CN``, ``en``, ``en-GB``…); empty: the
    default. Anything else raises ``UnknownLanguage``."""
    if not tag:
        return DEFAULT_LANGUAGE
    wanted = tag.replace("-", "_").strip().lower()
    if wanted.startswith("zh"):
        return "zh_CN"
    if wanted == "en" or wanted.startswith("en_"):
        return "en"
    raise UnknownLanguage(tag)


@dataclass
class Words:
    """What a report says and how it writes numbers, in one language (made by ``speak``)."""

    language: str
    _held: ExitStack = field(default_factory=ExitStack, repr=False)

    def __call__(self, text: str, **values) -> str:
        return _(text, **values)

    def label(self, kind: str, code) -> str:
        """A stored code by its label (the code itself where the table has none)."""
        if _missing(code):
            return "—"
        value = getattr(code, "value", code)
        table = CODES.get(kind, {})
        for key, text in table.items():
            if getattr(key, "value", key) == value:
                return str(text)
        if value in COLUMNS:
            return str(COLUMNS[value])
        return str(value)

    def column(self, name) -> str:
        """A column's or a row's name: a code of any kind by its label, a frame's column by
        its heading, anything else (a branch's or a person's name) as it is."""
        if _missing(name):
            return "—"
        value = getattr(name, "value", name)
        for table in CODES.values():
            for key, text in table.items():
                if getattr(key, "value", key) == value:
                    return str(text)
        if value in COLUMNS:
            return str(COLUMNS[value])
        return str(labels.FIELD.get(value, value))

    def md(self, text: str, **values) -> None:
        """Show ``text`` (Markdown, in English in the notebook) in the report's language."""
        from IPython.display import Markdown, display

        display(Markdown(_(text, **values)))

    def note(self, sentence: str) -> None:
        """Show a sentence already in the report's language, set apart."""
        from IPython.display import Markdown, display

        display(Markdown(f"> {sentence}"))

    def number(self, value, digits: int = 0) -> str:
        if _missing(value):
            return "—"
        pattern = "#,##0" + ("." + "0" * digits if digits else "")
        return format_decimal(value, pattern)

    def percent(self, value, digits: int = 1) -> str:
        if _missing(value):
            return "—"
        return format_percent(value, "#,##0." + "0" * digits + "%")

    def day(self, value) -> str:
        return date_text(value)

    def period(self, start: date, end: date) -> str:
        return _("%(start)s to %(end)s", start=date_text(start), end=date_text(end))

    def yes_no(self, value) -> str:
        if _missing(value):
            return "—"
        return _("Yes") if value else _("No")

    def table(
        self,
        frame: pd.DataFrame,
        *,
        index: str | None = None,
        columns: str | None = None,
        percent: Iterable[str] = (),
        money: Iterable[str] = (),
        decimals: Iterable[str] = (),
        yes_no: Iterable[str] = (),
    ) -> pd.DataFrame:
        """``frame`` as a reader sees it: codes of the index (of kind ``index``) and columns
        (of kind ``columns``) by their labels, column names translated, numbers formatted
        (shares as percentages, money and other decimals with two places)."""
        import pandas as pd

        shown = pd.DataFrame(index=frame.index)
        for name in frame.columns:
            values = frame[name]
            if name in set(percent):
                shown[name] = [self.percent(v) for v in values]
            elif name in set(money) or name in set(decimals):
                shown[name] = [self.number(v, 2) for v in values]
            elif name in set(yes_no):
                shown[name] = [self.yes_no(v) for v in values]
            elif pd.api.types.is_numeric_dtype(values.dtype):
                shown[name] = [self.number(v) for v in values]
            else:
                shown[name] = [self.column(v) for v in values]
        shown.index = [self._name(index, i) for i in frame.index]
        shown.columns = [self._name(columns, c) for c in frame.columns]
        named = frame.index.name and frame.index.name != "all"
        shown.index.name = self.column(frame.index.name) if named else None
        return shown

    def _name(self, kind: str | None, code) -> str:
        if isinstance(code, tuple):
            return " · ".join(self._name(kind, c) for c in code)
        return self.label(kind, code) if kind else self.column(code)

    def close(self) -> None:
        self._held.close()


def speak(source, language: str | None) -> Words:
    """Force ``language`` (see ``language_of``) on everything the kernel says from now on:
    an app context of the report's app stays pushed with the locale forced."""
    chosen = language_of(language)
    words = Words(chosen)
    words._held.enter_context(source.app.app_context())
    words._held.enter_context(force_locale(chosen))
    return words
