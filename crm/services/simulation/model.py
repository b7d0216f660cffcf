"""The customer model (客户行为模型): how often simulated customers and staff do what.

Responses to an experience held, per quadrant and touchpoint category, as probabilities of
(enthusiastic, positive, neutral, negative, no response) — ``RESPONSES``. Willingness then
moves by the app's configured delta for the response (+10, +5, 0, −5, −2 by default):

=========  =====================  ======================  ======================
quadrant   visit                  event                   premium event
=========  =====================  ======================  ======================
develop    .06 .26 .43 .15 .10    .08 .30 .40 .14 .08     —
maintain   .06 .24 .45 .15 .10    .10 .30 .40 .12 .08     .14 .34 .36 .10 .06
cultivate  .06 .26 .43 .15 .10    .10 .30 .38 .14 .08     .18 .37 .30 .10 .05
pamper     .08 .30 .42 .12 .08    —                       .20 .40 .30 .07 .03
=========  =====================  ======================  ======================

Lifestyle services: cultivate .20 .40 .28 .08 .04, pamper .25 .40 .27 .06 .02; bespoke:
pamper .35 .40 .20 .04 .01. A category not listed for a quadrant uses ``DEFAULT_RESPONSE``.
Routine SMS get no response: dispatch closes them as held.

- No-shows (``NO_SHOW``): visit 5%, event 12%, premium event 8%, lifestyle 3%, bespoke 2%.
- An experience due today is recorded today 85% of the time; one overdue, 70% a day after.
- Actual cost: the planned cost × N(1, 0.08), never negative.
- Asset revision with the record: 10% of held experiences, assets × exp(N(0, 0.30)).
- Dossier revision of assets: each customer 1/365 a day, assets × exp(N(0.02, 0.15)).
- Re-assessment: each customer 0.3% a month, willingness ± 5–15, with a reason.
- Discretionary experience planned by the owner: each customer 1% a month, in the
  quadrant's discretionary category, 3–20 days ahead (refused over budget: dropped).
- Complaints: each customer 0.4% a month; each open one is answered on a given day with
  probability 0.28 (about one in ten after the 7-day SLA); 4% end in a non-routine
  surrender, else 85% satisfied.
- Referrals: a customer with willingness ≥ 75 refers a new customer 1.5% a month (channel
  referral, same owner; assets and willingness drawn as the demo draws them).
- Opt-out replies: a customer who can be sent SMS replies "R" 0.1% a month.
- Call-backs: each staff member works through their open tasks, most urgent first, as many a
  day as they manage that day: between 60% and 120% of the quota, never past it (so on a
  busy day after the monthly scan the quota may not be met); intents per product type
  (``INTENTS``): participating .20 new policy, .28 deposit, .12 renew, .18 surrender, .12
  undecided, .10 unreachable; universal life .10 / .12 / .40 / .16 / .12 / .10; other
  policies .15 / .15 / .35 / .10 / .15 / .10.
- Attrition (``attrition``): a customer not lost leaves on a day with the hazard
  0.0002 × exp(0.008 × days without a liked experience (at most 365) + 0.5 × negative
  responses in 180 days + 1.2 × complaints overdue + 1.0 × policies matured in 90 days
  without a call-back − 0.6 × experiences liked in 90 days); the owner marks them lost, the
  reason assets moved .45, surrendered .25, moved away .15, other .10, deceased .05.
"""

from __future__ import annotations

from crm.models.enums import (
    CallbackIntent,
    LostReason,
    ProductType,
    Quadrant,
    Response,
    Touchpoint,
)

