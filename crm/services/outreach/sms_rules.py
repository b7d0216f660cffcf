"""When a marketing SMS may go to a customer: consent, opt-out, the sending window, the cap.

Seed 004 asks for 1–2 SMS a week; the law and decency ask for consent, an opt-out that works
at once, and daytime hours. These are the rules the dispatcher applies to every message.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime, time, timedelta

from flask import current_app

from crm.core.clock import business_zone
from crm.models import Customer

WEEK = timedelta(days=7)

# Replies that mean "stop": R (the default opt-out line's word), TD, T, N, 退订 and their
# variants (case, full-width letters, punctuation, 回复/请 prefixes, 退订短信 …).
OPT_OUT_WORDS = {"R", "TD", "T", "N", "退订", "退", "取消", "拒收", "STOP", "UNSUBSCRIBE"}
_NOISE = re.compile(r"[\s\W_]+", re.UNICODE)


def is_opt_out(text: str) -> bool:
    """Whether an inbound reply asks to stop marketing messages."""
    word = _NOISE.sub("", unicodedata.normalize("NFKC", text or "")).upper()
    for prefix in ("回复", "请"):
        word = word.removeprefix(prefix)
    for suffix in ("短信", "订阅", "谢谢"):
        word = word.removesuffix(suffix)
    return word in OPT_OUT_WORDS


def may_receive_marketing(customer: Customer) -> bool:
    return bool(customer.sms_consent) and customer.sms_opt_out_at is None


def _window() -> tuple[time, time]:
    start, end = current_app.config["CRM_SMS_WINDOW"]
    return time.fromisoformat(start), time.fromisoformat(end)


def in_window(when: datetime) -> bool:
    """Whether ``when`` (aware) falls inside the local sending window."""
    start, end = _window()
    local = when.astimezone(business_zone()).time()
    return start <= local < end


def next_window_start(when: datetime) -> datetime:
    """``when`` itself if inside the window, else the window's next opening (aware UTC)."""
    if in_window(when):
        return when
    start, _ = _window()
    zone = business_zone()
    local = when.astimezone(zone)
    day = local.date() if local.time() < start else local.date() + timedelta(days=1)
    return datetime.combine(day, start, tzinfo=zone).astimezone(when.tzinfo)


def weekly_cap() -> int:
    return int(current_app.config["CRM_SMS_WEEKLY_CAP"])
