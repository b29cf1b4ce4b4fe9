"""Translations with gettext. The source language is Chinese: msgids are the Chinese texts.

The ``.po`` files under ``kiosk/locale/<lang>/LC_MESSAGES/kiosk.po`` are the only source; they
are compiled to gettext's binary format in memory when loaded (so a stale ``.mo`` can never
ship). ``python -m kiosk.i18n compile`` also writes ``.mo`` files for other tools, and
``python -m kiosk.i18n check`` lists texts used in the code and ``.kv`` files that have no
translation.
"""

from __future__ import annotations

import ast
import gettext
import io
import re
import struct
import sys
from functools import cache
from pathlib import Path

DOMAIN = "kiosk"
LOCALE_DIR = Path(__file__).parent / "locale"
SOURCE_LANGUAGE = "zh_CN"
LANGUAGES = ("zh_CN", "en")
ROOT = Path(__file__).resolve().parent.parent

#: what the identify step asks for, by which readers work (screens/identify.py)
IDENTIFY_PROMPTS = (
    "请将身份证放在感应区", "也可以插入社保卡，或出示居民码", "也可以插入社保卡",
    "也可以出示居民码", "请插入社保卡", "身份证阅读器暂时无法使用，也可以出示居民码",
    "身份证阅读器暂时无法使用", "请出示居民码", "暂时无法核验身份")

#: reasons the printer drivers and the print service give, shown on the print dialog
PRINTER_REASONS = ("打印机无响应", "打印纸已用完", "打印机盖未关好", "切纸刀故障", "打印机离线",
                   "打印机故障", "打印机状态未知", "打印纸即将用完", "打印机未启动", "打印机不可用",
                   "与打印机的连接中断", "本终端未配置打印机", "打印机暂时无法使用", "打印失败",
                   "无法连接打印机", "打印数据发送失败")

_TR_CALL = re.compile(r"""\btr\(\s*(["'])(.+?)\1""")


def parse_po(text: str) -> dict[str, str]:
    """Minimal PO parser: msgid/msgstr pairs with continued lines; no plurals needed here."""
    entries: dict[str, str] = {}
    msgid: list[str] | None = None
    msgstr: list[str] | None = None
    current: list[str] | None = None

    def flush() -> None:
        if msgid is not None and msgstr is not None:
            entries["".join(msgid)] = "".join(msgstr)

    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("msgid "):
            flush()
            msgid, msgstr = [ast.literal_eval(line[6:])], None
            current = msgid
        elif line.startswith("msgstr "):
            msgstr = [ast.literal_eval(line[7:])]
            current = msgstr
        elif line.startswith('"') and current is not None:
            current.append(ast.literal_eval(line))
    flush()
    return entries


def build_mo(entries: dict[str, str]) -> bytes:
    """GNU gettext .mo bytes for ``entries`` (same layout as msgfmt writes)."""
    keys = sorted(entries)
    ids = b"".join(k.encode() + b"\0" for k in keys)
    strs = b"".join(entries[k].encode() + b"\0" for k in keys)
    count = len(keys)
    header = 7 * 4
    id_table = header
    str_table = id_table + count * 8
    data_start = str_table + count * 8
    id_offsets, str_offsets = [], []
    pos = data_start
    for key in keys:
        length = len(key.encode())
        id_offsets += [length, pos]
        pos += length + 1
    for key in keys:
        length = len(entries[key].encode())
        str_offsets += [length, pos]
        pos += length + 1
    out = struct.pack("<7I", 0x950412DE, 0, count, id_table, str_table, 0, data_start)
    out += struct.pack(f"<{len(id_offsets)}I", *id_offsets)
    out += struct.pack(f"<{len(str_offsets)}I", *str_offsets)
    return out + ids + strs


def po_path(language: str) -> Path:
    """The main catalogue; flows may add their own ``<flow>.po`` beside it (merged)."""
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def po_entries(language: str) -> dict[str, str]:
    """Every ``.po`` of ``language`` merged (the main one first; later files add entries)."""
    folder = po_path(language).parent
    entries: dict[str, str] = {}
    main = po_path(language)
    files = [main, *sorted(p for p in folder.glob("*.po") if p != main)]
    for path in files:
        if path.exists():
            entries.update({k: v for k, v in parse_po(path.read_text("utf-8")).items() if v})
    return entries


@cache
def translations(language: str) -> gettext.NullTranslations:
    if language == SOURCE_LANGUAGE:
        return gettext.NullTranslations()
    path = po_path(language)
    if not path.exists():
        raise ValueError(f"no translation for language {language!r}; available: "
                         f"{', '.join(LANGUAGES)}")
    entries = {k: v for k, v in po_entries(language).items() if k}
    entries[""] = "Content-Type: text/plain; charset=UTF-8\n"
    return gettext.GNUTranslations(io.BytesIO(build_mo(entries)))


def translate(msgid: str, language: str) -> str:
    return translations(language).gettext(msgid)


def used_msgids(root: Path = ROOT) -> set[str]:
    """Every literal passed to ``tr(...)`` in screens/ and kiosk/ plus the flow titles."""
    found: set[str] = set()
    for folder in ("screens", "kiosk"):
        for path in (root / folder).rglob("*"):
            if path.suffix in (".py", ".kv"):
                found.update(m.group(2) for m in _TR_CALL.finditer(path.read_text("utf-8")))
    from config.schema import DEFAULT_TIPS
    from kiosk.devices.health import KIND_LABELS, STATE_LABELS
    from kiosk.devices.simulation import ACTIONS
    from kiosk.printing.proofs import PROOF_TYPES
    from kiosk.session.flows import FLOWS

    found.update(label for _, label, _, _ in ACTIONS)
    found.update(IDENTIFY_PROMPTS)
    from kiosk.ratings.levels import BAD_REASONS, LABELS

    for proof in PROOF_TYPES:
        found.update((proof.title, proof.description))
    found.update(PRINTER_REASONS, ("即将用完", "已用完", "未知"))
    for flow in FLOWS:
        found.update((flow.title, flow.subtitle, flow.description))
    found.update(LABELS.values(), BAD_REASONS, KIND_LABELS.values(),
                 DEFAULT_TIPS, STATE_LABELS.values(), ("爱山东",))
    return found


def missing(language: str = "en") -> list[str]:
    entries = po_entries(language)
    return sorted(m for m in used_msgids() if not entries.get(m))


def main(argv: list[str] | None = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    command = args[0] if args else "check"
    if command == "compile":
        for language in LANGUAGES:
            path = po_path(language)
            if path.exists():
                path.with_suffix(".mo").write_bytes(build_mo(po_entries(language)))
                print(f"compiled {path.with_suffix('.mo').relative_to(ROOT)}")
        return 0
    if command == "check":
        gaps = missing("en")
        for msgid in gaps:
            print(f"missing English translation: {msgid!r}")
        return 1 if gaps else 0
    print("usage: python -m kiosk.i18n [compile|check]", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
