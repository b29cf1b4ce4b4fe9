"""Classification of scans, and the gate (length limit, duplicate suppression)."""

from __future__ import annotations

import threading

import pytest

from kiosk.codes import samples
from kiosk.codes.classify import (
    Classifier,
    CodeClass,
    classify,
    find_uscc,
    is_valid_uscc,
    safe_summary,
    uscc_check_char,
)
from kiosk.codes.embedded import EmbeddedCodePlatform
from kiosk.codes.gate import DuplicateFilter, Scan, ScanGate, ScanRejected
from kiosk.codes.platform import Person

PLATFORM = EmbeddedCodePlatform()
PERSON = Person("370102199003070032", "李明")
RESIDENT = PLATFORM.issue_resident_code(PERSON).text
ENTERPRISE = PLATFORM.issue_enterprise_code(PERSON, "ent-0001").text
CREDIT = samples.ENTERPRISES["ent-0001"][1]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_uscc_check_character() -> None:
    # a credit code widely used as the worked example of the GB 32100-2015 check
    assert uscc_check_char("91350100M000100Y4") == "3"
    assert is_valid_uscc("91350100M000100Y43")
    assert not is_valid_uscc("91350100M000100Y44")
    assert not is_valid_uscc("91350100M000100I43")  # I is not in the alphabet
    for _name, credit in samples.ENTERPRISES.values():
        assert is_valid_uscc(credit)
    assert find_uscc("https://zzlz.gsxt.gov.cn/verify?code=91350100M000100Y43&t=1") \
        == "91350100M000100Y43"


@pytest.mark.parametrize(("payload", "expected", "shown"), [
    (RESIDENT, CodeClass.RESIDENT, ""),
    (ENTERPRISE, CodeClass.ENTERPRISE, ""),
    ("91350100M000100Y43", CodeClass.BUSINESS_LICENCE, "91350100M000100Y43"),
    (f"https://zzlz.gsxt.gov.cn/businessCheck/verifyLicence?code={CREDIT}",
     CodeClass.BUSINESS_LICENCE, CREDIT),
    ("A005", CodeClass.TICKET, "A005"),
    ("TICKET:20240501-A005", CodeClass.TICKET, "TICKET:20240501-A005"),
    ("RECEIPT:SD2024050100123", CodeClass.TICKET, "RECEIPT:SD2024050100123"),
    ("370102202405010001234", CodeClass.TICKET, "370102202405010001234"),
    ("https://zwfw.sd.gov.cn/guide?item=123&token=abc", CodeClass.URL, "zwfw.sd.gov.cn"),
    ("370102199003070032", CodeClass.UNKNOWN, ""),  # an ID number is never a receipt
    ("13812345678", CodeClass.UNKNOWN, ""),  # nor a mobile number
    ("hello world", CodeClass.UNKNOWN, ""),
    ("RC1:" + "A" * 20, CodeClass.UNKNOWN, ""),  # too short for a token
])
def test_classes(payload: str, expected: CodeClass, shown: str) -> None:
    result = classify(payload)
    assert result.cls is expected
    assert result.shown == shown and result.length == len(payload)
    assert result.sensitive is (expected in (CodeClass.RESIDENT, CodeClass.ENTERPRISE,
                                             CodeClass.UNKNOWN))


def test_safe_summary_hides_sensitive_content() -> None:
    assert safe_summary(classify("A005")).endswith(": A005")
    text = safe_summary(classify(RESIDENT))
    assert "resident_code" in text and "居民码" in text and RESIDENT not in text
    assert "370102" not in safe_summary(classify("370102199003070032"))


def test_configured_patterns() -> None:
    classifier = Classifier(resident_patterns=[r"^SDJMM[0-9A-F]{32}$"], ticket_patterns=[],
                            licence_hosts=["licence.example.cn"])
    assert classifier.classify("SDJMM" + "AB" * 16).cls is CodeClass.RESIDENT
    assert classifier.classify(RESIDENT).cls is CodeClass.UNKNOWN
    assert classifier.classify("A005").cls is CodeClass.UNKNOWN
    url = f"https://licence.example.cn/l/{CREDIT}"
    assert classifier.classify(url).cls is CodeClass.BUSINESS_LICENCE
    with pytest.raises(ValueError, match="resident pattern"):
        Classifier(resident_patterns=["(unclosed"])


def test_duplicates_within_the_sliding_window() -> None:
    clock = Clock()
    dup = DuplicateFilter(3.0, clock)
    assert dup.accept("A005")
    clock.now += 2.9
    assert not dup.accept("A005")
    clock.now += 2.9  # still held in view: the window slid with the last sighting
    assert not dup.accept("A005")
    assert dup.accept("B012")
    clock.now += 3.0
    assert dup.accept("A005")
    dup.forget()
    assert dup.accept("A005")


def test_filter_keeps_digests_not_payloads() -> None:
    dup = DuplicateFilter(3.0)
    dup.accept(RESIDENT)
    assert RESIDENT not in repr(dup.__dict__)
    assert all(isinstance(k, bytes) and len(k) == 16 for k in dup._seen)
    assert len(dup) == 1


def test_filter_forgets_after_the_window_and_is_bounded() -> None:
    clock = Clock()
    dup = DuplicateFilter(1.0, clock, max_entries=10)
    for i in range(50):
        dup.accept(f"T{i}")
    assert len(dup) <= 10
    clock.now += 1.0
    assert len(dup) == 0


def test_gate() -> None:
    clock = Clock()
    gate = ScanGate(max_length=200, window_s=3.0, clock=clock)
    first = gate.admit(RESIDENT, "camera")
    assert isinstance(first, Scan) and first.cls == "resident_code" and first.source == "camera"
    assert RESIDENT not in repr(first)
    again = gate.admit(RESIDENT, "scanner")  # the same code from the other device
    assert isinstance(again, ScanRejected) and again.reason == "duplicate"
    assert again.message_zh == ""
    long = gate.admit("X" * 201)
    assert isinstance(long, ScanRejected) and long.reason == "too_long" and long.message_zh
    assert gate.counts == {"accepted": 1, "duplicate": 1, "too_long": 1}
    with pytest.raises(ValueError):
        ScanGate(max_length=0)


def test_gate_is_thread_safe() -> None:
    gate = ScanGate(window_s=60)
    accepted: list[str] = []
    lock = threading.Lock()

    def worker() -> None:
        for i in range(200):
            result = gate.admit(f"T{i % 50}")
            if isinstance(result, Scan):
                with lock:
                    accepted.append(result.payload)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
        assert not t.is_alive()
    assert sorted(accepted) == sorted(f"T{i}" for i in range(50))
