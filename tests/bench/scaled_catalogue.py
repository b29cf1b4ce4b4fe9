"""A province-sized catalogue generated from the real one's vocabulary (benchmarks and tests).

The embedded sample catalogue has 93 items; a city hall's catalogue at every level holds
thousands. :func:`scaled_catalogue` keeps the 93 real items and adds generated ones until it
holds ``size``, each derived from a real item (its department, level, categories, keywords)
in one of the ways real catalogues repeat themselves:

* the same service in another city or district (``济南市历下区`` + name);
* a sub-case of it (``…（变更）``, ``…（补办）``, ``…（参保职工）``);
* another action on its subject (the name's subject + ``注销`` / ``年审`` / ``查询`` …);
* a new item whose name joins the subject of one real item to the action of another;

the last three half of the time with a city or district in front.

Names are built from the real names, keywords and synonyms, so the characters, their pinyin
and the n-grams the index keys on have the statistics of the real catalogue. Popularity is
low (1-30: a long tail behind the real items' 0-100); ``source`` names the real item an item
was derived from (``generated from ZJ-019``). A fixed seed makes it repeatable.
"""

from __future__ import annotations

import random
import re

from kiosk.catalogue.model import Catalogue, Item

PLACES = {  # city -> some of its districts
    "济南市": ("历下区", "市中区", "槐荫区", "天桥区", "历城区", "长清区", "章丘区", "莱芜区"),
    "青岛市": ("市南区", "市北区", "黄岛区", "崂山区", "李沧区", "城阳区", "即墨区"),
    "淄博市": ("张店区", "淄川区", "博山区", "临淄区", "周村区"),
    "枣庄市": ("市中区", "薛城区", "峄城区", "台儿庄区", "山亭区"),
    "东营市": ("东营区", "河口区", "垦利区"),
    "烟台市": ("芝罘区", "福山区", "牟平区", "莱山区", "蓬莱区"),
    "潍坊市": ("潍城区", "寒亭区", "坊子区", "奎文区"),
    "济宁市": ("任城区", "兖州区"),
    "泰安市": ("泰山区", "岱岳区"),
    "威海市": ("环翠区", "文登区"),
    "日照市": ("东港区", "岚山区"),
    "临沂市": ("兰山区", "罗庄区", "河东区"),
    "德州市": ("德城区", "陵城区"),
    "聊城市": ("东昌府区", "茌平区"),
    "滨州市": ("滨城区", "沾化区"),
    "菏泽市": ("牡丹区", "定陶区"),
}
CASES = ("变更", "补办", "注销", "延续", "首次申领", "跨省通办", "参保职工", "参保居民",
         "新生儿", "港澳台居民", "不见面审批", "承诺制")
ACTIONS = ("申请", "登记", "认定", "审核", "备案", "查询", "打印", "办理", "发放", "年审",
           "变更", "注销", "补贴申请", "资格确认", "待遇核定", "证明开具")
_ACTION_END = re.compile("(" + "|".join(sorted({a for a in ACTIONS} | {
    "申领", "认证", "确认", "核定", "给付", "复审", "评估", "迁入", "迁出", "服务"},
    key=len, reverse=True)) + ")$")
_BRACKET = re.compile(r"[（(][^）)]*[）)]")


def _subject(name: str) -> str:
    """The name without its bracketed qualifier and its action word (最低生活保障申请 → …保障)."""
    core = _BRACKET.sub("", name).strip("“”《》")
    stripped = _ACTION_END.sub("", core)
    return stripped if len(stripped) >= 2 else core


def _generated(base: Item, other: Item, n: int, rng: random.Random) -> Item:
    way = n % 4
    city = rng.choice(sorted(PLACES))
    place = city + rng.choice(PLACES[city])
    if way == 0:
        name = place + base.name
    elif way == 1:
        name = f"{_BRACKET.sub('', base.name)}（{rng.choice(CASES)}）"
    elif way == 2:
        name = _subject(base.name) + rng.choice(ACTIONS)
    else:
        name = _subject(base.name) + _ACTION_END.search(other.name + "申请").group(1)  # type: ignore[union-attr]
        if rng.random() < 0.5:
            name = _subject(other.name)[:4] + name
    if way and rng.random() < 0.5:
        name = (city if rng.random() < 0.5 else place) + name
    keywords = tuple(rng.sample(base.keywords, k=min(len(base.keywords), rng.randint(0, 2))))
    if rng.random() < 0.3 and other.keywords:
        keywords += (rng.choice(other.keywords) + rng.choice(("服务", "业务", "事项")),)
    return base.model_copy(update={
        "code": f"GEN-{n:05d}", "name": name[:80], "keywords": keywords,
        "source": f"generated from {base.code}",
        "popularity": rng.randint(1, 30), "guide": None, "life_events": ()})


def scaled_catalogue(base: Catalogue, size: int, seed: int = 18) -> Catalogue:
    """``base`` with generated items added until it holds ``size`` items (never fewer than
    ``base`` has)."""
    rng = random.Random(seed)
    real = list(base.items)
    items = list(real)
    n = 0
    while len(items) < size:
        items.append(_generated(real[n % len(real)], rng.choice(real), n, rng))
        n += 1
    return base.model_copy(update={"items": tuple(items)})
