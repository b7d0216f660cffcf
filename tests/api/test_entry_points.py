"""One input, one answer: the dossier form, the API and the importer read amounts, names and
willingness by the same rules, so the same value is taken (as the same thing) or refused
(with the same message) by all three."""

from __future__ import annotations

import csv
import html
import io
import re
from decimal import Decimal
from itertools import count

import pytest
import sqlalchemy as sa
from flask_babel import force_locale
from markupsafe import escape

from crm.extensions import db
from crm.models import Customer
from crm.models.customer import DEFAULT_RISK_LEVEL, DEFAULT_WILLINGNESS
from crm.services.transfer import importer
from tests.api.conftest import counts

_phones = count(1)
ERROR = re.compile(r'<small class="error" role="alert">([^<]*)</small>')


def new_phone() -> str:
    return f"135{next(_phones):08d}"


def stored(phone: str, field: str):
    db.session.expire_all()
    customer = db.session.scalar(sa.select(Customer).where(Customer.phone == "+86" + phone))
    return getattr(customer, field)


def by_form(auth, field: str, typed) -> tuple[str, object]:
    """("taken", stored value) or ("refused", the message under the field)."""
    phone = new_phone()
    data = {
        "name": "赵磊",
        "phone": phone,
        "gender": "unspecified",
        "risk_level": "R1",
        "liquid_assets": "0.00",
        "willingness": "30",
    } | {field: str(typed)}
    response = auth.client.post("/customers/new", data=data, headers={"Accept-Language": "en"})
    if response.status_code == 302:
        return "taken", stored(phone, field)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    # The form comes back with what was typed, not wiped.
    typed_back = f'value="{escape(str(typed))}"'
    assert any(typed_back in tag for tag in re.findall(f'<input[^>]* name="{field}"[^>]*>', page))
    (message,) = ERROR.findall(page)
    return "refused", html.unescape(message)


def by_api(api, field: str, typed) -> tuple[str, object]:
    phone = new_phone()
    response = api.post("/api/v1/customers", json={"name": "赵磊", "phone": phone, field: typed})
    if response.status_code == 201:
        return "taken", stored(phone, field)
    assert response.status_code == 422, response.get_json()
    return "refused", response.get_json()["errors"][field]


HEADERS = {"liquid_assets": "流动资产", "name": "姓名", "willingness": "意愿"}


def by_import(manager, field: str, typed) -> tuple[str, object]:
    phone = new_phone()
    row = {"name": "赵磊", "phone": phone, field: str(typed)}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([HEADERS.get(f, "手机") for f in row])
    writer.writerow(row.values())
    report = importer.import_file(manager, "名单.csv", out.getvalue().encode("utf-8"))
    if report.written:
        db.session.commit()
        return "taken", stored(phone, field)
    db.session.rollback()
    with force_locale("en"):
        (message,) = [str(p.message) for p in report.problems]
    return "refused", message


@pytest.fixture
def three_ways(world, auth, api_as):
    """Send one value for one field through the form, the API and an import; their answers."""
    auth.login("alice")
    api = api_as(world.alice)

    def send(field: str, typed, api_value=None) -> list[tuple[str, object]]:
        return [
            by_form(auth, field, typed),
            by_api(api, field, typed if api_value is None else api_value),
            by_import(world.manager, field, typed),
        ]

    return send


ENTER_AN_AMOUNT = "Enter an amount, such as 250000.00."

AMOUNTS = [
    ("250000.00", Decimal("250000.00")),
    ("1000000", Decimal("1000000.00")),
    ("1,000,000", Decimal("1000000.00")),
    ("1,000,000.50", Decimal("1000000.50")),
    ("１，０００", Decimal("1000.00")),  # full-width digits and comma
    ("１２３４．５", Decimal("1234.50")),
    ("¥1,200.5", Decimal("1200.50")),
    ("1000000000000.00", Decimal("1000000000000.00")),  # the largest there is
    ("1e9", ENTER_AN_AMOUNT),
    ("1E6", ENTER_AN_AMOUNT),
    ("NaN", ENTER_AN_AMOUNT),
    ("Infinity", ENTER_AN_AMOUNT),
    ("abc", ENTER_AN_AMOUNT),
    ("1,00", ENTER_AN_AMOUNT),  # not thousands: a decimal comma, or a slip
    ("1,0000", ENTER_AN_AMOUNT),
    ("12.345", "Amounts have at most two decimal places."),
    ("-5", "Liquid assets cannot be negative."),
    ("1000000000000.01", "This amount is implausibly large; check the digits."),
]


