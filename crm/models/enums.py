"""The closed vocabularies of the trade, stored by their English keys.

Labels in the user's language live in ``crm.labels``; these keys are what the
database, the API and the CLI speak.
"""

from __future__ import annotations

from enum import StrEnum

import sqlalchemy as sa


class Quadrant(StrEnum):
    """Customer tier (客户分层) on the capability × willingness grid (seed 004)."""

    DEVELOP = "develop"  # 开发: low capability, low willingness
    MAINTAIN = "maintain"  # 维系: low capability, high willingness
    CULTIVATE = "cultivate"  # 耕耘: high capability, low willingness
    PAMPER = "pamper"  # 宠爱: high capability, high willingness


class MoveCause(StrEnum):
    """Why a customer's quadrant was (re)computed."""

    DOSSIER_EDIT = "dossier_edit"
    EXPERIENCE = "experience"
    REASSESSMENT = "reassessment"
    COMPLAINT = "complaint"
    REFERRAL = "referral"
    THRESHOLD_CHANGE = "threshold_change"
    IMPORT = "import"


class BranchStage(StrEnum):
    """Branch lifecycle (网点生命周期): 起步期 成长期 成熟期 调整期 低迷期."""

    STARTUP = "startup"
    GROWTH = "growth"
    MATURE = "mature"
    ADJUSTMENT = "adjustment"
    DECLINE = "decline"


class Role(StrEnum):
    STAFF = "staff"
    MANAGER = "manager"
    ADMIN = "admin"


class Gender(StrEnum):
    FEMALE = "female"
    MALE = "male"
    UNSPECIFIED = "unspecified"


class RiskLevel(StrEnum):
    """Customer risk tolerance (风险等级), R1 conservative to R5 aggressive."""

    R1 = "R1"
    R2 = "R2"
    R3 = "R3"
    R4 = "R4"
    R5 = "R5"


class Channel(StrEnum):
    """Acquisition channels (获客渠道), seed 004 第一部分 三、四."""

    BANK_MANAGER_CLIENT = "bank_manager_client"  # 理财经理与行长的个人客户
    PRIVATE_BANKING = "private_banking"  # 财富与私银客户
    CORPORATE = "corporate"  # 对公客户
    BRANCH_STAFF = "branch_staff"  # 网点工作人员
    OTHER_FINANCIAL = "other_financial"  # 其他金融行业客户
    NON_FINANCIAL = "non_financial"  # 非金融行业客户
    OWN_NETWORK = "own_network"  # 缘故客户
    PRODUCT_BUYER = "product_buyer"  # 成交客户
    REFERRAL = "referral"  # 转介绍客户
    COLD_VISIT = "cold_visit"  # 陌生拜访
    EVENT = "event"  # 会议活动
    SURVEY = "survey"  # 问卷
    RESOURCE_EXCHANGE = "resource_exchange"  # 资源交易


class ProspectStatus(StrEnum):
    """Where a prospect (潜在客户) stands before a dossier is opened (seed 004, 开发新客户)."""

    NEW = "new"
    CONTACTED = "contacted"
    QUALIFIED = "qualified"
    CONVERTED = "converted"  # a dossier was opened from it
    DISCARDED = "discarded"  # with a reason


class ProductType(StrEnum):
    PROTECTION = "protection"  # 保障型 (term life and other protection not named below)
    PARTICIPATING = "participating"  # 分红险
    UNIVERSAL = "universal"  # 万能险
    ANNUITY = "annuity"  # 年金险
    WHOLE_LIFE = "whole_life"  # 终身寿险
    CRITICAL_ILLNESS = "critical_illness"  # 重疾险
    MEDICAL = "medical"  # 医疗险
    ACCIDENT = "accident"  # 意外险
    INVESTMENT_LINKED = "investment_linked"  # 投资连结险
    DEPOSIT = "deposit"  # 存款: the bank's own, where seed 003 advises converting to one


class CallbackIntent(StrEnum):
    """What a customer means to do with a maturing policy (有效回访统计表, seed 003)."""

    RENEW = "renew"  # 续保 / keep holding
    NEW_POLICY = "new_policy"  # 转新保单
    DEPOSIT = "deposit"  # 转存款
    SURRENDER = "surrender"  # 退保 / take the money
    UNDECIDED = "undecided"  # 未决定
    UNREACHABLE = "unreachable"  # 联系不上


class PaymentMode(StrEnum):
    REGULAR = "regular"  # 期交
    SINGLE = "single"  # 趸交


class PolicyStatus(StrEnum):
    IN_FORCE = "in_force"
    MATURED = "matured"
    SURRENDERED = "surrendered"
    LAPSED = "lapsed"


class Touchpoint(StrEnum):
    """Touchpoint categories of the experience matrix (客户体验), cheapest first (seed 004)."""

    ROUTINE = "routine"  # 常规服务: SMS, e-mail, letter, parcel, messaging app
    VISIT = "visit"  # 定期拜访
    EVENT = "event"  # 一般活动
    PREMIUM_EVENT = "premium_event"  # 高级活动
    LIFESTYLE = "lifestyle"  # 生活服务
    BESPOKE = "bespoke"  # 量身定制


