"""What the hall says: ticket numbers digit by digit, window numbers as numbers."""

from __future__ import annotations

import pytest

from kiosk.speech import call_phrase, chinese_number, spell_digits, spell_ticket
from kiosk.speech.phrases import window_words


@pytest.mark.parametrize(("number", "spoken"), [
    ("A004", "A 零 零 四"), ("b120", "B 一 二 零"), ("C999", "C 九 九 九"), ("7", "七"),
    ("AB010", "AB 零 一 零")])
def test_tickets_are_read_digit_by_digit(number: str, spoken: str) -> None:
    assert spell_ticket(number) == spoken


def test_yao_for_one_when_the_hall_says_it_so() -> None:
    assert spell_ticket("A101", yao=True) == "A 幺 零 幺"
    assert spell_digits("110") == "一 一 零"


@pytest.mark.parametrize("bad", ["", "A", "A-004", "号004", "ABCD001", "A1234567"])
def test_not_a_ticket_number_is_refused_with_the_expected_shape(bad: str) -> None:
    with pytest.raises(ValueError, match=r"ticket number .*expected"):
        spell_ticket(bad)


@pytest.mark.parametrize(("value", "words"), [
    (0, "零"), (3, "三"), (10, "十"), (12, "十二"), (20, "二十"), (21, "二十一"),
    (100, "一百"), (105, "一百零五"), (110, "一百一十"), (1001, "一千零一"),
    (9999, "九千九百九十九")])
def test_window_numbers_as_numbers(value: int, words: str) -> None:
    assert chinese_number(value) == words


def test_window_words_keep_names_that_are_not_numbers() -> None:
    assert window_words("12") == "十二"
    assert window_words("综合") == "综合"


def test_the_call_phrase_names_the_ticket_and_the_window() -> None:
    assert call_phrase("A004", "3") == "请 A 零 零 四 号 到 三 号窗口 办理"
    with pytest.raises(ValueError):
        chinese_number(10000)