RESPONSE_ORDER = (
    Response.ENTHUSIASTIC,
    Response.POSITIVE,
    Response.NEUTRAL,
    Response.NEGATIVE,
    Response.NO_RESPONSE,
)
Q, T = Quadrant, Touchpoint
RESPONSES: dict[tuple[Quadrant, Touchpoint], tuple[float, ...]] = {
    (Q.DEVELOP, T.VISIT): (0.06, 0.26, 0.43, 0.15, 0.10),
    (Q.DEVELOP, T.EVENT): (0.08, 0.30, 0.40, 0.14, 0.08),
    (Q.MAINTAIN, T.VISIT): (0.06, 0.24, 0.45, 0.15, 0.10),
    (Q.MAINTAIN, T.EVENT): (0.10, 0.30, 0.40, 0.12, 0.08),
    (Q.MAINTAIN, T.PREMIUM_EVENT): (0.14, 0.34, 0.36, 0.10, 0.06),
    (Q.CULTIVATE, T.VISIT): (0.06, 0.26, 0.43, 0.15, 0.10),
    (Q.CULTIVATE, T.EVENT): (0.10, 0.30, 0.38, 0.14, 0.08),
    (Q.CULTIVATE, T.PREMIUM_EVENT): (0.18, 0.37, 0.30, 0.10, 0.05),
    (Q.CULTIVATE, T.LIFESTYLE): (0.20, 0.40, 0.28, 0.08, 0.04),
    (Q.PAMPER, T.VISIT): (0.08, 0.30, 0.42, 0.12, 0.08),
    (Q.PAMPER, T.PREMIUM_EVENT): (0.20, 0.40, 0.30, 0.07, 0.03),
    (Q.PAMPER, T.LIFESTYLE): (0.25, 0.40, 0.27, 0.06, 0.02),
    (Q.PAMPER, T.BESPOKE): (0.35, 0.40, 0.20, 0.04, 0.01),
}
DEFAULT_RESPONSE = (0.08, 0.30, 0.40, 0.14, 0.08)
NO_SHOW = {T.VISIT: 0.05, T.EVENT: 0.12, T.PREMIUM_EVENT: 0.08, T.LIFESTYLE: 0.03, T.BESPOKE: 0.02}

I = CallbackIntent  # noqa: E741  (a table's row key, read as "intent")
INTENT_ORDER = (I.NEW_POLICY, I.DEPOSIT, I.RENEW, I.SURRENDER, I.UNDECIDED, I.UNREACHABLE)
INTENTS: dict[ProductType | None, tuple[float, ...]] = {
    ProductType.PARTICIPATING: (0.20, 0.28, 0.12, 0.18, 0.12, 0.10),
    ProductType.UNIVERSAL: (0.10, 0.12, 0.40, 0.16, 0.12, 0.10),
    None: (0.15, 0.15, 0.35, 0.10, 0.15, 0.10),
}

RECORD_ON_DUE_DAY = 0.85
RECORD_OVERDUE = 0.70
COST_SPREAD = 0.08
ASSET_REVISION = 0.10
ASSET_REVISION_SIGMA = 0.30
MONTH = 30.0
DOSSIER_REVISION_A_DAY = 1 / 365
DOSSIER_DRIFT, DOSSIER_SIGMA = 0.02, 0.15
REASSESS_A_MONTH = 0.003
DISCRETIONARY_A_MONTH = 0.01
COMPLAINT_A_MONTH = 0.004
ANSWER_A_DAY = 0.28
SURRENDER = 0.04
SATISFIED = 0.85
REFERRAL_FROM = 75
REFERRAL_A_MONTH = 0.015
OPT_OUT_A_MONTH = 0.001
ATTRITION_BASE = 0.0002
ATTRITION_SILENCE = 0.008
ATTRITION_NEGATIVE = 0.5
ATTRITION_COMPLAINT = 1.2
ATTRITION_MATURED = 1.0
ATTRITION_LIKED = 0.6
LOST_REASONS = (
    (LostReason.ASSETS_MOVED, 0.45),
    (LostReason.SURRENDERED, 0.25),
    (LostReason.MOVED_AWAY, 0.15),
    (LostReason.OTHER, 0.10),
    (LostReason.DECEASED, 0.05),
)
# A staff member's call-backs a day, as a share of the quota (never past the quota).
CALLBACK_CAPACITY = (0.6, 1.2)

COMPLAINT_POINTS = (
    "理财经理推荐产品时收益说明不清",
    "活动安排临时变更未提前通知",
    "满期给付到账时间比预期晚",
    "短信发送过于频繁",
    "网点排队时间过长",
)
OPINIONS = (
    "已向客户说明产品条款并致歉",
    "已协调加快办理并电话回访",
    "已调整联系频率并记录客户偏好",
)
REASSESS_REASONS = ("电话沟通后重新评估", "近期多次主动联系", "对上次服务有意见")


def daily(rate_a_month: float) -> float:
    """A monthly rate as the chance of the event on one day."""
    return rate_a_month / MONTH
