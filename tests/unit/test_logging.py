"""The personal-data safety net of the logs: ID and phone numbers in every form people write
them (unbroken, spaced, dashed, full-width, +86) are masked; other numbers are left alone."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from drivers.privacy import scrub
from kiosk.cli.logging_setup import setup_logging

ID = "370102199003070032"
PHONE = "13812345678"


@pytest.mark.parametrize(("text", "masked"), [
    (f"id {ID}", "3701**********0032"),
    ("id 3701 0219 9003 0700 32", "3701**********0032"),
    ("id 370102 19900307 0032", "3701**********0032"),
    ("id 370102-19900307-0032", "3701**********0032"),
    ("id 370102－19900307－0032", "3701**********0032"),  # full-width hyphens
    ("id ３７０１０２１９９００３０７００３２", "3701**********0032"),  # full-width digits
    ("id 370102 19900307 003X", "3701**********003X"),
    ("id 370102 19900307 003ｘ", "3701**********003X"),
    ("old card 370102 900307 003", "3701*******7003"),  # 15-digit first generation
    (f"tel {PHONE}", "138****5678"),
    ("tel 138 1234 5678", "138****5678"),
    ("tel 138-1234-5678", "138****5678"),
    ("tel 138.1234.5678", "138****5678"),
    ("tel １３８１２３４５６７８", "138****5678"),
    ("tel １３８　１２３４　５６７８", "138****5678"),  # full-width spaces
    ("tel +86 138 1234 5678", "138****5678"),
    ("GET /lookup/138-1234-5678 404", "/lookup/138****5678 404"),
    ("2026-01-01 370102 19900307 0032 12", "2026-01-01 3701**********0032 12"),
    ("id 130102199003070032", "1301**********0032"),  # an ID of Hebei, not a phone + 7 digits
])
def test_every_written_form_is_masked(text: str, masked: str) -> None:
    cleaned = scrub(text)
    assert masked in cleaned, cleaned
    digits = "".join(ch for ch in cleaned.translate(str.maketrans("０１２３４５６７８９",
                                                                  "0123456789")) if ch.isdigit())
    assert "19900307" not in digits and "12345678" not in digits[3:]


@pytest.mark.parametrize("text", [
    "date 2026-01-01 12:00:05", "amount 1,234.56", "ticket A005 window 2",
    "version 2026.11.22-1", "ts 1718000000000", "127.0.0.1:8080", "0531-88776655",
    "serial 7 done in 12.5 s", "A-005 B-017",
])
def test_other_numbers_are_left_alone(text: str) -> None:
    assert scrub(text) == text


def test_the_one_set_up_filters_console_and_file(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    root = logging.getLogger()
    before = (root.level, list(root.handlers))
    try:
        setup_logging("INFO", tmp_path / "logs")
        log = logging.getLogger("test.logging")
        log.info("card %s, phone %s", "3701 0219 9003 0700 32", "１３８-１２３４-５６７８")
        try:
            raise ValueError("bad id 370102-19900307-0032")
        except ValueError:
            log.exception("failed for 138 1234 5678")
        for handler in root.handlers:
            handler.flush()
    finally:
        for handler in list(root.handlers):
            if getattr(handler, "_kiosk", False):
                root.removeHandler(handler)
                handler.close()
        root.setLevel(before[0])
    written = (tmp_path / "logs" / "kiosk.log").read_text("utf-8")
    console = capsys.readouterr().err
    for text in (written, console):
        assert text.count("3701**********0032") >= 2 and text.count("138****5678") == 2, text
        assert "0219 9003" not in text and "1234 5678" not in text and "１２３４" not in text
        assert "19900307" not in text


def test_no_entry_point_sets_up_logging_without_the_filter() -> None:
    """Every command (kiosk, kiosk-fleet, the hall server, the emulators) logs through
    ``drivers.logsetup.setup_logging``; a ``basicConfig`` would add an unfiltered handler."""
    root = Path(__file__).resolve().parents[2]
    offenders = [
        str(path.relative_to(root))
        for package in ("kiosk", "drivers", "fleet", "provisioning", "screens", "config")
        for path in (root / package).rglob("*.py")
        if "logging.basicConfig(" in path.read_text(encoding="utf-8")
    ]
    assert offenders == []


def test_the_printer_emulator_logs_through_the_filter(capsys: pytest.CaptureFixture[str]) -> None:
    from drivers.printer import emulator

    root = logging.getLogger()
    level = root.level
    try:
        setup_logging("INFO")
        emulator.log.error("job for %s failed", ID)
    finally:
        for handler in list(root.handlers):
            if getattr(handler, "_kiosk", False):
                root.removeHandler(handler)
        root.setLevel(level)
    err = capsys.readouterr().err
    assert ID not in err and "3701**********0032" in err
