"""What each stored key is called in the user's language (the glossary's terms)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext as pgettext_l
from wtforms import SelectChoice

from crm.models.enums import (
    BranchStage,
    CallbackIntent,
    Channel,
    ChurnLevel,
    CostLevel,
    EventType,
    ExperienceStatus,
    Gender,
    LostReason,
    Mark,
    MoveCause,
    OpportunitySource,
    PaymentMode,
    PlanOrigin,
    PolicyStatus,
    ProductType,
    ProspectStatus,
    Quadrant,
    RelationshipStatus,
    Response,
    RiskLevel,
    Role,
    SalesStage,
    Touchpoint,
)
from crm.models.experiment import Arm, ExperimentStatus, Metric

BRANCH_STAGE = {
    BranchStage.STARTUP: _l("Start-up"),
    BranchStage.GROWTH: _l("Growth"),
    BranchStage.MATURE: _l("Mature"),
    BranchStage.ADJUSTMENT: _l("Adjustment"),
    BranchStage.DECLINE: _l("Decline"),
}
ROLE = {
    Role.STAFF: _l("Relationship manager"),
    Role.MANAGER: _l("Manager"),
    Role.ADMIN: _l("Administrator"),
}
GENDER = {Gender.FEMALE: _l("Female"), Gender.MALE: _l("Male"), Gender.UNSPECIFIED: _l("Not given")}
RISK_LEVEL = {
    RiskLevel.R1: _l("R1 conservative"),
    RiskLevel.R2: _l("R2 cautious"),
    RiskLevel.R3: _l("R3 balanced"),
    RiskLevel.R4: _l("R4 growth"),
    RiskLevel.R5: _l("R5 aggressive"),
}
CHANNEL = {
    Channel.BANK_MANAGER_CLIENT: _l("Bank: wealth manager's or branch head's client"),
    Channel.PRIVATE_BANKING: _l("Bank: wealth and private banking"),
    Channel.CORPORATE: _l("Bank: corporate client"),
    Channel.BRANCH_STAFF: _l("Bank: branch staff"),
    Channel.OTHER_FINANCIAL: _l("Other financial institution"),
    Channel.NON_FINANCIAL: _l("Non-financial partner"),
    Channel.OWN_NETWORK: _l("Own network"),
    Channel.PRODUCT_BUYER: _l("Product buyer"),
    Channel.REFERRAL: _l("Referral"),
    Channel.COLD_VISIT: _l("Cold visit"),
    Channel.EVENT: _l("Event"),
    Channel.SURVEY: _l("Survey"),
    Channel.RESOURCE_EXCHANGE: _l("Resource exchange"),
}
PRODUCT_TYPE = {
    ProductType.PROTECTION: _l("Protection"),
    ProductType.PARTICIPATING: _l("Participating"),
    ProductType.UNIVERSAL: _l("Universal life"),
    ProductType.ANNUITY: _l("Annuity"),
    ProductType.WHOLE_LIFE: _l("Whole life"),
    ProductType.CRITICAL_ILLNESS: _l("Critical illness"),
    ProductType.MEDICAL: _l("Medical"),
    ProductType.ACCIDENT: _l("Accident"),
    ProductType.INVESTMENT_LINKED: _l("Investment-linked"),
    ProductType.DEPOSIT: _l("Deposit"),
}
PAYMENT_MODE = {
    PaymentMode.REGULAR: _l("Regular premium"),
    PaymentMode.SINGLE: _l("Single premium"),
}
SALES_STAGE = {
    SalesStage.LEAD: pgettext_l("sales stage", "Lead"),
    SalesStage.NEEDS: pgettext_l("sales stage", "Needs analysis"),
    SalesStage.PROPOSAL: pgettext_l("sales stage", "Proposal"),
    SalesStage.CLOSING: pgettext_l("sales stage", "Closing"),
    SalesStage.WON: pgettext_l("sales stage", "Won"),
    SalesStage.LOST: pgettext_l("sales stage", "Lost"),
}
OPPORTUNITY_SOURCE = {
    OpportunitySource.EXPERIENCE: _l("An experience"),
    OpportunitySource.CALLBACK: _l("A maturity call-back"),
    OpportunitySource.REFERRAL: _l("A referral"),
    OpportunitySource.EVENT: _l("An event"),
    OpportunitySource.OTHER: _l("Other"),
}
POLICY_STATUS = {
    PolicyStatus.IN_FORCE: _l("In force"),
    PolicyStatus.MATURED: _l("Matured"),
    PolicyStatus.SURRENDERED: _l("Surrendered"),
    PolicyStatus.LAPSED: _l("Lapsed"),
}
LANGUAGE = {"zh_CN": "中文", "en": "English"}
QUADRANT = {
    Quadrant.DEVELOP: _l("Develop"),
    Quadrant.MAINTAIN: _l("Maintain"),
    Quadrant.CULTIVATE: _l("Cultivate"),
    Quadrant.PAMPER: _l("Pamper"),
}
MOVE_CAUSE = {
    MoveCause.DOSSIER_EDIT: _l("Dossier revision"),
    MoveCause.EXPERIENCE: _l("Experience"),
    MoveCause.REASSESSMENT: _l("Willingness re-assessment"),
    MoveCause.COMPLAINT: _l("Complaint"),
    MoveCause.REFERRAL: _l("Referral given"),
    MoveCause.THRESHOLD_CHANGE: _l("Threshold change"),
    MoveCause.IMPORT: _l("Import"),
}
# How a move between quadrants goes (analytics.quadrants.direction).
DIRECTION = {
    "up": _l("Upward"),
    "down": _l("Downward"),
    "lateral": _l("Lateral"),
}
TOUCHPOINT = {
    Touchpoint.ROUTINE: _l("Routine service"),
    Touchpoint.VISIT: _l("Periodic visit"),
    Touchpoint.EVENT: _l("General event"),
    Touchpoint.PREMIUM_EVENT: _l("Premium event"),
    Touchpoint.LIFESTYLE: _l("Lifestyle service"),
    Touchpoint.BESPOKE: _l("Bespoke service"),
}
EVENT_TYPE = {
    EventType.SALON: _l("Mini salon"),
    EventType.APPRECIATION: _l("Customer appreciation"),
    EventType.PRIVATE_BOARD: _l("Private board"),
    EventType.LEGACY_LECTURE: _l("Wealth-inheritance lecture"),
}
MARK = {
    Mark.STRATEGIC: _l("☆ strategic"),
    Mark.SHOULD: _l("√ should"),
    Mark.DISCRETIONARY: _l("◎ discretionary"),
    Mark.NEVER: _l("× never"),
}
COST_LEVEL = {
    CostLevel.VERY_LOW: _l("very low"),
    CostLevel.LOW: _l("low"),
    CostLevel.MEDIUM: _l("medium"),
    CostLevel.HIGH: _l("high"),
    CostLevel.VERY_HIGH: _l("very high"),
    CostLevel.EXTREME: _l("extremely high"),
}
EXPERIENCE_STATUS = {
    ExperienceStatus.PLANNED: _l("Planned"),
    ExperienceStatus.DONE: _l("Done"),
    ExperienceStatus.NO_SHOW: _l("No-show"),
    ExperienceStatus.CANCELLED: _l("Cancelled"),
}
RESPONSE = {
    Response.ENTHUSIASTIC: _l("Enthusiastic"),
    Response.POSITIVE: _l("Positive"),
    Response.NEUTRAL: _l("Neutral"),
    Response.NEGATIVE: _l("Negative"),
    Response.NO_RESPONSE: _l("No response"),
}
PLAN_ORIGIN = {
    PlanOrigin.CADENCE: _l("Cadence"),
    PlanOrigin.STAFF: _l("Staff"),
    PlanOrigin.EVENT: _l("Event invitation"),
}
CALLBACK_INTENT = {
    CallbackIntent.RENEW: _l("Renew"),
    CallbackIntent.NEW_POLICY: _l("Convert to a new policy"),
    CallbackIntent.DEPOSIT: _l("Convert to a deposit"),
    CallbackIntent.SURRENDER: _l("Surrender"),
    CallbackIntent.UNDECIDED: _l("Undecided"),
    CallbackIntent.UNREACHABLE: _l("Unreachable"),
}
RELATIONSHIP_STATUS = {
    RelationshipStatus.ACTIVE: pgettext_l("customer relationship", "Active"),
    RelationshipStatus.DORMANT: pgettext_l("customer relationship", "Dormant"),
    RelationshipStatus.LOST: pgettext_l("customer relationship", "Lost"),
}
LOST_REASON = {
    LostReason.SURRENDERED: _l("Surrendered"),
    LostReason.ASSETS_MOVED: _l("Assets moved to another institution"),
    LostReason.MOVED_AWAY: _l("Moved away"),
    LostReason.DECEASED: _l("Deceased"),
    LostReason.OTHER: _l("Other"),
}
CHURN_LEVEL = {
    ChurnLevel.LOW: pgettext_l("churn risk", "Low"),
    ChurnLevel.MEDIUM: pgettext_l("churn risk", "Medium"),
    ChurnLevel.HIGH: pgettext_l("churn risk", "High"),
}
APPROVAL_STATUS = {
    "pending": pgettext_l("approval", "Waiting"),
    "approved": pgettext_l("approval", "Approved"),
    "declined": pgettext_l("approval", "Declined"),
}
PROSPECT_STATUS = {
    ProspectStatus.NEW: pgettext_l("prospect", "New"),
    ProspectStatus.CONTACTED: pgettext_l("prospect", "Contacted"),
    ProspectStatus.QUALIFIED: pgettext_l("prospect", "Qualified"),
    ProspectStatus.CONVERTED: pgettext_l("prospect", "Converted"),
    ProspectStatus.DISCARDED: pgettext_l("prospect", "Discarded"),
}

# The occasions greeted (crm.services.occasions, crm.services.planning.greetings).
OCCASION = {
    "birthday": _l("Birthday"),
    "lunar_birthday": _l("Lunar birthday"),
    "policy_anniversary": _l("Policy anniversary"),
    "spring_festival": _l("Spring Festival"),
    "lantern": _l("Lantern Festival"),
    "qingming": _l("Qingming Festival"),
    "dragon_boat": _l("Dragon Boat Festival"),
    "mid_autumn": _l("Mid-Autumn Festival"),
    "double_ninth": _l("Double Ninth Festival"),
    "national_day": _l("National Day"),
}

# Field names as the change history shows them.
FIELD = {
    "name": _l("Name"),
    "gender": _l("Gender"),
    "birth_date": _l("Birth date"),
    "birthday_is_lunar": _l("Keeps the birthday by the lunar calendar"),
    "lunar_birth_month": _l("Lunar birth month"),
    "lunar_birth_day": _l("Lunar birth day"),
    "lunar_birth_leap": _l("Born in a leap month"),
    "phone": _l("Mobile phone"),
    "email": _l("E-mail"),
    "occupation": _l("Occupation"),
    "family_notes": _l("Family"),
    "interests_notes": _l("Interests"),
    "tags": _l("Tags"),
    "liquid_assets": _l("Liquid assets (CNY)"),
    "assets_as_of": _l("Assets as of"),
    "willingness": _l("Willingness (0–100)"),
    "risk_level": _l("Risk level"),
    "channel": _l("Acquisition channel"),
    "referred_by_id": _l("Referred by"),
    "owner_id": _l("Owner"),
    "branch_id": _l("Branch"),
    "sms_consent": _l("SMS marketing consent"),
    "sms_consent_at": _l("Consent given at"),
    "sms_opt_out_at": _l("Opted out at"),
    "notes": _l("Notes"),
    "policy_number": _l("Policy number"),
    "product_name": _l("Product"),
    "product_type": _l("Product type"),
    "premium": _l("Premium (CNY)"),
    "payment_mode": _l("Payment"),
    "start_date": _l("Start date"),
    "maturity_date": _l("Maturity date"),
    "status": _l("Status"),
    "username": _l("Username"),
    "display_name": _l("Display name"),
    "role": _l("Role"),
    "language": _l("Language"),
    "password": _l("Password"),
    "is_active_account": _l("Active"),
    "stage": _l("Lifecycle stage"),
    "capability_threshold": _l("Capability threshold (CNY)"),
    "willingness_threshold": _l("Willingness threshold"),
    "reason": _l("Reason"),
    "quadrant": _l("Quadrant"),
    "category": _l("Touchpoint"),
    "due_on": _l("Due"),
    "held_on": _l("Held on"),
    "planned_cost": _l("Planned cost (CNY)"),
    "actual_cost": _l("Actual cost (CNY)"),
    "response": _l("Customer response"),
    "outcome": _l("Outcome"),
    "approval_reason": _l("Approval reason"),
    "approved_by_id": _l("Approved by"),
    "group_event_id": _l("Group event"),
    "title": _l("Title"),
    "place": _l("Place"),
    "capacity": _l("Capacity"),
    "total_cost": _l("Total cost (CNY)"),
    "attended": _l("Attended"),
    "notify_by_sms": _l("Reminders by SMS"),
    "notify_by_email": _l("Reminders by e-mail"),
    # Maturity call-backs (有效回访统计表) and complaints (客户投诉情况统计表).
    "intent": _l("Customer intent"),
    "maturity_note": _l("Maturity note"),
    "conversion_note": _l("Conversion note"),
    "remarks": _l("Remarks"),
    "product_id": _l("Shelf product"),
    "point": _l("Complaint point"),
    "opened_at": _l("Opened at"),
    "due_at": _l("Answer due"),
    "handling_opinion": _l("Handling opinion"),
    "non_routine_surrender": _l("Non-routine surrender"),
    "satisfied": _l("Satisfied"),
    "answered_at": _l("Answered at"),
    "relationship_status": _l("Relationship status"),
    "lost_reason": _l("Reason lost"),
    "lost_on": _l("Lost on"),
    # Opportunities (商机) and the sale's compliance (seed 000).
    "sales_stage": _l("Sales stage"),
    "expected_premium": _l("Expected premium (CNY)"),
    "expected_close_on": _l("Expected close date"),
    "source": _l("Source"),
    "lost_from": _l("Lost at stage"),
    "closed_on": _l("Closed on"),
    "opportunity_id": _l("Opportunity"),
    "dual_recording_ref": _l("Dual-recording reference"),
    "returns_notice_shown": _l("Shown that the illustrated returns are hypothetical"),
    "risk_acknowledged": _l("The customer acknowledged the product's risk"),
    # Prospects (潜在客户): their status is kept apart from a policy's in the history.
    "prospect_status": _l("Prospect status"),
    "discard_reason": _l("Reason discarded"),
    "customer_id": _l("Dossier"),
    "partner": _l("Insurer partner"),
    "approval_status": _l("Decision"),
    # Holdout experiments (crm.services.experiments.design).
    "hypothesis": _l("Hypothesis"),
    "quadrants": _l("Quadrants covered"),
    "branch_ids": _l("Branches covered"),
    "holdout_share": _l("Holdout share"),
    "metric": _l("Primary metric"),
    "horizon_days": _l("Horizon (days)"),
    "started_on": _l("Started"),
    "stopped_on": _l("Stopped"),
    "giver": _l("Handed over from"),
    "receiver": _l("Handed over to"),
    "by": _l("Acting as"),
    "deactivate": _l("Deactivate"),
    "customer_ids": _l("Customer numbers"),
    "decision_reason": _l("Your reason"),
}

# Holdout experiments (对照实验, crm.services.experiments).
EXPERIMENT_STATUS = {
    ExperimentStatus.DRAFT: _l("Draft"),
    ExperimentStatus.RUNNING: _l("Running"),
    ExperimentStatus.STOPPED: _l("Stopped"),
    ExperimentStatus.ANALYSED: _l("Analysed"),
}
METRIC = {
    Metric.UPWARD_MOVE: _l("Upward quadrant move"),
    Metric.WILLINGNESS_CHANGE: _l("Willingness change"),
    Metric.POLICY_BOUGHT: _l("Policy bought"),
    Metric.PREMIUM: _l("Premium (CNY)"),
    Metric.LOST: _l("Customer lost"),
}
ARM = {Arm.TREATMENT: _l("Treated as usual"), Arm.HOLDOUT: _l("Held out")}

# Enum values in the change history, by field.
VALUES = {
    "gender": GENDER,
    "risk_level": RISK_LEVEL,
    "channel": CHANNEL,
    "product_type": PRODUCT_TYPE,
    "payment_mode": PAYMENT_MODE,
    "status": POLICY_STATUS,
    "role": ROLE,
    "stage": BRANCH_STAGE,
    "language": LANGUAGE,
    "quadrant": QUADRANT,
    "cause": MOVE_CAUSE,
    "category": TOUCHPOINT,
    "event_type": EVENT_TYPE,
    "response": RESPONSE,
    "outcome": EXPERIENCE_STATUS,
    "origin": PLAN_ORIGIN,
    "intent": CALLBACK_INTENT,
    "relationship_status": RELATIONSHIP_STATUS,
    "lost_reason": LOST_REASON,
    "sales_stage": SALES_STAGE,
    "lost_from": SALES_STAGE,
    "source": OPPORTUNITY_SOURCE,
    "prospect_status": PROSPECT_STATUS,
    "approval_status": APPROVAL_STATUS,
}


def choices(labels: dict) -> list[SelectChoice]:
    """WTForms choices from a label map, in declaration order."""
    return [SelectChoice(getattr(key, "value", key), label) for key, label in labels.items()]
