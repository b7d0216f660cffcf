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

# Replies that mean "stop". A code (R, the default opt-out line's word; TD, T, N, STOP) or a
# word (退订, 拒收 …), alone or as the opt-out lines of the providers put them together:
# 回复R, 请回复R, 退订R, 拒收请回复R, 退订回T, 回T退订, 退订短信 — in any case, width or
# punctuation. Two codes together ("RT") are not an opt-out: nothing documents them.
OPT_OUT_CODES = ("UNSUBSCRIBE", "STOP", "TD", "R", "T", "N")
OPT_OUT_WORDS = ("退订", "拒收", "取消", "退")
_NOISE = re.compile(r"[\s\W_]+", re.UNICODE)
_CODE = "(?:请?(?:回复|回)?(?:{}))".format("|".join(OPT_OUT_CODES))
# A lone 回 before a word reads as a verb of its own (回退), so only 回复 leads a word.
_WORD = "(?:请?(?:回复)?(?:{}))".format("|".join(OPT_OUT_WORDS))
_OPT_OUT = re.compile(f"{_CODE}|{_WORD}|{_WORD}{_CODE}|{_CODE}{_WORD}")


def is_opt_out(text: str) -> bool:
    """Whether an inbound reply asks to stop marketing messages."""
    word = _NOISE.sub("", unicodedata.normalize("NFKC", text or "")).upper()
    for suffix in ("短信", "订阅", "谢谢"):
        word = word.removesuffix(suffix)
    return _OPT_OUT.fullmatch(word) is not None


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
