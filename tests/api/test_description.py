"""The OpenAPI description and the API agree: each pattern the description gives is exactly
what the API reads, and what the description promises (an empty cursor, a weak ETag, a JSON
number for an amount, 428 without a version) is what the API does.

schemathesis holds the whole API to the description (``tests/system/test_schemathesis.py``);
these tests pin each agreement down where it is made.
"""

from __future__ import annotations

import base64
import re
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm.api.description import AMOUNT_PATTERN
from crm.api.locking import IF_MATCH_PATTERN
from crm.api.paging import CURSOR_PATTERN, decode_cursor, encode_cursor
from crm.core.inputs import MAX_ID, read_amount

CUSTOMERS = "/api/v1/customers"
NEW = {"name": "赵磊", "phone": "135 1234 5678"}


@pytest.fixture
def spec(client) -> dict:
    return client.get("/api/v1/openapi.json").get_json()


# --- cursors ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "last_id", [1, 9, 10, 99, 100, 999, 1000, 4096, 65535, 123456789, 999999999, MAX_ID]
)
def test_every_cursor_the_api_gives_out_fits_the_pattern(last_id):
    cursor = encode_cursor(last_id)
    assert re.fullmatch(CURSOR_PATTERN, cursor) and decode_cursor(cursor) == last_id


def spelled(digits: str) -> str:
    """A cursor for any digits, spelled as the API spells its own."""
    return base64.urlsafe_b64encode(f"id:{digits}".encode()).decode().rstrip("=")


@given(st.text(alphabet=string.digits, max_size=12))
def test_the_pattern_takes_one_to_ten_digits_as_the_reader_does(digits):
    cursor = spelled(digits)
    fits = re.fullmatch(CURSOR_PATTERN, cursor) is not None
    assert fits == (1 <= len(digits) <= 10)
    assert decode_cursor(cursor) == (min(int(digits), MAX_ID) if fits else None)


@given(st.text(alphabet=string.ascii_letters + string.digits + "-_", max_size=18))
def test_only_cursors_the_api_could_give_out_fit_the_pattern(tail):
    cursor = "aWQ6" + tail
    if re.fullmatch(CURSOR_PATTERN, cursor):
        digits = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()[3:]
        assert spelled(digits) == cursor and decode_cursor(cursor) == min(int(digits), MAX_ID)
    else:
        assert decode_cursor(cursor) is None


@pytest.mark.parametrize("cursor", ["not-a-cursor", "aWQ6", "aWQ6MB", "aWQ6MQ==", "aWQ6 MQ", "MQ"])
def test_what_the_pattern_refuses_the_api_refuses(world, api_as, cursor):
    assert not re.fullmatch(CURSOR_PATTERN, cursor)
    response = api_as(world.alice).get(CUSTOMERS, query_string={"cursor": cursor})
    assert response.status_code == 422 and "cursor" in response.get_json()["errors"]


def test_an_empty_cursor_is_the_first_page(world, api_as):
    alice = api_as(world.alice)
    first = alice.get(CUSTOMERS).get_json()
    response = alice.get(CUSTOMERS, query_string={"cursor": ""})
    assert response.status_code == 200 and response.get_json() == first


def test_a_cursor_past_the_largest_id_is_an_empty_last_page(world, api_as):
    cursor = spelled("9999999999")
    response = api_as(world.alice).get(CUSTOMERS, query_string={"cursor": cursor})
    assert response.status_code == 200
    assert response.get_json() == {"items": [], "next_cursor": None}


# --- amounts ----------------------------------------------------------------------------

AMOUNT_ALPHABET = string.digits + "０１９,，.．+-＋－¥￥元 \t\n\x1c\x85\u3000\ufeffe"


@settings(max_examples=500)
@given(st.text(alphabet=AMOUNT_ALPHABET, max_size=12))
def test_the_amount_pattern_is_what_the_reader_reads(text):
    assert (re.fullmatch(AMOUNT_PATTERN, text) is not None) == (read_amount(text) is not None)


