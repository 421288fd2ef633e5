"""NHS numbers and unique pupil numbers: real check digits, plain-English messages."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from hypothesis import assume, example, given
from hypothesis import strategies as st
from stdnum.gb import nhs, upn

from mash.people.identifiers import (
    clean_nhs_number,
    clean_upn,
    format_nhs_number,
    nhs_check_digit,
    upn_check_letter,
)

NHS_ONLY_NUMBERS = "NHS number must contain only numbers, like 943 476 5919"
NHS_TEN_NUMBERS = "NHS number must be 10 numbers, like 943 476 5919"
NHS_CHECK = (
    "NHS number is not valid: check it has been copied correctly (the last number is a check digit)"
)
UPN_LENGTH = "Unique pupil number must be 13 characters, like A123456789012"
UPN_LA = "Unique pupil number must have a real local authority number in characters 2 to 4"
UPN_CHECK = (
    "Unique pupil number is not valid: check it has been copied correctly (the first letter is "
    "a check letter)"
)
UPN_FORMAT = "Unique pupil number must be a letter, 11 numbers, then a number or letter"

# Real local authority numbers (python-stdnum's list), for building pupil numbers.
LA_NUMBERS = ("201", "204", "210", "301", "330", "800", "886", "938")


def _message(error: pytest.ExceptionInfo[ValidationError]) -> str:
    return " ".join(error.value.messages)


# --- NHS numbers -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "cleaned"),
    [
        ("9434765919", "9434765919"),
        ("943 476 5919", "9434765919"),
        (" 943-476-5919 ", "9434765919"),
        ("943\t476\n5919", "9434765919"),
        ("4010232137", "4010232137"),
        ("999 000 0018", "9990000018"),
    ],
)
def test_a_valid_nhs_number_is_accepted_as_ten_digits(typed, cleaned):
    assert nhs.is_valid(cleaned)
    assert clean_nhs_number(typed) == cleaned


@pytest.mark.parametrize("typed", ["", "   ", " - "])
def test_a_blank_nhs_number_is_no_number(typed):
    assert clean_nhs_number(typed) == ""


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("943 476 5918", NHS_CHECK),  # wrong check digit
        ("9434765910", NHS_CHECK),
        ("1234567890", NHS_CHECK),  # its check digit would be 10: no such number
        ("943 476 591", NHS_TEN_NUMBERS),
        ("94347659190", NHS_TEN_NUMBERS),
        ("1", NHS_TEN_NUMBERS),
        ("9" * 10_000, NHS_TEN_NUMBERS),
        ("943 476 591A", NHS_ONLY_NUMBERS),
        ("NHS9434765919", NHS_ONLY_NUMBERS),
        ("943.476.5919", NHS_ONLY_NUMBERS),
        ("٩٤٣٤٧٦٥٩١٩", NHS_ONLY_NUMBERS),  # Arabic-Indic digits are not NHS digits
        ("⁹⁴³⁴⁷⁶⁵⁹¹⁹", NHS_ONLY_NUMBERS),
    ],
)
def test_a_wrong_nhs_number_is_refused_with_a_message_that_says_why(typed, message):
    with pytest.raises(ValidationError) as error:
        clean_nhs_number(typed)
    assert _message(error) == message


def test_nhs_numbers_are_shown_in_three_groups():
    assert format_nhs_number("9434765919") == "943 476 5919"
    assert format_nhs_number("123") == "123"


nine_digits = st.text(alphabet="0123456789", min_size=9, max_size=9)


@given(nine_digits)
@example("943476591")
@example("999000001")
def test_every_number_built_with_the_check_digit_is_valid(first_nine):
    check = nhs_check_digit(first_nine)
    assume(check is not None)
    number = f"{first_nine}{check}"
    assert nhs.is_valid(number)
    assert clean_nhs_number(number) == number
    assert nhs.checksum(number) == 0


@given(st.text(alphabet="0123456789", min_size=8, max_size=8))
def test_without_a_check_digit_no_tenth_digit_makes_a_valid_number(first_eight):
    # Choose the ninth digit so that the check digit would be 10 (2 * 6 = 1 mod 11).
    total = sum(int(d) * w for d, w in zip(first_eight, range(10, 2, -1), strict=True))
    ninth = (6 * (1 - total)) % 11
    assume(ninth < 10)
    first_nine = f"{first_eight}{ninth}"
    assert nhs_check_digit(first_nine) is None
    assert not any(nhs.is_valid(f"{first_nine}{d}") for d in range(10))


@given(nine_digits, st.integers(min_value=0, max_value=9), st.integers(min_value=1, max_value=9))
def test_changing_any_single_digit_breaks_a_valid_number(first_nine, position, shift):
    check = nhs_check_digit(first_nine)
    assume(check is not None)
    number = f"{first_nine}{check}"
    digits = list(number)
    digits[position] = str((int(digits[position]) + shift) % 10)
    changed = "".join(digits)
    assert changed != number
    assert not nhs.is_valid(changed)
    with pytest.raises(ValidationError) as error:
        clean_nhs_number(changed)
    assert _message(error) == NHS_CHECK


@given(nine_digits)
def test_swapping_two_neighbouring_different_digits_breaks_a_valid_number(first_nine):
    check = nhs_check_digit(first_nine)
    assume(check is not None)
    number = f"{first_nine}{check}"
    for i in range(9):
        if number[i] != number[i + 1]:
            swapped = number[:i] + number[i + 1] + number[i] + number[i + 2 :]
            assert not nhs.is_valid(swapped), (number, swapped)


# --- Unique pupil numbers --------------------------------------------------------------------


def _upn(rest: str) -> str:
    return upn_check_letter(rest) + rest


@pytest.mark.parametrize(
    ("typed", "cleaned"),
    [
        ("B801200005001", "B801200005001"),  # python-stdnum's own example
        ("b801200005001", "B801200005001"),
        ("B801 2000 05 001", "B801200005001"),
        (" " + _upn("210456715001") + " ", _upn("210456715001")),
        (_upn("21045671500A"), _upn("21045671500A")),  # a temporary number ends in a letter
    ],
)
def test_a_valid_upn_is_accepted_in_capitals(typed, cleaned):
    assert upn.is_valid(cleaned)
    assert clean_upn(typed) == cleaned


def test_a_blank_upn_is_no_number():
    assert clean_upn("") == ""
    assert clean_upn("  ") == ""


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("A801200005001", UPN_CHECK),
        ("1801200005001", UPN_CHECK),
        ("B80120000500", UPN_LENGTH),
        ("B8012000050011", UPN_LENGTH),
        ("B" * 10_000, UPN_LENGTH),
        ("E000200005001", UPN_LA),  # no local authority 000
        ("X80120000A001", UPN_FORMAT),
        ("B80120000500!", UPN_FORMAT),
        ("B80120000500I", UPN_FORMAT),  # I is not used: it looks like 1
    ],
)
def test_a_wrong_upn_is_refused_with_a_message_that_says_why(typed, message):
    with pytest.raises(ValidationError) as error:
        clean_upn(typed)
    assert _message(error) == message


eight_digits = st.text(alphabet="0123456789", min_size=8, max_size=8)
last_character = st.sampled_from("0123456789ABCDEFGHJKLMNPQRTUVWXYZ")


@given(st.sampled_from(LA_NUMBERS), eight_digits, last_character)
def test_every_upn_built_with_the_check_letter_is_valid(la, middle, last):
    number = _upn(f"{la}{middle}{last}")
    assert upn.is_valid(number)
    assert clean_upn(number.lower()) == number


@given(
    st.sampled_from(LA_NUMBERS),
    eight_digits,
    st.integers(min_value=4, max_value=11),
    st.integers(min_value=1, max_value=9),
)
def test_changing_any_digit_after_the_la_number_breaks_a_valid_upn(la, middle, position, shift):
    number = _upn(f"{la}{middle}0")
    chars = list(number)
    chars[position] = str((int(chars[position]) + shift) % 10)
    changed = "".join(chars)
    assert not upn.is_valid(changed)
    with pytest.raises(ValidationError) as error:
        clean_upn(changed)
    assert _message(error) == UPN_CHECK
