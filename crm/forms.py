"""Web forms. They parse and render; the rules themselves live in ``crm.services``."""

from __future__ import annotations

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Optional

from crm import labels
from crm.core.inputs import InvalidInput
from crm.form_fields import DayField, LocalTimeField
from crm.models.customer import DEFAULT_RISK_LEVEL, DEFAULT_WILLINGNESS
from crm.models.enums import ExperienceStatus


class Form(FlaskForm):
    """Every form of the app. WTForms' own messages ("This field is required.") come in the
    request's language from translations loaded once per language, not once per request as
    Flask-WTF would (``WTF_I18N_ENABLED`` is off in ``config.py``)."""

    class Meta:
        cache_translations = True

        @property
        def locales(self) -> list[str]:
            return [str(get_locale())]


class DomainForm(Form):
    """A form whose values go to a domain function, which may answer with field errors."""

    def domain_data(self) -> dict:
        return {
            name: field.data
            for name, field in self._fields.items()
            if name not in ("csrf_token", "version")
        }

    def show(self, error: InvalidInput) -> None:
        """Put the domain's messages under the fields they belong to."""
        for field, message in error.errors.items():
            target = self._fields.get(field)
            if target is None:
                self.form_errors.append(message)
            else:
                target.errors = (
                    [*target.errors, message] if isinstance(target.errors, list) else [message]
                )


def _int_or_none(value):
    if value in (None, "", "None"):
        return None
    return int(value)


def _id_text(value) -> str:
    """An id as a select submits it, unparsed: the domain says what is wrong with it."""
    return "" if value in (None, "None") else str(value)


class CustomerForm(DomainForm):
    name = StringField(_l("Name"), validators=[InputRequired()])
    gender = SelectField(_l("Gender"), choices=labels.choices(labels.GENDER), default="unspecified")
    birth_date = DayField(_l("Birth date"), validators=[Optional()])
    birthday_is_lunar = BooleanField(_l("Keeps the birthday by the lunar calendar"))
    lunar_birthday = StringField(
        _l("Lunar birthday"),
        validators=[Optional()],
        description=_l("Month-day, e.g. 8-15; a leap month as 闰4-12. Empty: from the birth date."),
    )
    # Optional here: a new dossier needs one (the domain says so), an edit may leave it empty.
    phone = StringField(_l("Mobile phone"), validators=[Optional()])
    email = StringField(_l("E-mail"), validators=[Optional()])
    occupation = StringField(_l("Occupation"), validators=[Optional()])
    family_notes = TextAreaField(_l("Family"), validators=[Optional()])
    interests_notes = TextAreaField(_l("Interests"), validators=[Optional()])
    tags = StringField(
        _l("Tags"), validators=[Optional()], description=_l("Separate tags with commas.")
    )
    # Amounts are text here, read by the domain's one parser (``inputs.parse_amount``), so a
    # refused value comes back as it was typed.
    liquid_assets = StringField(
        _l("Liquid assets (CNY)"), validators=[InputRequired()], default="0.00"
    )
    assets_as_of = DayField(_l("Assets as of"), validators=[Optional()])
    willingness = IntegerField(
        _l("Willingness (0–100)"),
        validators=[InputRequired()],
        default=DEFAULT_WILLINGNESS,
        description=_l(
            "0–19 stranger · 20–39 acquainted · 40–59 familiar · 60–79 trusting · 80–100 advocate"
        ),
    )
    risk_level = SelectField(
        _l("Risk level"),
        choices=labels.choices(labels.RISK_LEVEL),
        default=DEFAULT_RISK_LEVEL.value,
    )
    channel = SelectField(
        _l("Acquisition channel"),
        choices=[SelectChoice("", "—"), *labels.choices(labels.CHANNEL)],
        default="",
    )
    referred_by_id = IntegerField(_l("Referred by (customer no.)"), validators=[Optional()])
    owner_id = SelectField(_l("Owner"), coerce=_int_or_none, validate_choice=False)
    branch_id = SelectField(_l("Branch"), coerce=_int_or_none, validate_choice=False)
    sms_consent = BooleanField(_l("Agrees to receive marketing SMS"))
    notes = TextAreaField(_l("Notes"), validators=[Optional()])
    version = HiddenField()

    def fill_choices(self, owners, branches) -> None:
        self.owner_id.choices = [SelectChoice(s.id, s.display_name) for s in owners]
        self.branch_id.choices = [SelectChoice(b.id, b.name) for b in branches]