@pytest.mark.parametrize(
    "text", ["250000.00", "¥1,000,000.50", "1000元", "１，０００", " 12 ", ".5", "7.", "-5"]
)
def test_amounts_as_people_write_them_fit_the_pattern(text):
    assert re.fullmatch(AMOUNT_PATTERN, text) and read_amount(text) is not None


@pytest.mark.parametrize("text", ["", "1e6", "NaN", "1,00", "¥", "12.3.4", "1 000"])
def test_what_is_not_an_amount_fits_neither(text):
    assert not re.fullmatch(AMOUNT_PATTERN, text) and read_amount(text) is None


def test_amounts_are_described_as_read_and_as_written(spec):
    schemas = spec["components"]["schemas"]
    given_amount = schemas["CustomerCreate"]["properties"]["liquid_assets"]
    text, number = given_amount["anyOf"]
    assert (text["type"], text["pattern"]) == ("string", AMOUNT_PATTERN)
    assert number["type"] == "number"
    written = schemas["CustomerOut"]["properties"]["liquid_assets"]
    assert re.fullmatch(written["pattern"], "1200000.50")


# --- versions ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header, fits",
    [
        ('"3"', True),
        ('W/"3"', True),
        (' "3" ', True),
        ("3", False),
        ('w/"3"', False),
        ('"3", "3"', False),
        ('"1234567890"', False),
    ],
)
def test_the_if_match_pattern(header, fits):
    assert (re.fullmatch(IF_MATCH_PATTERN, header) is not None) == fits


def test_a_weak_etag_names_the_version_too(world, api_as):
    url = f"{CUSTOMERS}/{world.alice_customer.id}"
    alice = api_as(world.alice)
    etag = alice.get(url).headers["ETag"]
    response = alice.patch(url, json={"occupation": "教师"}, headers={"If-Match": f"W/{etag}"})
    assert response.status_code == 200


def test_a_malformed_if_match_is_refused_even_beside_a_version(world, api_as):
    url = f"{CUSTOMERS}/{world.alice_customer.id}"
    response = api_as(world.alice).patch(
        url, json={"occupation": "教师", "version": 1}, headers={"If-Match": "1"}
    )
    assert response.status_code == 422 and "If-Match" in response.get_json()["errors"]


def test_updates_describe_409_and_428_and_every_operation_401(spec):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            responses = operation["responses"]
            assert "401" in responses, (method, path)
            assert ("404" in responses) == ("{" in path), (method, path)
            versioned = any(p.get("name") == "If-Match" for p in operation.get("parameters", []))
            assert versioned == ({"409", "428"} <= set(responses)), (method, path)


# --- phones -----------------------------------------------------------------------------


def test_a_masked_phone_is_output_only_and_no_phone_to_send(spec):
    schemas = spec["components"]["schemas"]
    masked = schemas["CustomerOut"]["properties"]["phone"]
    assert masked["readOnly"] is True and masked["example"] == "138****1234"
    for name in ("CustomerCreate", "CustomerUpdate"):
        phone = schemas[name]["properties"]["phone"]
        assert re.fullmatch(phone["pattern"], phone["example"])
        assert not re.fullmatch(phone["pattern"], masked["example"])


def test_a_json_number_is_read_as_an_amount(world, api_as):
    response = api_as(world.alice).post(CUSTOMERS, json=NEW | {"liquid_assets": 1200000.5})
    assert response.status_code == 201 and response.get_json()["liquid_assets"] == "1200000.50"


# --- language ---------------------------------------------------------------------------


def test_a_null_is_refused_in_chinese_when_asked(world, api_as):
    response = api_as(world.alice, language="zh-CN").post(CUSTOMERS, json=NEW | {"name": None})
    assert response.status_code == 422
    assert response.get_json()["errors"]["name"] == "此项不能为空。"
