"""What a stored text may hold: the rule every form, the API and the importer apply."""

from __future__ import annotations

from decimal import Decimal

import pytest
from flask_babel import force_locale

from crm.core.inputs import (
    has_control_characters,
    parse_amount,
    printable,
    refuse_control_characters,
    refuse_too_long,
)


@pytest.mark.parametrize(
    "text",
    [
        "a\x00b",
        "\x07",
        "\x85",  # C1 next line
        "张\u202e伟",  # right-to-left override
        "\u202a张伟",
        "\u2066张伟\u2069",  # isolates
        "\u200f张伟",  # right-to-left mark
        "\u061c",  # Arabic letter mark
    ],
)
def test_control_and_bidirectional_characters_are_refused(text):
    errors: dict = {}
    refuse_control_characters({"name": text, "notes": "好"}, errors)
    assert list(errors) == ["name"]
    assert has_control_characters(text)
    assert not has_control_characters(printable(text))


@pytest.mark.parametrize("text", ["张伟", "Zhang Wei", "备注\n第二行\t缩进", "王·芳", "Ｆｕｌｌ"])
def test_ordinary_text_passes(text):
    errors: dict = {}
    refuse_control_characters({"name": text}, errors)
    assert errors == {}


# --- amounts: the one parser of the forms, the API and imports ----------------------------


@pytest.mark.parametrize(
    "typed, amount",
    [
        ("250000.00", "250000.00"),
        (" 1,000,000 ", "1000000.00"),
        ("1,000,000.50", "1000000.50"),
        ("１，０００", "1000.00"),
        ("￥８８．８", "88.80"),
        ("¥1,200", "1200.00"),
        ("1000元", "1000.00"),
        ("0", "0.00"),
        ("1.500", "1.50"),  # zeros past the fen change nothing
    ],
)
def test_amounts_are_read_as_people_type_them(app, typed, amount):
    errors: dict = {}
    assert parse_amount(typed, "f", errors) == Decimal(amount) and errors == {}


@pytest.mark.parametrize(
    "typed, message",
    [
        ("1e9", "Enter an amount, such as 250000.00."),
        ("1E+6", "Enter an amount, such as 250000.00."),
        ("NaN", "Enter an amount, such as 250000.00."),
        ("-Infinity", "Enter an amount, such as 250000.00."),
        ("1,00", "Enter an amount, such as 250000.00."),
        ("1²", "Enter an amount, such as 250000.00."),  # not a digit of an amount
        ("٣", "Enter an amount, such as 250000.00."),
        ("", "Enter an amount, such as 250000.00."),
        (None, "Enter an amount, such as 250000.00."),
        (True, "Enter an amount, such as 250000.00."),
        (2.5, "Enter an amount, such as 250000.00."),  # a float is never exact money
        ("0.001", "Amounts have at most two decimal places."),
        ("-0.01", "An amount cannot be negative."),
        ("1000000000000.01", "This amount is implausibly large; check the digits."),
    ],
)
def test_what_is_not_an_amount_is_refused_with_what_is_expected(app, typed, message):
    errors: dict = {}
    with force_locale("en"):
        assert parse_amount(typed, "f", errors) is None and str(errors["f"]) == message


def test_code_may_hand_over_a_decimal_or_a_whole_number(app):
    errors: dict = {}
    assert parse_amount(Decimal("1.2E+5"), "f", errors) == Decimal("120000.00")
    assert parse_amount(80, "f", errors) == Decimal("80.00") and errors == {}


def test_a_field_words_its_own_refusals(app):
    errors: dict = {}
    parse_amount("0", "premium", errors, positive=True, messages={"zero": "More, please."})
    parse_amount("90", "cost", errors, maximum=Decimal("80"))
    with force_locale("zh_CN"):
        assert errors["premium"] == "More, please."
        assert str(errors["cost"]) == "金额过大，请核对位数。"


def test_the_message_reads_in_chinese(app):
    errors: dict = {}
    parse_amount("1e9", "f", errors)
    with force_locale("zh_CN"):
        assert str(errors["f"]) == "请输入金额，如 250000.00。"


# --- bounded texts -------------------------------------------------------------------------


def test_texts_past_their_limit_are_refused_each_with_its_limit(app):
    errors: dict = {"email": "This is not an e-mail address."}
    refuse_too_long(
        {"name": ("长" * 61, 60), "notes": ("好" * 2000, 2000), "email": ("a" * 121, 120)},
        errors,
    )
    with force_locale("en"):
        assert {k: str(v) for k, v in errors.items()} == {
            "name": "At most 60 characters.",
            "email": "At most 120 characters.",  # the length is the first thing to fix
        }
    refuse_too_long({"occupation": (None, 80), "title": ("", 120)}, errors)
    assert set(errors) == {"name", "email"}
