"""Typed SQLAlchemy models, one module per aggregate."""

from crm.models.api_token import ApiToken
from crm.models.approval import ApprovalRequest, ApprovalStatus
from crm.models.audit import AuditLog
from crm.models.base import Base
from crm.models.branch import Branch
from crm.models.callback import MaturityCallback
from crm.models.churn import ChurnScoreDay
from crm.models.complaint import Complaint
from crm.models.customer import Customer, Tag, customer_tag
from crm.models.dashboard_month import DashboardBuild, DashboardMonth
from crm.models.effect_history import EffectHistory
from crm.models.experience import Experience
from crm.models.experiment import Experiment, ExperimentAssignment, ExperimentContamination
from crm.models.group_event import GroupEvent
from crm.models.job import BackgroundJob
from crm.models.login_attempt import LoginAttempt
from crm.models.notification import Notification
from crm.models.opportunity import Opportunity
from crm.models.outbox import OutboxMessage
from crm.models.policy import Policy
from crm.models.product import Product
from crm.models.prospect import Prospect
from crm.models.quadrant_event import QuadrantEvent
from crm.models.report import MonthlyReport
from crm.models.scheduler import JobRun, SchedulerLease
from crm.models.setting import Setting
from crm.models.sms_template import SmsTemplate
from crm.models.staff import Staff
from crm.models.staff_session import SessionEnd, StaffSession
from crm.models.touchpoint import TouchpointCategory, TouchpointRule

__all__ = [
    "ApiToken",
    "ApprovalRequest",
    "ApprovalStatus",
    "AuditLog",
    "BackgroundJob",
    "Base",
    "Branch",
    "ChurnScoreDay",
    "Complaint",
    "Customer",
    "DashboardBuild",
    "DashboardMonth",
    "EffectHistory",
    "Experience",
    "Experiment",
    "ExperimentAssignment",
    "ExperimentContamination",
    "GroupEvent",
    "JobRun",
    "LoginAttempt",
    "MaturityCallback",
    "MonthlyReport",
    "Notification",
    "Opportunity",
    "OutboxMessage",
    "Policy",
    "Product",
    "Prospect",
    "QuadrantEvent",
    "SchedulerLease",
    "SessionEnd",
    "Setting",
    "SmsTemplate",
    "Staff",
    "StaffSession",
    "Tag",
    "TouchpointCategory",
    "TouchpointRule",
    "customer_tag",
]