# Categories held as group events with a date, a place and a capacity.
GROUP_TOUCHPOINTS = (Touchpoint.EVENT, Touchpoint.PREMIUM_EVENT)


class EventType(StrEnum):
    """Kinds of group event (活动类型, seed 002), each suited to some asset tiers."""

    SALON = "salon"  # 微沙龙
    APPRECIATION = "appreciation"  # 答谢会
    PRIVATE_BOARD = "private_board"  # 私董会
    LEGACY_LECTURE = "legacy_lecture"  # 财富传承讲座


class Mark(StrEnum):
    """A cell of the experience matrix: how a quadrant is served by a category."""

    STRATEGIC = "strategic"  # ☆ 策略体验: the most important; planned first, budget first
    SHOULD = "should"  # √ 应当体验: the baseline, planned by cadence
    DISCRETIONARY = "discretionary"  # ◎ 酌情体验: only when staff choose it for a customer
    NEVER = "never"  # × 不予体验: refused unless a manager approves


# Marks the planner fills by cadence, in the order their budget is reserved.
PLANNED_MARKS = (Mark.STRATEGIC, Mark.SHOULD)


class CostLevel(StrEnum):
    VERY_LOW = "very_low"  # 极低
    LOW = "low"  # 低
    MEDIUM = "medium"  # 中
    HIGH = "high"  # 高
    VERY_HIGH = "very_high"  # 很高
    EXTREME = "extreme"  # 极高


class ExperienceStatus(StrEnum):
    PLANNED = "planned"
    DONE = "done"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"


class Response(StrEnum):
    """How the customer responded to an experience (体验反馈)."""

    ENTHUSIASTIC = "enthusiastic"
    POSITIVE = "positive"
    NEUTRAL = "neutral"
    NEGATIVE = "negative"
    NO_RESPONSE = "no_response"


class PlanOrigin(StrEnum):
    """What planned an experience, so that planning policies can be compared later."""

    CADENCE = "cadence"  # the rolling planner, from a cadence rule
    STAFF = "staff"  # a staff member chose it for this customer
    EVENT = "event"  # an invitation to a group event


class OutboxStatus(StrEnum):
    """Where an outgoing message is. A message is a row before it is anything else."""

    QUEUED = "queued"  # waiting for its window, its cap or the next dispatch
    SENDING = "sending"  # claimed, committed before the provider is called
    SENT = "sent"  # the provider accepted it (its id recorded)
    FAILED = "failed"  # the provider refused it for good
    SKIPPED = "skipped"  # a rule forbids it now (no consent, opted out)
    RECONCILE = "reconcile"  # fate unknown after a crash and the provider cannot say


class MessagePurpose(StrEnum):
    MARKETING = "marketing"  # a planned contact with a customer: consent, window and caps apply
    STAFF = "staff"  # a reminder to a staff member about their own work


class NotificationKind(StrEnum):
    DIGEST = "digest"  # the morning digest of the day's work
    VISIT_REMINDER = "visit_reminder"  # before a visit or event
    MONTHLY_REPORT = "monthly_report"  # last month's reports are ready (月度报告)
    HANDOVER = "handover"  # customers handed to or from the reader
    APPROVAL = "approval"  # a request the reader made was decided


class RelationshipStatus(StrEnum):
    """Where the relationship with a customer stands; lost (流失) is what churn warning predicts."""

    ACTIVE = "active"
    DORMANT = "dormant"  # 休眠: still a customer, not reachable or not engaging for now
    LOST = "lost"  # 流失: gone, with a reason and a date


class LostReason(StrEnum):
    """Why a customer was lost (流失原因)."""

    SURRENDERED = "surrendered"  # 退保
    ASSETS_MOVED = "assets_moved"  # 资产转移至他行
    MOVED_AWAY = "moved_away"  # 迁居
    DECEASED = "deceased"  # 身故
    OTHER = "other"


class ChurnLevel(StrEnum):
    """Churn risk (流失风险) in three bands of the 0–100 score."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class SalesStage(StrEnum):
    """Where an opportunity (商机) stands in the pipeline, in the order a sale moves."""

    LEAD = "lead"  # 线索
    NEEDS = "needs"  # 需求分析
    PROPOSAL = "proposal"  # 方案建议
    CLOSING = "closing"  # 促成
    WON = "won"  # 成交
    LOST = "lost"  # 未成交


# The stages a card moves through before it is won or lost, in order.
OPEN_STAGES = (SalesStage.LEAD, SalesStage.NEEDS, SalesStage.PROPOSAL, SalesStage.CLOSING)


class OpportunitySource(StrEnum):
    """What produced an opportunity (商机来源)."""

    EXPERIENCE = "experience"  # an experience whose response showed interest
    CALLBACK = "callback"  # a maturity call-back (满期回访)
    REFERRAL = "referral"  # 转介绍
    EVENT = "event"  # a group event (会议活动)
    OTHER = "other"


def enum_column(enum: type[StrEnum], name: str) -> sa.Enum:
    """A portable enum column: a VARCHAR with a CHECK constraint, storing the values."""
    return sa.Enum(
        enum,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=max(len(m.value) for m in enum),
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )
