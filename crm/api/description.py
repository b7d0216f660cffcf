"""What the OpenAPI description says that marshmallow cannot derive from the schemas: how an
amount may be written, and the errors every operation may answer.

The description promises what the API accepts, and schemathesis holds the API to it
(``tests/system/test_schemathesis.py``); ``tests/api/test_description.py`` holds each pattern
here to the code that reads the value.
"""

from __future__ import annotations

from apispec import BasePlugin

from crm.api import fields
from crm.core.inputs import MAX_AMOUNT

# Python's str.strip() whitespace, which ``inputs.read_amount`` strips (JSON Schema's \s differs).
_SPACE = r"[\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*"
_DIGIT = "[0-9０-９]"
_WHOLE = f"(?:{_DIGIT}{{1,3}}(?:[,，]{_DIGIT}{{3}})+|{_DIGIT}+)"
# An amount as ``inputs.read_amount`` reads it, and nothing else: ¥1,000,000.50, 1000元,
# １，０００ (full-width), never an exponent. Whether the amount is acceptable (not negative, at
# most two decimals, not past the largest) is the domain's to say.
AMOUNT_PATTERN = (
    f"^{_SPACE}[¥￥]?{_SPACE}[+＋\\-－]?(?:{_WHOLE}(?:[.．]{_DIGIT}*)?|[.．]{_DIGIT}+)"
    f"{_SPACE}元?{_SPACE}$"
)
AMOUNT_RULES = (
    "An amount in yuan: a string such as 250000.00 (¥ and thousands separators are read "
    "too), or a JSON number written without an exponent, read exactly; from 0 to "
    "1000000000000.00, with at most two decimals."
)


def money2properties(self, field, ret: dict, **kwargs) -> dict:
    """An amount the API reads (an input schema's Money) is a string in the form above or a
    JSON number; one it writes is a string with two decimals."""
    if not isinstance(field, fields.Money):
        return {}
    if not isinstance(field.root, fields.Schema):  # output: always "250000.00"
        return {"pattern": r"^-?[0-9]+\.[0-9]{2}$"}
    nullable = {"nullable": True} if ret.pop("nullable", False) else {}
    example = ret.pop("example", None)
    ret.pop("type", None)
    ret.pop("format", None)
    ret["description"] = " ".join(filter(None, (AMOUNT_RULES, ret.get("description"))))
    text = {"type": "string", "pattern": AMOUNT_PATTERN} | nullable
    # multipleOf keeps generated numbers to ones JSON writes without an exponent.
    number = {"type": "number", "minimum": 0, "maximum": float(MAX_AMOUNT), "multipleOf": 0.01}
    return {"anyOf": [text, number | nullable]} | ({"example": example} if example else {})


class ErrorAnswers(BasePlugin):
    """The errors an operation may answer whatever it does, in its responses: 401 without a
    valid token; 404 when its path names a record that is not there, or not one the token's
    holder may see; 400 and 415 when it reads a body that is not JSON. (422 comes with the
    schemas; 409 and 428 with ``locking.versioned``.)"""

    def operation_helper(self, path=None, operations=None, **kwargs) -> None:
        for operation in (operations or {}).values():
            answers = {401: "UNAUTHORIZED"}
            if "{" in (path or ""):
                answers[404] = "NOT_FOUND"
            if "requestBody" in operation:
                answers |= {400: "BAD_REQUEST", 415: "UNSUPPORTED_MEDIA_TYPE"}
            responses = operation.setdefault("responses", {})
            for code, name in answers.items():
                if code not in responses and str(code) not in responses:
                    responses[code] = name
