"""Search over the embedded sample catalogue: real queries and the result a person expects.

Each case is (query, acceptable top results, why). A set of two codes means the query is
genuinely ambiguous between equivalent items (the 参保居民 and 参保职工 forms of one service);
either is a correct first answer. The expectations were written from what a resident means,
not read off the engine's output.
"""

from __future__ import annotations

import pytest

from kiosk.catalogue.bundle import DEMO_PUBLIC_KEY, EMBEDDED_BUNDLE, trust, verify_bundle
from kiosk.catalogue.pinyin import match_syllables, normalise, tokens
from kiosk.catalogue.search import SearchIndex, synonym_variants

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
    ("sydj", {"ZJ-027", "ZJ-004"}, "生育登记 and 失业登记 share their initials"),
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


# -- the pieces ----------------------------------------------------------------------------------
def test_results_are_ranked_and_carry_how_they_matched(index: SearchIndex) -> None:
    hits = index.search("低保", limit=0)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert {h.item.code for h in hits} >= {"SQ-001", "ZJ-001", "ZJ-016", "SQ-008"}
    first = hits[0].as_dict()
    assert set(first) == {"code", "name", "score", "match", "matched"}
    assert first["matched"] == "低保申请"  # the synonym form that matched


def test_ylbx_puts_medical_insurance_before_pension_insurance(index: SearchIndex) -> None:
    """医疗保险 and 养老保险 share the initials ylbx; the hot-term table breaks the tie."""
    codes = [h.item.code for h in index.search("ylbx", limit=3)]
    assert codes[0] in MEDICAL_INSURANCE and codes[1] in MEDICAL_INSURANCE, codes
    pension = {h.item.code for h in index.search("ylbx", limit=10)}
    assert "ZJ-005" in pension  # 养老保险 is still offered, just lower


def test_nonsense_and_empty_queries_find_nothing(index: SearchIndex) -> None:
    assert index.search("") == []
    assert index.search("   ") == []
    assert index.search("qqqq") == []
    assert index.search("量子计算机") == []
    assert index.search("《》、") == []


def test_limit(index: SearchIndex) -> None:
    assert len(index.search("补贴", limit=3)) == 3
    assert len(index.search("补贴", limit=0)) > 3


def test_synonym_variants_swap_both_ways() -> None:
    groups = [("低保", "最低生活保障"), ("医保", "医疗保险")]
    assert synonym_variants("最低生活保障申请", groups) == ["低保申请"]
    assert "最低生活保障边缘" in synonym_variants("低保边缘", groups)
    both = synonym_variants("低保的医疗保险申请", groups)
    assert {"最低生活保障的医疗保险申请", "低保的医保申请", "最低生活保障的医保申请"} <= set(both)
    assert synonym_variants("就业失业登记", groups) == []


def test_pinyin_matcher_accepts_initials_full_and_mixed() -> None:
    toks = tokens(normalise("城镇居民医疗保险"))
    for query in ("ylbx", "yiliaobaoxian", "yiliaobx", "ylbaox", "yiliaob", "czjm", "zhenjmyl"):
        assert match_syllables(query, toks) is not None, query
    assert match_syllables("ylbxx", toks) is None
    assert match_syllables("xbly", toks) is None
    found = match_syllables("yiliaobaoxian", toks)
    assert found is not None and (found.start, found.count, found.full) == (4, 4, 4)
    initials_only = match_syllables("ylbx", toks)
    assert initials_only is not None and initials_only.full == 0


def test_pinyin_handles_polyphones_and_u_umlaut() -> None:
    assert match_syllables("zhongdu", tokens(normalise("重度残疾人"))) is not None  # not chong
    assert match_syllables("changqi", tokens(normalise("长期异地就医"))) is not None  # not zhang
    girl = tokens(normalise("失学女童"))
    assert match_syllables("nvtong", girl) and match_syllables("nutong", girl)


def test_normalise() -> None:
    assert normalise("《山东省老年优待证》办理") == "山东省老年优待证办理"
    assert normalise(" Ｙ Ｌ Ｂ Ｘ ") == "ylbx"
    assert normalise("转外就医医疗费用手工报销(参保居民)") == "转外就医医疗费用手工报销参保居民"


def test_hot_terms_only_break_ties(index: SearchIndex) -> None:
    plain = SearchIndex(index.items, index.synonyms)  # no hot terms
    assert plain.search("兵役登记", 1)[0].item.code == index.search("兵役登记", 1)[0].item.code
    # they reorder, they never add or remove a result
    assert {h.item.code for h in plain.search("ylbx", 0)} == {
        h.item.code for h in index.search("ylbx", 0)}
    with_terms = index.search("ylbx", 2)
    assert all(h.item.code in MEDICAL_INSURANCE for h in with_terms)


def test_next_letters_light_only_keys_that_lead_somewhere(index: SearchIndex) -> None:
    assert index.next_letters("dbs") == {"q", "h"}  # 低保申(请) / 低保审(核)
    assert "x" in index.next_letters("ylb")  # 医疗保险
    nothing = index.next_letters("qqq")
    assert nothing == frozenset()
    for letter in index.next_letters("yl"):
        assert index.search("yl" + letter, 1, fuzzy=False), letter
