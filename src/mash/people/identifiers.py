"""NHS numbers and unique pupil numbers, checked with their real check digits."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from stdnum import exceptions as stdnum_errors
from stdnum.gb import nhs, upn


def clean_nhs_number(value: str) -> str:
    """The 10 digits of a valid NHS number, or a ValidationError that says what is wrong."""
    compact = "".join(ch for ch in value if not ch.isspace() and ch != "-")
    if not compact:
        return ""
    if not (compact.isascii() and compact.isdigit()):  # isdigit alone accepts "٩" and "²"
        raise ValidationError("NHS number must contain only numbers, like 943 476 5919")
    if len(compact) != 10:
        raise ValidationError("NHS number must be 10 numbers, like 943 476 5919")
    try:
        return str(nhs.validate(compact))
    except stdnum_errors.ValidationError:
        raise ValidationError(
            "NHS number is not valid: check it has been copied correctly (the last number is a "
            "check digit)"
        ) from None


def clean_upn(value: str) -> str:
    """A valid unique pupil number in capitals, or a ValidationError that says what is wrong."""
    compact = "".join(value.split()).upper()
    if not compact:
        return ""
    if len(compact) != 13:
        raise ValidationError("Unique pupil number must be 13 characters, like A123456789012")
    try:
        return str(upn.validate(compact))
    except stdnum_errors.InvalidComponent:
        raise ValidationError(
            "Unique pupil number must have a real local authority number in characters 2 to 4"
        ) from None
    except stdnum_errors.InvalidChecksum:
        raise ValidationError(
            "Unique pupil number is not valid: check it has been copied correctly (the first "
            "letter is a check letter)"
        ) from None
    except stdnum_errors.ValidationError:
        raise ValidationError(
            "Unique pupil number must be a letter, 11 numbers, then a number or letter"
        ) from None


def format_nhs_number(value: str) -> str:
    return f"{value[:3]} {value[3:6]} {value[6:]}" if len(value) == 10 else value


def nhs_check_digit(first_nine: str) -> int | None:
    """The NHS number check digit for nine digits, or None where no valid number exists."""
    total = sum(int(d) * w for d, w in zip(first_nine, range(10, 1, -1), strict=True))
    check = 11 - total % 11
    if check == 11:
        return 0
    if check == 10:
        return None
    return check


def upn_check_letter(last_twelve: str) -> str:
    return str(upn.calc_check_digit(last_twelve))
