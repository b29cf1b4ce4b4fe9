"""What a scanned code is: resident code, enterprise code, electronic business licence, queue
ticket or receipt number, URL, or unknown.

Classification looks only at the payload's form (it never calls the platform) and is cheap.
Resident and enterprise codes are recognised by configurable patterns (the token format of
:mod:`kiosk.codes.tokens` by default, plus whatever formats the province's platform uses).
A business licence is a bare unified social credit code (统一社会信用代码, GB 32100-2015, with
a correct check character) or a URL on a licence host that carries one. Anything that looks
like an ID number or a mobile number is *unknown* and sensitive, never a receipt number.

``sensitive`` classes (resident, enterprise, unknown) must not be shown, printed or logged;
:func:`safe_summary` says what may be shown of a scan.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from config.codes import (  # the [codes] section's defaults
    DEFAULT_ENTERPRISE_PATTERNS,
    DEFAULT_LICENCE_HOSTS,
    DEFAULT_RESIDENT_PATTERNS,
    DEFAULT_TICKET_PATTERNS,
)
from drivers.idcard.idnumber import is_valid_id_number

USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_USCC_RE = re.compile(r"^[1-9A-HNY][1-9A-Z]\d{6}[0-9A-HJ-NP-RTUW-Y]{10}$")
_USCC_SEARCH = re.compile(
    r"(?<![0-9A-Z])[1-9A-HNY][1-9A-Z]\d{6}[0-9A-HJ-NP-RTUW-Y]{10}(?![0-9A-Z])")
_PHONE_RE = re.compile(r"^1[3-9]\d{9}$")


class CodeClass(enum.StrEnum):
    RESIDENT = "resident_code"
    ENTERPRISE = "enterprise_code"
    BUSINESS_LICENCE = "business_licence"
    TICKET = "ticket"  # queue ticket or receipt number
    URL = "url"
    UNKNOWN = "unknown"

    @property
    def label_zh(self) -> str:
        return _LABELS_ZH[self]

    @property
    def sensitive(self) -> bool:
        return self in (CodeClass.RESIDENT, CodeClass.ENTERPRISE, CodeClass.UNKNOWN)


_LABELS_ZH = {
    CodeClass.RESIDENT: "居民码",
    CodeClass.ENTERPRISE: "企业码",
    CodeClass.BUSINESS_LICENCE: "电子营业执照",
    CodeClass.TICKET: "排队号/回执号",
    CodeClass.URL: "网址",
    CodeClass.UNKNOWN: "未知",
}



def uscc_check_char(first17: str) -> str:
    """The 18th character of a unified social credit code (GB 32100-2015)."""
    if len(first17) != 17 or any(c not in USCC_CHARS for c in first17):
        raise ValueError("a credit code body is 17 characters of " + USCC_CHARS)
    total = sum(USCC_CHARS.index(c) * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_CHARS[(31 - total % 31) % 31]


def is_valid_uscc(value: str) -> bool:
    value = value.strip().upper()
    if not _USCC_RE.match(value):
        return False
    return uscc_check_char(value[:17]) == value[17]


def find_uscc(text: str) -> str:
    """The first valid credit code inside ``text`` (a URL, a licence QR), or ""."""
    for candidate in _USCC_SEARCH.findall(unquote(text).upper()):
        if is_valid_uscc(candidate):
            return candidate
    return ""


@dataclass(frozen=True)
class Classification:
    cls: CodeClass
    length: int
    #: what may be shown of the payload: a ticket number, a credit code, a URL's host; "" else
    shown: str = ""

    @property
    def sensitive(self) -> bool:
        return self.cls.sensitive


class Classifier:
    """Classifies payloads with compiled, configurable patterns."""

    def __init__(self, resident_patterns: Sequence[str] = DEFAULT_RESIDENT_PATTERNS,
                 enterprise_patterns: Sequence[str] = DEFAULT_ENTERPRISE_PATTERNS,
                 ticket_patterns: Sequence[str] = DEFAULT_TICKET_PATTERNS,
                 licence_hosts: Sequence[str] = DEFAULT_LICENCE_HOSTS) -> None:
        self._resident = _compile(resident_patterns, "resident")
        self._enterprise = _compile(enterprise_patterns, "enterprise")
        self._ticket = _compile(ticket_patterns, "ticket")
        self._licence_hosts = tuple(h.lower().lstrip(".") for h in licence_hosts)

    def classify(self, payload: str) -> Classification:
        text = payload.strip()
        length = len(payload)
        if any(p.match(text) for p in self._resident):
            return Classification(CodeClass.RESIDENT, length)
        if any(p.match(text) for p in self._enterprise):
            return Classification(CodeClass.ENTERPRISE, length)
        if is_valid_uscc(text):
            return Classification(CodeClass.BUSINESS_LICENCE, length, text.upper())
        if re.match(r"^https?://", text, re.IGNORECASE):
            return self._url(text, length)
        if is_valid_id_number(text) or _PHONE_RE.match(text):
            return Classification(CodeClass.UNKNOWN, length)
        if any(p.match(text) for p in self._ticket):
            return Classification(CodeClass.TICKET, length, text)
        return Classification(CodeClass.UNKNOWN, length)

    def _url(self, text: str, length: int) -> Classification:
        try:
            parts = urlsplit(text)
            host = (parts.hostname or "").lower()
        except ValueError:
            return Classification(CodeClass.UNKNOWN, length)
        if any(host == h or host.endswith("." + h) for h in self._licence_hosts):
            credit = find_uscc(text)
            if credit:
                return Classification(CodeClass.BUSINESS_LICENCE, length, credit)
        # only the host is shown: a path or query may carry tokens or personal numbers
        return Classification(CodeClass.URL, length, host)


def _compile(patterns: Sequence[str], what: str) -> list[re.Pattern[str]]:
    compiled = []
    for pattern in patterns:
        try:
            compiled.append(re.compile(pattern))
        except re.error as exc:
            raise ValueError(f"the {what} pattern {pattern!r} is not a valid regular "
                             f"expression: {exc}") from exc
    return compiled


DEFAULT_CLASSIFIER = Classifier()


def classify(payload: str) -> Classification:
    """Classify with the default patterns."""
    return DEFAULT_CLASSIFIER.classify(payload)


def safe_summary(classification: Classification) -> str:
    """One line a technician or log may see: class, length and, if not sensitive, the part
    that may be shown."""
    text = f"{classification.cls.value} ({classification.cls.label_zh}), " \
           f"{classification.length} characters"
    if classification.shown and not classification.sensitive:
        text += f": {classification.shown}"
    return text
