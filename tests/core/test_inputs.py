"""What a stored text may hold: the rule every form, the API and the importer apply."""

from __future__ import annotations

import pytest

from crm.core.inputs import has_control_characters, printable, refuse_control_characters


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