class PolicyForm(DomainForm):
    policy_number = StringField(_l("Policy number"), validators=[InputRequired()])
    # A sale of a shelf product is checked against the customer's risk level (适当性).
    product_id = SelectField(
        _l("Shelf product"),
        coerce=_id_text,
        validate_choice=False,  # the domain refuses unknown and unsuitable products
        description=_l("Optional: a product on the shelf; its name and type are then taken."),
    )
    # Optional here: the domain asks for it when no shelf product names the policy.
    product_name = StringField(_l("Product"), validators=[Optional()])
    product_type = SelectField(_l("Product type"), choices=labels.choices(labels.PRODUCT_TYPE))
    premium = StringField(_l("Premium (CNY)"), validators=[InputRequired()])
    payment_mode = SelectField(_l("Payment"), choices=labels.choices(labels.PAYMENT_MODE))
    start_date = DayField(_l("Start date"), validators=[InputRequired()])
    maturity_date = DayField(_l("Maturity date"), validators=[Optional()])
    status = SelectField(_l("Status"), choices=labels.choices(labels.POLICY_STATUS))
    dual_recording_ref = StringField(_l("Dual-recording reference"), validators=[Optional()])
    returns_notice_shown = BooleanField(_l("Shown that the illustrated returns are hypothetical"))
    risk_acknowledged = BooleanField(_l("The customer acknowledged the product's risk"))
    version = HiddenField()


class LoginForm(Form):
    username = StringField(_l("Username"), validators=[InputRequired()])
    password = PasswordField(_l("Password"), validators=[InputRequired()])


class StaffForm(DomainForm):
    username = StringField(_l("Username"), validators=[InputRequired()])
    display_name = StringField(_l("Display name"), validators=[Optional()])
    role = SelectField(_l("Role"), choices=labels.choices(labels.ROLE))
    branch_id = SelectField(_l("Branch"), coerce=_int_or_none, validate_choice=False)
    language = SelectField(
        _l("Language"),
        choices=[SelectChoice("", _l("Browser's language")), *labels.choices(labels.LANGUAGE)],
        validate_choice=False,  # the domain checks it, and an absent value means "browser's"
    )
    password = PasswordField(
        _l("Password"), description=_l("Leave empty to keep the current password.")
    )
    is_active_account = BooleanField(_l("Active"), default=True)
    # Where the staff member's reminders also go, besides the notifications page.
    phone = StringField(_l("Mobile phone"), validators=[Optional()])
    email = StringField(_l("E-mail"), validators=[Optional()])
    notify_by_sms = BooleanField(_l("Reminders by SMS"))
    notify_by_email = BooleanField(_l("Reminders by e-mail"))


class BranchForm(DomainForm):
    name = StringField(_l("Branch name"), validators=[InputRequired()])
    stage = SelectField(_l("Lifecycle stage"), choices=labels.choices(labels.BRANCH_STAGE))


class ReassessForm(DomainForm):
    """Staff re-assess willingness (意愿) directly, saying why."""

    willingness = IntegerField(_l("New willingness (0–100)"), validators=[InputRequired()])
    reason = TextAreaField(_l("Reason"), validators=[Optional()])
    version = HiddenField()


class RelationshipForm(DomainForm):
    """The relationship status (客户关系状态); lost (流失) with a reason and a date."""

    relationship_status = SelectField(
        _l("Relationship status"),
        choices=labels.choices(labels.RELATIONSHIP_STATUS),
        validate_choice=False,
    )
    lost_reason = SelectField(
        _l("Reason lost"),
        choices=[SelectChoice("", "—"), *labels.choices(labels.LOST_REASON)],
        validate_choice=False,
    )
    lost_on = StringField(_l("Lost on"), validators=[Optional()])
    version = HiddenField()


class ThresholdsForm(DomainForm):
    capability_threshold = StringField(
        _l("Capability threshold (CNY)"),
        validators=[InputRequired()],
        description=_l("Liquid assets at or above this are high capability."),
    )
    willingness_threshold = StringField(
        _l("Willingness threshold"),
        validators=[InputRequired()],
        description=_l("A willingness score at or above this is high willingness."),
    )


class ExperienceForm(DomainForm):
    """Staff plan one experience for a customer (a manager may approve one over the rules)."""

    category = SelectField(_l("Touchpoint"), choices=labels.choices(labels.TOUCHPOINT))
    due_on = DayField(_l("Due"), validators=[InputRequired()])
    planned_cost = StringField(
        _l("Planned cost (CNY)"),
        validators=[Optional()],
        description=_l("Leave empty for the category's unit cost."),
    )
    notes = TextAreaField(_l("Notes"), validators=[Optional()])
    approval_reason = TextAreaField(
        _l("Approval reason"),
        validators=[Optional()],
        description=_l("Managers only: approve a plan the matrix or the budget would refuse."),
    )
    holdout_confirmed = BooleanField(_l("Plan anyway"))  # shown once a holdout is warned of


