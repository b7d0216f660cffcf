"""Web forms of group events (一般活动, 高级活动): they parse and render; the rules are in
``crm.services.experiences``."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import Optional

from crm import labels
from crm.form_fields import DayField
from crm.forms import DomainForm, Form
from crm.models.enums import GROUP_TOUCHPOINTS


def _int_or_none(value):
    return None if value in (None, "", "None") else int(value)


def _id_text(value) -> str:
    """An id as a select submits it, unparsed: the domain says what is wrong with it."""
    return "" if value in (None, "None") else str(value)


APPROVAL_HINT = _l("Managers only: approve an invitation the matrix or the budget would refuse.")


class GroupEventForm(DomainForm):
    """A group event (一般活动, 高级活动): type, date, place, capacity and total cost."""

    category = SelectField(
        _l("Touchpoint"),
        choices=[SelectChoice(t.value, labels.TOUCHPOINT[t]) for t in GROUP_TOUCHPOINTS],
        validate_choice=False,  # the domain refuses other categories, in its own words
    )
    event_type = SelectField(
        _l("Event type"),
        choices=labels.choices(labels.EVENT_TYPE),
        validate_choice=False,
        description=_l("Each type suits some asset tiers; inviting others asks to confirm."),
    )
    title = StringField(_l("Title"), validators=[Optional()])
    held_on = DayField(_l("Date"), validators=[Optional()])
    place = StringField(_l("Place"), validators=[Optional()])
    capacity = StringField(_l("Capacity"), validators=[Optional()])
    total_cost = StringField(
        _l("Total cost (CNY)"),
        validators=[Optional()],
        description=_l("Shared equally by the guests who attend."),
    )
    branch_id = SelectField(_l("Branch"), coerce=_int_or_none, validate_choice=False)
    notes = TextAreaField(_l("Notes"), validators=[Optional()])

    def fill_choices(self, branches) -> None:
        self.branch_id.choices = [SelectChoice(b.id, b.name) for b in branches]


class InviteForm(DomainForm):
    """Invite one customer to a group event, by customer number (or picked from a search)."""

    customer_id = StringField(_l("Customer no."), validators=[Optional()])
    approval_reason = TextAreaField(
        _l("Approval reason"), validators=[Optional()], description=APPROVAL_HINT
    )
    # Set by the confirmation the page asks for when the event's type does not suit the tier.
    outside_tiers_confirmed = HiddenField()


class GuestListForm(DomainForm):
    """Invite every customer of a quadrant, a tag or an asset tier in one step."""

    quadrant = SelectField(
        _l("Quadrant"),
        choices=[SelectChoice("", "—"), *labels.choices(labels.QUADRANT)],
        validate_choice=False,
    )
    tag = StringField(_l("Tag"), validators=[Optional()])
    tier = SelectField(_l("Asset tier"), coerce=_id_text, validate_choice=False)
    approval_reason = TextAreaField(
        _l("Approval reason"), validators=[Optional()], description=APPROVAL_HINT
    )
    outside_tiers_confirmed = HiddenField()

    def fill_choices(self, tiers: list[tuple[int, str]]) -> None:
        self.tier.choices = [SelectChoice("", "—")] + [
            SelectChoice(str(n), text) for n, text in tiers
        ]


class CancelInvitationForm(Form):
    """The confirmation of cancelling an invitation: nothing but the button."""


class AttendanceForm(DomainForm):
    """Who came to a group event; the ticked customers arrive as ``attended`` values."""

    version = HiddenField()
