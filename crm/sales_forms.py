"""Web forms of the pipeline (商机): they parse and render; the rules are in
``crm.services.sales`` and, for a sale, the policy service."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Optional

from crm import labels
from crm.form_fields import DayField, product_choices
from crm.forms import DomainForm


def _id_text(value) -> str:
    """An id as a select submits it, unparsed: the domain says what is wrong with it."""
    return "" if value in (None, "None") else str(value)


class OpportunityForm(DomainForm):
    product_id = SelectField(_l("Shelf product"), coerce=_id_text, validate_choice=False)
    # Text, read by the domain's one parser, so that a refused value comes back as typed.
    expected_premium = StringField(_l("Expected premium (CNY)"), validators=[InputRequired()])
    payment_mode = SelectField(_l("Payment"), choices=labels.choices(labels.PAYMENT_MODE))
    expected_close_on = DayField(_l("Expected close date"), validators=[InputRequired()])
    source = SelectField(
        _l("Source"), choices=labels.choices(labels.OPPORTUNITY_SOURCE), default="other"
    )
    experience_id = HiddenField()
    callback_id = HiddenField()
    group_event_id = HiddenField()
    notes = TextAreaField(_l("Notes"), validators=[Optional()])
    version = HiddenField()

    def fill_products(self, offered) -> None:
        """The shelf as ``suitability.offered`` lists it: unsuitable products disabled."""
        self.product_id.choices = product_choices(offered)


class MoveForm(DomainForm):
    """One action on a card: the next stage (advance) or lost, with a reason."""

    lost_reason = StringField(_l("Why it was not made"), validators=[Optional()])
    version = HiddenField()


class WinForm(DomainForm):
    """The sale (成交): the policy recorded through the policy service's rules."""

    policy_number = StringField(_l("Policy number"), validators=[InputRequired()])
    premium = StringField(_l("Premium (CNY)"), validators=[InputRequired()])
    payment_mode = SelectField(_l("Payment"), choices=labels.choices(labels.PAYMENT_MODE))
    start_date = DayField(_l("Start date"), validators=[InputRequired()])
    maturity_date = DayField(_l("Maturity date"), validators=[Optional()])
    dual_recording_ref = StringField(_l("Dual-recording reference"), validators=[Optional()])
    returns_notice_shown = BooleanField(_l("Shown that the illustrated returns are hypothetical"))
    risk_acknowledged = BooleanField(_l("The customer acknowledged the product's risk"))
    version = HiddenField()


class ProbabilityForm(DomainForm):
    lead = StringField(_l("Lead (%)"), validators=[InputRequired()])
    needs = StringField(_l("Needs analysis (%)"), validators=[InputRequired()])
    proposal = StringField(_l("Proposal (%)"), validators=[InputRequired()])
    closing = StringField(_l("Closing (%)"), validators=[InputRequired()])
