import pytest

from crm.core.phones import InvalidPhone, mask_phone, normalize_phone


@pytest.mark.parametrize(
    "raw",
    ["13812341234", "138 1234 1234", "138-1234-1234", "+86 138 1234 1234", "008613812341234"],
)
def test_mainland_mobiles_in_any_usual_spelling_are_one_number(raw):
    assert normalize_phone(raw) == "+8613812341234"


@pytest.mark.parametrize("raw", ["", "hello", "1381234", "12345678901", "010-62345678"])
def test_invalid_or_landline_numbers_are_refused(raw):
    with pytest.raises(InvalidPhone):
        normalize_phone(raw)


def test_masking_shows_prefix_and_tail_only():
    assert mask_phone("+8613812341234") == "138****1234"
    assert mask_phone(None) == ""