class ApprovalRequestForm(ExperienceForm):
    """Staff ask a branch manager to approve a plan the matrix or the budget refused."""

    approval_reason = None
    reason = TextAreaField(
        _l("Why the customer should have it"),
        validators=[Optional()],
        description=_l("Your branch's managers read this before they decide."),
    )


class ApprovalDecisionForm(DomainForm):
    """A manager approves or declines a request (a reason: required to decline)."""

    decision_reason = TextAreaField(_l("Your reason"), validators=[Optional()])


class RecordForm(DomainForm):
    """How an experience went (体验记录) and the dossier revision (档案修正) made with it."""

    outcome = SelectField(
        _l("Outcome"),
        choices=[
            SelectChoice(s.value, labels.EXPERIENCE_STATUS[s])
            for s in (ExperienceStatus.DONE, ExperienceStatus.NO_SHOW, ExperienceStatus.CANCELLED)
        ],
        validate_choice=False,  # the domain says what is wrong, in the same words everywhere
    )
    held_on = DayField(_l("Held on"), validators=[Optional()])
    response = SelectField(
        _l("Customer response"),
        choices=[SelectChoice("", "—"), *labels.choices(labels.RESPONSE)],
        validate_choice=False,
    )
    actual_cost = StringField(
        _l("Actual cost (CNY)"),
        validators=[Optional()],
        description=_l("Leave empty for the planned cost."),
    )
    notes = TextAreaField(_l("Notes"), validators=[Optional()])
    liquid_assets = StringField(_l("Liquid assets (CNY)"), validators=[Optional()])
    willingness = StringField(
        _l("Willingness (0–100)"),
        validators=[Optional()],
        description=_l("Leave empty to move it by the response; or enter your own judgement."),
    )
    # A product recommended while the experience was held, within the customer's risk level.
    product_id = SelectField(_l("Recommended product"), coerce=_id_text, validate_choice=False)
    customer_version = HiddenField()
    version = HiddenField()

    def domain_data(self) -> dict:
        data = super().domain_data()
        data.pop("customer_version", None)
        return data


def _yes_no_choices() -> list[SelectChoice]:
    return [SelectChoice("", "—"), SelectChoice("no", _l("No")), SelectChoice("yes", _l("Yes"))]


class CallbackForm(DomainForm):
    """A maturity call-back (有效回访统计表): what the customer means to do, and notes."""

    intent = SelectField(
        _l("Customer intent"),
        choices=[SelectChoice("", "—"), *labels.choices(labels.CALLBACK_INTENT)],
        validate_choice=False,  # the domain says what is wrong, in the same words everywhere
    )
    maturity_note = TextAreaField(_l("Maturity note"), validators=[Optional()])
    conversion_note = TextAreaField(_l("Conversion note"), validators=[Optional()])
    product_id = SelectField(
        _l("Recommended product"),
        coerce=_id_text,
        validate_choice=False,
        description=_l("Only products within the customer's risk level are offered."),
    )
    remarks = TextAreaField(_l("Remarks"), validators=[Optional()])
    version = HiddenField()


class ComplaintForm(DomainForm):
    """A complaint comes in (投诉要点); the answer is due within the SLA."""

    point = TextAreaField(_l("Complaint point"), validators=[Optional()])
    opened_at = LocalTimeField(
        _l("Opened at"),
        validators=[Optional()],
        description=_l("Leave empty for now."),
    )

    def domain_data(self) -> dict:
        return {"point": self.point.data, "opened_at": self.opened_at.utc()}


class AnswerForm(DomainForm):
    """The definite answer to a complaint (处理意见, 是否非常规退保, 是否满意)."""

    handling_opinion = TextAreaField(_l("Handling opinion"), validators=[Optional()])
    non_routine_surrender = SelectField(
        _l("Ended in a non-routine surrender"),
        choices=_yes_no_choices(),
        validate_choice=False,
    )
    satisfied = SelectField(
        _l("Customer satisfied"), choices=_yes_no_choices(), validate_choice=False
    )
    answered_at = LocalTimeField(
        _l("Answered at"),
        validators=[Optional()],
        description=_l("Leave empty for now."),
    )
    version = HiddenField()

    def domain_data(self) -> dict:
        data = super().domain_data()
        data["answered_at"] = self.answered_at.utc()
        return data
