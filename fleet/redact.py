"""Masking what a broken terminal sent before the quarantine keeps it.

A quarantined payload is kept for diagnosis, but it may hold anything: a name, an ID or phone
number, an address, a photo. Fields are recognised by their key (``name``, ``姓名``,
``address``, ``id_number``, ``phone``, ``photo`` and the like, at any depth) and masked by the
rules of :mod:`drivers.privacy`; what is left goes through ``scrub`` (ID and phone numbers
anywhere). Text that is not JSON is masked by the same keys with a pattern.

    text, detail = redact_payload(raw_bytes, detail)
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from drivers.privacy import mask_id_number, mask_name, mask_phone, mask_text, scrub

KEEP_CHARS = 2048  # of the payload's text, after masking


def _photo(_value: str) -> str:
    return "[removed]"


#: (words in a key, masker): the first whose word is in the lower-cased key wins
_RULES: tuple[tuple[tuple[str, ...], Callable[[str], str]], ...] = (
    (("photo", "portrait", "image", "picture", "照片", "头像", "相片"), _photo),
    (("id_number", "idnumber", "id_no", "idno", "idcard", "id_card", "cert_no", "certno",
      "身份证", "证件号", "公民身份号码"), mask_id_number),
    (("phone", "mobile", "tel", "手机", "电话", "联系方式"), mask_phone),
    (("address", "addr", "地址", "住址", "户籍"), lambda v: mask_text(v, 2)),
    (("name", "姓名", "名字", "申请人", "联系人", "办事人", "经办人", "xm"), mask_name),
)


#: a value shaped like a Chinese name (2 to 4 Han characters, maybe with the middle dot of
#: minority names), whatever its key: a broken payload may put one anywhere
_NAME_SHAPE = re.compile(r"[\u4e00-\u9fff]{1,3}(?:[·•][\u4e00-\u9fff]{1,6})?"
                         r"[\u4e00-\u9fff]")


def masker_for(key: str) -> Callable[[str], str] | None:
    low = key.lower()
    for words, masker in _RULES:
        if any(w in low for w in words):
            return masker
    return None


def _mask_value(key: str, text: str) -> str:
    masker = masker_for(key) if key else None
    if masker is not None:
        return masker(text)
    if _NAME_SHAPE.fullmatch(text.strip()):
        return mask_name(text)
    return text


def _walk(value: Any, key: str, found: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {k: _walk(v, str(k), found) for k, v in value.items()}
    if isinstance(value, list):
        return [_walk(v, key, found) for v in value]
    if value is None or isinstance(value, bool):
        return value
    if not isinstance(value, str) and masker_for(key) is None:
        return value  # numbers are kept unless their key is personal (a phone as a number)
    text = str(value)
    masked = _mask_value(key, text)
    if masked == text:
        return value
    if text:
        found[text] = masked
    return masked


_PAIR_RE = re.compile(r'"((?:[^"\\]|\\.){1,60})"\s*:\s*"((?:[^"\\]|\\.)*)"')


def _mask_pairs(text: str, found: dict[str, str]) -> str:
    def repl(m: re.Match[str]) -> str:
        masked = _mask_value(m.group(1), m.group(2))
        if masked == m.group(2):
            return m.group(0)
        if m.group(2):
            found[m.group(2)] = masked
        return f'"{m.group(1)}": "{masked}"'

    return _PAIR_RE.sub(repl, text)


def redact_payload(raw: bytes, detail: str = "") -> tuple[str, str]:
    """The payload's text with personal fields masked (at most ``KEEP_CHARS``), and
    ``detail`` (a validator's message, which may quote a value) with the same values
    masked."""
    text = raw.decode("utf-8", errors="replace")
    found: dict[str, str] = {}
    try:
        parsed = json.loads(text)
    except ValueError:
        text = _mask_pairs(text, found)
    else:
        text = json.dumps(_walk(parsed, "", found), ensure_ascii=False)
    for original in sorted(found, key=len, reverse=True):
        if len(original) >= 2:  # a one-character value would mask unrelated text
            detail = detail.replace(original, found[original])
    return scrub(text[:KEEP_CHARS]), scrub(detail)