@pytest.mark.parametrize("typed, expected", AMOUNTS)
def test_the_form_the_api_and_the_importer_read_an_amount_alike(three_ways, typed, expected):
    before = counts()
    answers = three_ways("liquid_assets", typed)
    if isinstance(expected, Decimal):
        assert answers == [("taken", expected)] * 3
    else:
        assert answers == [("refused", expected)] * 3
        assert counts() == before


def test_a_json_number_in_exponent_form_is_refused_like_the_text(world, api_as):
    api = api_as(world.alice)
    body = '{"name": "赵磊", "phone": "13500000001", "liquid_assets": 1e6}'
    response = api.post(
        "/api/v1/customers", data=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert response.get_json()["errors"] == {"liquid_assets": ENTER_AN_AMOUNT}


CANNOT_BE_STORED = "This contains characters that cannot be stored."

NAMES = [
    # What a spreadsheet would evaluate is still a name here: nothing evaluates it, and
    # exports neutralise it.
    ('=HYPERLINK("http://evil.example","点我")', "taken"),
    ("+张伟", "taken"),
    ("-小明-", "taken"),
    ("@王芳", "taken"),
    ("＝李娜", "taken"),
    ("＋赵磊", "taken"),
    ("－钱芳", "taken"),
    ("＠孙丽", "taken"),
    ("长" * 60, "taken"),
    ("长" * 61, "At most 60 characters."),
    ("张\u202e伟", CANNOT_BE_STORED),  # right-to-left override
    ("\u2066张伟", CANNOT_BE_STORED),  # left-to-right isolate
    ("张\x07伟", CANNOT_BE_STORED),
]


@pytest.mark.parametrize("typed, expected", NAMES)
def test_the_form_the_api_and_the_importer_take_a_name_alike(three_ways, typed, expected):
    answers = three_ways("name", typed)
    if expected == "taken":
        assert answers == [("taken", typed)] * 3
    else:
        assert answers == [("refused", expected)] * 3


@pytest.mark.parametrize(
    "score, expected",
    [
        (0, 0),
        (100, 100),
        (101, "Willingness is a score from 0 to 100."),
        (-1, "Willingness is a score from 0 to 100."),
    ],
)
def test_the_form_the_api_and_the_importer_keep_willingness_in_range(three_ways, score, expected):
    answers = three_ways("willingness", score)
    if isinstance(expected, int):
        assert answers == [("taken", expected)] * 3
    else:
        assert answers == [("refused", expected)] * 3


def test_a_dossier_given_no_willingness_or_risk_level_gets_the_same_defaults(world, auth, api_as):
    auth.login("alice")
    page = auth.client.get("/customers/new").get_data(as_text=True)
    assert re.search(rf'name="willingness"[^>]*value="{DEFAULT_WILLINGNESS}"', page)
    assert re.search(rf'<option selected value="{DEFAULT_RISK_LEVEL.value}"', page) or re.search(
        rf'value="{DEFAULT_RISK_LEVEL.value}" selected', page
    )

    phone = new_phone()
    response = api_as(world.alice).post("/api/v1/customers", json={"name": "赵磊", "phone": phone})
    assert response.status_code == 201
    assert (stored(phone, "willingness"), stored(phone, "risk_level")) == (
        DEFAULT_WILLINGNESS,
        DEFAULT_RISK_LEVEL,
    )

    phone = new_phone()
    report = importer.import_file(world.manager, "a.csv", f"姓名,手机\n钱芳,{phone}\n".encode())
    db.session.commit()
    assert report.written
    assert (stored(phone, "willingness"), stored(phone, "risk_level")) == (
        DEFAULT_WILLINGNESS,
        DEFAULT_RISK_LEVEL,
    )
