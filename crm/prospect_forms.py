"""Web forms of prospects (潜在客户): they parse and render; the rules are in
``crm.services.sales``."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, IntegerField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Optional

from crm import labels
from crm.forms import CustomerForm, DomainForm


def _id_text(value) -> str:
    """An id as a select submits it, unparsed: the domain says what is wrong with it."""
    return "" if value in (None, "None") else str(value)


class ProspectForm(DomainForm):
    name = StringField(_l("Name"), validators=[InputRequired()])
    # Optional here: a new prospect needs one (the domain says so), an edit may leave it empty.
    phone = StringField(_l("Mobile phone"), validators=[Optional()])
    channel = SelectField(
        _l("Acquisition channel"),
        choices=[SelectChoice("", "—"), *labels.choices(labels.CHANNEL)],
        validate_choice=False,
    )
    group_event_id = SelectField(_l("Came from the event"), coerce=_id_text, validate_choice=False)
    referred_by_id = IntegerField(_l("Referred by (customer no.)"), validators=[Optional()])
    owner_id = SelectField(_l("Owner"), coerce=_id_text, validate_choice=False)
    notes = TextAreaField(_l("Notes"), validators=[Optional()])
    version = HiddenField()

    def fill_choices(self, owners, events) -> None:
        self.owner_id.choices = [SelectChoice(str(s.id), s.display_name) for s in owners]
        self.group_event_id.choices = [SelectChoice("", "—")] + [
            SelectChoice(str(e.id), f"{e.title} · {e.held_on.isoformat()}") for e in events
        ]


class MoveForm(DomainForm):
    """A status move: one step on, discard (with a reason) or reopen."""

    status = HiddenField()
    discard_reason = TextAreaField(_l("Why is it discarded?"), validators=[Optional()])
    version = HiddenField()


class ConvertForm(CustomerForm):
    """The dossier opened from a prospect: the dossier's own form, its phone the prospect's."""

    prospect_version = HiddenField()

    def domain_data(self) -> dict:
        data = super().domain_data()
        for field in ("phone", "prospect_version"):
            data.pop(field, None)
        return data


class WalkInForm(DomainForm):
    # Not "guests": the event page has a section of that id.
    walk_in_guests = TextAreaField(
        _l("Names and mobile numbers"),
        validators=[InputRequired()],
        description=_l("One guest a line: a name and a mobile number, e.g. 王敏 13912345678."),
    )
