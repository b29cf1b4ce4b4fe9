"""Search over the embedded sample catalogue: real queries and the result a person expects.

Each case is (query, acceptable top results, why). A set of two codes means the query is
genuinely ambiguous between equivalent items (the 参保居民 and 参保职工 forms of one service);
either is a correct first answer. The expectations were written from what a resident means,
not read off the engine's output.
"""

from __future__ import annotations

import pytest

from kiosk.catalogue.bundle import EMBEDDED_BUNDLE, trust, verify_bundle, DEMO_PUBLIC_KEY
from kiosk.catalogue.search import SearchIndex, synonym_variants
from kiosk.catalogue.source import load_source

ANY_YIDI = {"ZJ-039", "ZJ-048"}  # 长期异地就医备案（参保居民/参保职工）
#: names containing 医疗保险 or its synonym 医保: what `ylbx → 医疗保险` asks for
MEDICAL_INSURANCE = {"SQ-020", "ZJ-056", "ZJ-058", "SQ-008", "SQ-024", "SQ-025"}

QUERIES: list[tuple[str, set[str] | str, str]] = [
    # -- pinyin initials ------------------------------------------------------------------
    ("ylbx", MEDICAL_INSURANCE, "initials of 医疗保险 (the issue's example)"),
    ("dbsq", "SQ-001", "initials of 低保申请 (the issue's example) → 最低生活保障申请"),
    ("gljt", "ZJ-019", "高龄津贴"),
    ("zgrz", "ZJ-010", "资格认证: the most used pension service"),
    ("lnyd", "ZJ-026", "老年优待证"),
    ("ydjy", ANY_YIDI, "异地就医"),
    ("sydj", "ZJ-027", "生育登记"),
    ("jysy", "ZJ-004", "就业失业登记"),
    ("bydj", "SQ-021", "兵役登记"),
    ("zsz", {"ZJ-027", "SQ-009"}, "准生证, the everyday word for 生育登记/生育证"),
    ("lzf", "SQ-005", "廉租房"),
    ("cbjfzm", {"ZJ-057", "ZJ-046"}, "参保缴费证明"),
    ("ybgrzh", "ZJ-056", "医保个人账户"),
    ("lsjz", "ZJ-012", "临时救助"),
    ("tkry", {"SQ-002", "ZJ-002"}, "特困人员"),
    ("zdcjrhl", {"ZJ-018", "CJ-007"}, "重度残疾人护理(补贴)"),
    ("cjr", {"ZJ-017", "ZJ-018"}, "残疾人: the two subsidies most people come for"),
    # -- full pinyin and mixed -------------------------------------------------------------
    ("dibao", "SQ-001", "低保"),
    ("gaolingjintie", "ZJ-019", "高龄津贴"),
    ("yidijiuyi", ANY_YIDI, "异地就医"),
    ("bingyidengji", "SQ-021", "兵役登记"),
    ("shengyudengji", "ZJ-027", "生育登记"),
    ("lianzufang", "SQ-005", "廉租房"),
    ("yiliaojiuzhu", "ZJ-013", "医疗救助"),
    ("laonianyoudaizheng", "ZJ-026", "老年优待证"),
    ("canjirenhuli", {"ZJ-018", "CJ-007"}, "残疾人护理(补贴)"),
    ("yanglaobaoxiancanbao", "ZJ-005", "养老保险参保"),
    ("yiliaobx", MEDICAL_INSURANCE, "full pinyin then initials: 医疗bx"),
    ("YLBX", MEDICAL_INSURANCE, "upper case from a hardware keyboard"),
    ("ｙｌｂｘ", MEDICAL_INSURANCE, "full-width letters from a Chinese IME"),
    ("低保sq", "SQ-001", "Chinese then initials"),
    # -- Chinese ---------------------------------------------------------------------------
    ("低保", "SQ-001", "the application is what people come for"),
    ("医疗救助", "ZJ-013", "exact name"),
    ("高龄津贴", "ZJ-019", "substring of 80周岁以上长寿老年人高龄津贴"),
    ("异地就医", ANY_YIDI, "keyword and substring"),
    ("兵役登记", "SQ-021", "exact name"),
    ("老年优待证", "ZJ-026", "inside 《山东省老年优待证》办理"),
    ("资格认证", "ZJ-010", "most popular of the 资格认证 items"),
    ("医保个人账户", "ZJ-056", "prefix"),
    ("临时救助", "ZJ-012", "临时救助（含教育救助）: the bracket only qualifies the name"),
    ("小麦", "CJ-001", "the only farming item"),
    ("两癌筛查", "SQ-014", "inside quotation marks in the name"),
    ("护理补贴", {"ZJ-018", "CJ-007"}, "重度残疾人护理补贴"),
    ("参保缴费证明", {"ZJ-057", "ZJ-046"}, "inside 打印参保缴费证明（…）"),
    ("养老认证", "ZJ-010", "characters in order: 养老(金)认证"),
    # -- synonyms and everyday words -------------------------------------------------------
    ("最低生活保障申请", "SQ-001", "exact official name"),
    ("低保申请", "SQ-001", "synonym 低保 ↔ 最低生活保障"),
    ("社保查询", "ZJ-011", "社保 ↔ 社会保险 and a keyword"),
    ("社会保险个人权益", "ZJ-011", "prefix of the official name"),
    ("五保", "SQ-002", "the old name of 特困人员供养"),
    ("老年证", "ZJ-026", "老年证 ↔ 老年优待证"),
    ("高龄补贴", {"SQ-018", "ZJ-019"}, "高龄补贴 ↔ 高龄津贴"),
    ("养老金认证", "ZJ-010", "养老金 ↔ 养老保险待遇, 资格认证"),
    ("生存认证", "ZJ-010", "生存认证 ↔ 资格认证"),
    ("医保", "ZJ-056", "医保 ↔ 医疗保险: the most used 医保 service"),
    ("退伍军人", "ZJ-024", "带病回乡退伍军人身份认定"),
    ("准生证", "ZJ-027", "everyday word for 生育登记"),
    ("独生子女费", "SQ-011", "in brackets of the name, and a synonym"),
    # -- typos -----------------------------------------------------------------------------
    ("最底生活保障", "SQ-001", "底 for 低 (same sound)"),
    ("低报申请", "SQ-001", "报 for 保 (same sound)"),
    ("高龄津帖", "ZJ-019", "帖 for 贴 (same sound)"),
    ("异地救医", ANY_YIDI, "救 for 就 (same sound)"),
    ("残疾人护里补贴", {"ZJ-018", "CJ-007"}, "里 for 理"),
    ("gaolingjintei", "ZJ-019", "two letters swapped"),
    ("yanglaobaoxain", {"ZJ-005", "ZJ-006"}, "two letters swapped"),
    ("lianzhufang", "SQ-005", "zh for z (a common dialect slip)"),
    # -- codes -----------------------------------------------------------------------------
    ("ZJ-019", "ZJ-019", "the item code"),
    ("sq021", "SQ-021", "the code without the hyphen, lower case"),
]


@pytest.fixture(scope="module")
def index() -> SearchIndex:
    bundle = verify_bundle(EMBEDDED_BUNDLE.read_bytes(), trust([DEMO_PUBLIC_KEY]))
    catalogue = bundle.catalogue
    return SearchIndex(catalogue.items, catalogue.synonyms, catalogue.hot_terms)


def test_there_are_at_least_forty_queries() -> None:
    assert len(QUERIES) >= 40
    assert len({q for q, _, _ in QUERIES}) == len(QUERIES)


@pytest.mark.parametrize(("query", "expected", "why"), QUERIES, ids=[q for q, _, _ in QUERIES])
def test_top_result(index: SearchIndex, query: str, expected: set[str] | str, why: str) -> None:
    expected_codes = {expected} if isinstance(expected, str) else expected
    hits = index.search(query, limit=5)
    assert hits, f"{query!r} found nothing ({why})"
    shown = [(h.item.code, h.item.name, round(h.score, 1), h.match) for h in hits]
    assert hits[0].item.code in expected_codes, f"{query!r} ({why}): got {shown}"
