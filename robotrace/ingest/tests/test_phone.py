from __future__ import annotations

from robotrace.ingest.phone import extract_callback_numbers


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
