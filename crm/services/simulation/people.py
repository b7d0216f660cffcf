"""Demo people: how a made-up customer and their dossier are drawn.

Ages follow seed 003's bands (20–30, 31–40, 41–50, 51–60, 61+), weighted toward the older
bands that hold most maturing savings policies. The demo bank draws its customers so, and
the simulator draws the customers they refer the same way. Every draw comes from the
caller's ``random.Random``, in a fixed order, so a seed gives one bank.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from decimal import Decimal

from crm.models import Staff
from crm.models.enums import Channel, Gender, RiskLevel
from crm.models.spelling import spell
from crm.services.customers import tiering
from crm.services.customers.willingness import within_range

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚邵万钱严武戴莫孔汤"
)
GIVEN = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国"
    "玉兰志强海燕红梅文博子涵欣怡浩然雨轩晨思远佳怡宇航"
)
# Mainland mobile number blocks (all valid for phonenumbers' CN metadata).
MOBILE_PREFIXES = tuple(
    str(n)
    for n in (*range(130, 140), 150, 151, 152, 153, *range(155, 160), 166, 176, 177, 178)
    + (*range(180, 184), *range(185, 190), 198, 199)
)
AGE_BANDS = ((20, 30, 0.12), (31, 40, 0.20), (41, 50, 0.27), (51, 60, 0.24), (61, 80, 0.17))
OCCUPATIONS = (
    "教师",
    "医生",
    "公务员",
    "企业主",
    "工程师",
    "个体工商户",
    "会计",
    "律师",
    "退休",
    "销售经理",
)
CHANNEL_WEIGHTS = (
    (Channel.BANK_MANAGER_CLIENT, 30),
    (Channel.PRIVATE_BANKING, 6),
    (Channel.CORPORATE, 4),
    (Channel.BRANCH_STAFF, 3),
    (Channel.OTHER_FINANCIAL, 3),
    (Channel.NON_FINANCIAL, 3),
    (Channel.OWN_NETWORK, 12),
    (Channel.PRODUCT_BUYER, 14),
    (Channel.REFERRAL, 10),
    (Channel.COLD_VISIT, 2),
    (Channel.EVENT, 8),
    (Channel.SURVEY, 3),
    (Channel.RESOURCE_EXCHANGE, 2),
)


def pick_weighted(rng: random.Random, pairs):
    """One item of (item, weight) pairs, as likely as its weight."""
    items, weights = zip(*pairs, strict=True)
    return rng.choices(items, weights=weights)[0]


def full_name(rng: random.Random) -> str:
    """A surname and a given name of one or two characters."""
    return rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.choice((1, 2))))


def mobile_number(rng: random.Random) -> str:
    """A mainland mobile number, national digits only (taken or not: the caller checks)."""
    return rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"


def birth_date(rng: random.Random, today: date) -> date:
    """A birth date in one of seed 003's age bands, the older bands the more likely."""
    low, high, _ = rng.choices(AGE_BANDS, weights=[w for *_, w in AGE_BANDS])[0]
    age = rng.randint(low, high)
    return today - timedelta(days=age * 365 + rng.randint(0, 364))


def risk_for_age(rng: random.Random, age: int) -> RiskLevel:
    """A risk level; older customers lean conservative (seed 003: 61+ towards deposits)."""
    shift = 0 if age > 60 else 1 if age > 50 else 2
    return list(RiskLevel)[min(4, rng.choices(range(3), weights=(5, 3, 1))[0] + shift)]


def liquid_assets(rng: random.Random) -> Decimal:
    """Liquid assets in whole hundreds of yuan, log-normal, the median about ¥400,000."""
    return Decimal(int(rng.lognormvariate(12.9, 1.1)) // 100 * 100)


def customer_row(
    rng: random.Random,
    index: int,
    owner: Staff,
    first_id: int,
    phones: set[str],
    today: date,
    now: datetime,
    thresholds: tiering.Thresholds,
) -> dict:
    """The ``index``-th demo customer's dossier, drawn; one in ten after the first was
    referred by a customer drawn before them."""
    while True:
        phone = mobile_number(rng)
        if phone not in phones:
            phones.add(phone)
            break
    birth = birth_date(rng, today)
    age = (today - birth).days // 365
    consent = rng.random() < 0.7
    referred = index and rng.random() < 0.1
    assets = liquid_assets(rng)
    willingness = within_range(int(rng.triangular(0, 100, 45)))
    name = full_name(rng)
    return {
        "id": first_id + index,
        "name": name,
        "name_pinyin": spell(name).pinyin,
        "name_initials": spell(name).initials,
        "gender": rng.choice((Gender.FEMALE, Gender.MALE)),
        "birth_date": birth,
        "phone": "+86" + phone,
        "phone_last4": phone[-4:],
        "occupation": "退休" if age > 60 else rng.choice(OCCUPATIONS),
        "liquid_assets": assets,
        "assets_as_of": today - timedelta(days=rng.randint(0, 180)),
        "willingness": willingness,
        "quadrant": tiering.quadrant_for(assets, willingness, thresholds),
        "risk_level": risk_for_age(rng, age),
        "channel": pick_weighted(rng, CHANNEL_WEIGHTS),
        "referred_by_id": first_id + rng.randrange(index) if referred else None,
        "owner_id": owner.id,
        "branch_id": owner.branch_id,
        "sms_consent": consent,
        "sms_consent_at": now if consent else None,
        "sms_opt_out_at": None,
        "version": 1,
        "created_at": now,
        "updated_at": now,
    }
