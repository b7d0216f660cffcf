"""A customer's name spelled for the search box: pinyin and initials, surnames read as
surnames, and every writer of a name keeping both columns current."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, time

import pytest
import sqlalchemy as sa

from crm.extensions import db
from crm.models import Customer
from crm.models.spelling import Spelling, spell
from crm.services.customers import dossier
from crm.services.simulation import behaviour
from crm.services.simulation.world import World
from crm.services.transfer import importer


@pytest.mark.parametrize(
    ("name", "pinyin", "initials"),
    [
        ("张三", "zhangsan", "zs"),
        ("王芳", "wangfang", "wf"),
        ("吕布", "lvbu", "lb"),  # ü as keyboards type it
        ("欧阳娜娜", "ouyangnana", "oynn"),
        ("张·三", "zhangsan", "zs"),  # punctuation is not spelled
        ("Anna Li", "annali", "al"),
        ("ＡＮＮＡ　ＬＩ", "annali", "al"),  # full width, as a Chinese input method types
        ("José Núñez", "josenunez", "jn"),
        ("李Anna", "lianna", "la"),
        ("", "", ""),
        ("%_", "", ""),
    ],
)
def test_names_are_spelled_in_pinyin_and_initials(name, pinyin, initials):
    assert spell(name) == Spelling(pinyin, initials)


@pytest.mark.parametrize(
    ("name", "pinyin", "initials", "not_as"),
    [
        ("单雄信", "shanxiongxin", "sxx", "dan"),
        ("曾小明", "zengxiaoming", "zxm", "ceng"),
        ("解晓东", "xiexiaodong", "xxd", "jie"),
        ("区志强", "ouzhiqiang", "ozq", "qu"),
        ("仇英", "qiuying", "qy", "chou"),
        ("查良镛", "zhaliangyong", "zly", "cha"),
        ("翟天临", "zhaitianlin", "ztl", "di"),
        ("万俟卨", "moqixie", "mqx", "wan"),
        ("尉迟恭", "yuchigong", "ycg", "wei"),
        ("长孙无忌", "zhangsunwuji", "zswj", "chang"),
    ],
)
def test_a_surname_with_two_readings_is_read_as_a_surname(name, pinyin, initials, not_as):
    assert spell(name) == Spelling(pinyin, initials)
    assert not spell(name).pinyin.startswith(not_as)


def test_a_surname_reading_applies_only_to_the_first_character():
    # 曾 inside a given name keeps its common reading; only the surname is read as one.
    assert spell("李曾").pinyin == "liceng"


def test_spellings_fit_their_columns():
    longest = "庄" * 60  # zhuang: the longest syllable, in the longest name
    spelled = spell(longest)
    assert len(spelled.pinyin) == Customer.name_pinyin.type.length == 360
    assert len(spelled.initials) == Customer.name_initials.type.length == 60


def stored(customer_id: int) -> tuple[str, str]:
    db.session.expire_all()
    row = db.session.execute(
        sa.select(Customer.name_pinyin, Customer.name_initials).where(Customer.id == customer_id)
    ).one()
    return tuple(row)


def test_a_dossier_opened_and_renamed_through_the_service_is_spelled(world):
    customer = dossier.create_customer(
        world.alice,
        {
            "name": "曾小明",
            "phone": "13512345678",
            "gender": "male",
            "risk_level": "R2",
            "willingness": 40,
        },
    )
    db.session.commit()
    assert stored(customer.id) == ("zengxiaoming", "zxm")

    data = {**dossier.form_values(customer), "name": "单雄信"}
    dossier.update_customer(world.alice, customer, data, customer.version)
    db.session.commit()
    assert stored(customer.id) == ("shanxiongxin", "sxx")


def test_an_import_spells_every_customer_it_writes(world):
    data = "姓名,手机\r\n解晓东,13512345678\r\nAnna Li,13612345678\r\n".encode()
    report = importer.import_file(world.manager, "spelled.csv", data)
    db.session.commit()
    assert report.created == 2
    rows = db.session.execute(
        sa.select(Customer.name, Customer.name_pinyin, Customer.name_initials).where(
            Customer.phone.in_(["+8613512345678", "+8613612345678"])
        )
    ).all()
    assert sorted(rows) == [("Anna Li", "annali", "al"), ("解晓东", "xiexiaodong", "xxd")]


def test_the_demo_bank_and_the_simulators_referrals_are_spelled(app):
    world = World(random.Random(1))
    try:
        start = date(2026, 6, 1)
        assert world.open_bank(customers=30, seed=3, start=start) == 30
        rows = db.session.execute(
            sa.select(Customer.name, Customer.name_pinyin, Customer.name_initials)
        ).all()
        assert all(pinyin and (pinyin, initials) == spell(name) for name, pinyin, initials in rows)

        referrer = db.session.scalar(sa.select(Customer.id).order_by(Customer.id).limit(1))
        counts = Counter()
        with world.at(start, time(10)):
            behaviour.refer(world, referrer, start, counts)
    finally:
        world.close()
    assert counts["referrals"] == 1
    newest = db.session.scalar(sa.select(Customer).order_by(Customer.id.desc()).limit(1))
    assert newest.referred_by_id == referrer
    assert stored(newest.id) == tuple(spell(newest.name)) and newest.name_pinyin
