"""One set of telephone-number rules for every app: validity, E.164, national spellings,
callback numbers (written and spoken), and the NANP table the pinned phonenumbers gives."""

from __future__ import annotations

import re
from pathlib import Path

import phonenumbers
import pytest

import robotrace
from robotrace.core import phones
from robotrace.core.data import make_nanp
from robotrace.core.phones import extract_callback_numbers


def test_it_finds_written_callback_numbers():
    assert extract_callback_numbers("please call us back at 833-304-1447 today") == ["+18333041447"]


def test_it_finds_spoken_callback_numbers():
    text = "press one or call eight three three, three oh four, one four four seven now"
    assert "+18333041447" in extract_callback_numbers(text)


def test_it_does_not_join_a_written_number_with_a_spoken_digit_after_it():
    # "…4613 two" once produced a second, invented number (+17792646132).
    assert extract_callback_numbers("call 877-926-4613 two times if busy") == ["+18779264613"]


def test_it_ignores_text_without_numbers():
    assert extract_callback_numbers("your car warranty is about to expire") == []


def test_it_keeps_written_numbers_no_line_could_hold_only_when_asked():
    text = "call our warranty desk at 833-555-0199 now"
    assert phones.callback_numbers_in(text) == ()
    assert phones.callback_numbers_in(text, written_as_given=True) == ("+18335550199",)


def test_it_finds_spoken_numbers_with_hundreds_and_repeats():
    assert extract_callback_numbers("call one eight hundred, triple five, two eight three four") == ["+18005552834"]


@pytest.mark.parametrize(
    "raw, e164, reason",
    [
        ("(919) 332-4567", "+19193324567", ""),
        ("1-919-332-4567", "+19193324567", ""),
        ("+1 919 332 4567", "+19193324567", ""),
        ("011 44 20 7946 0000", "+442079460000", ""),
        ("1234567890", "+11234567890", "area code starts with 0 or 1"),
        ("9195550123", "+19195550123", "555-01XX is reserved for fiction"),
        ("9999999999", "+19999999999", "area code is not assigned"),
        ("12", "", "not a 10-digit North American number"),
        ("", "", "no number"),
    ],
)
def test_it_normalises_and_says_why_a_number_cannot_be_real(raw, e164, reason):
    assert (phones.normalise(raw), phones.invalid_reason(raw)) == (e164, reason)
    assert phones.valid(raw) == ("" if reason else e164)


def test_form_numbers_are_parsed_or_refused_with_the_reason():
    assert phones.parse(" 919.555.0142 ") == "+19195550142"
    with pytest.raises(phones.BadNumber, match="not a phone number"):
        phones.parse("12")
    with pytest.raises(phones.BadNumber, match="empty"):
        phones.parse("  ")


def test_national_spellings():
    assert phones.national("+1 (919) 555-0101") == phones.national("19195550101") == "9195550101"
    assert phones.format_national("+19195550101") == "(919) 555-0101"
    assert phones.format_national("+442079460000") == "+442079460000"
    assert phones.normalise_all(["919-332-4567", "not a number", "+19193324567", "+1 844 921 0044"]) == ["+19193324567", "+18449210044"]


def test_the_nanp_table_is_what_the_installed_phonenumbers_gives():
    assert phones.DATA_FILE.read_text() == make_nanp.render(), "run: python -m robotrace.core.data.make_nanp"


def test_the_installed_phonenumbers_is_the_pinned_one():
    requirements = Path(robotrace.__file__).resolve().parent.parent / "requirements.txt"
    if not requirements.exists():
        pytest.skip("not a source checkout")
    pin = re.search(r"^phonenumbers==(\S+)$", requirements.read_text(), re.MULTILINE)
    assert pin is not None and pin.group(1) == phonenumbers.__version__
