"""办事指南: find a service item (on-screen pinyin keyboard, life events, departments, popular
items) and read its guide: conditions, materials, time limits, fees, where to go; print the
checklist, continue on the phone (QR), or take a number for it.

The catalogue view is pinned when the flow opens (a new catalogue version is swapped in only
between sessions, never under the resident's finger). Searching is in memory and takes about a
millisecond, so the keyboard calls it on the UI thread on every key press
(``tests/ui/test_guide_ui.py`` measures it). No personal data is involved; what the resident
typed is still forgotten when the session ends.
"""

from __future__ import annotations

from typing import Any

from kivy.properties import (
    BooleanProperty,
    ListProperty,
    NumericProperty,
    ObjectProperty,
    StringProperty,
)
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.utils import escape_markup

from screens.base import KioskScreen
from screens.flow_screens import FlowScreenSpec
from screens.widgets import KButton

#: results under the search box (and popular items while nothing is typed)
RESULT_LIMIT = 8
#: the 热门事项 page
POPULAR_LIMIT = 20
DETAIL_SCREEN = "guide_detail"
PAGES = ("search", "events", "departments", "popular")


class GuideItemRow(ButtonBehavior, BoxLayout):
    """One service item in a list: its name, and department and place underneath."""

    code = StringProperty("")
    name = StringProperty("")
    meta = StringProperty("")
    screen = ObjectProperty(None, allownone=True)

    @property
    def test_id(self) -> str:
        return f"item_{self.code}"


class GuideGroupTile(ButtonBehavior, BoxLayout):
    """A life event (一件事) or a department, with how many items it has."""

    key = StringProperty("")
    name = StringProperty("")
    description = StringProperty("")
    count = NumericProperty(0)
    screen = ObjectProperty(None, allownone=True)

    @property
    def test_id(self) -> str:
        return f"group_{self.key}"


class GuideKey(KButton):
    """A key of the on-screen keyboard; its width follows the keyboard's key unit."""

    key_id = StringProperty("")
    is_char = BooleanProperty(True)  # a letter or digit (dimmed when it leads nowhere)
    units = NumericProperty(1.0)  # width in key units (kiosk.catalogue.keyboard.Key.width)
    screen = ObjectProperty(None, allownone=True)


class GuideKeyboard(BoxLayout):
    """Rows of :class:`GuideKey` for one keyboard mode (built once, at start-up)."""

    unit = NumericProperty(60)  # width of a one-unit key (set in guide.kv from the width)
    gap = NumericProperty(8)
    mode = StringProperty("pinyin")
    screen = ObjectProperty(None, allownone=True)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.keys: list[GuideKey] = []
        self._rows: list[BoxLayout] = []

    def build(self, screen: Any) -> None:
        from kivy.metrics import dp

        from kiosk.catalogue.keyboard import Mode, layout

        self.screen = screen
        self.gap = dp(8)
        for row in layout(Mode(self.mode)):
            box = BoxLayout(size_hint=(None, None), spacing=self.gap,
                            pos_hint={"center_x": 0.5})
            for key in row:
                char = key.kind == "char"
                button = GuideKey(key_id=key.id, units=key.width, screen=screen, is_char=char,
                                  kind="secondary" if char else "primary",
                                  role="title" if char else "body", test_id=f"key_{key.id}")
                button.text = key.label if key.kind == "char" else ""
                box.add_widget(button)
                self.keys.append(button)
            self._rows.append(box)
            self.add_widget(box)
        self.bind(unit=self._size_keys)
        self._size_keys()

    def _size_keys(self, *_: Any) -> None:
        for row in self._rows:
            width = 0.0
            for key in row.children:
                key.width = self.unit * key.units + self.gap * (key.units - 1)
                width += key.width
            row.width = width + self.gap * (len(row.children) - 1)

    def relabel(self, tr: Any) -> None:
        """Labels of the function keys in the current language (letters stay letters)."""
        labels = {"backspace": tr("删除"), "clear": tr("清空"),
                  "switch": "123" if self.mode == "pinyin" else tr("拼音")}
        for key in self.keys:
            if key.key_id in labels:
                key.text = labels[key.key_id]

    def dim(self, enabled: frozenset[str]) -> None:
        """Letters that lead to no result are dimmed (disabled), never hidden."""
        for key in self.keys:
            if key.is_char:
                key.disabled = key.key_id not in enabled


class GuideScreen(KioskScreen):
    available = BooleanProperty(True)
    page = StringProperty("search")  # search | events | departments | popular
    #: what the search box shows: ``Y L B X`` (empty: the hint)
    query_display = StringProperty("")
    query = StringProperty("")
    mode = StringProperty("pinyin")  # the keyboard's mode
    #: item codes listed under the search box now, in order
    result_codes = ListProperty()
    #: the browse page: the chosen group ("" = the list of groups) and its title
    group_key = StringProperty("")
    group_title = StringProperty("")
    lang = StringProperty("")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.view: Any = None
        self.keyboard: Any = None
        self._pools: dict[str, list[Any]] = {"results": [], "items": [], "groups": []}
        self._built = False

    # -- lifecycle -----------------------------------------------------------------------------
    def on_kv_post(self, *_: Any) -> None:
        self.ids.pinyin_keys.build(self)
        self.ids.digit_keys.build(self)
        self._built = True
        self.on_lang()

    def on_lang(self, *_: Any) -> None:
        if not self._built or self.controller is None:
            return
        tr = self._tr
        self.ids.pinyin_keys.relabel(tr)
        self.ids.digit_keys.relabel(tr)

    def _tr(self, msgid: str) -> str:
        app = self.controller.app
        return app.tr(msgid, app.lang)

    def prepare(self) -> None:
        """The flow opens: pin the active catalogue for this visit and start on the search."""
        catalogue = self.controller.kiosk.catalogue if self.controller else None
        self.available = bool(catalogue is not None and catalogue.available)
        self.reset()
        if not self.available:
            return
        from kiosk.catalogue.keyboard import SearchKeyboard

        self.view = catalogue.view
        self.keyboard = SearchKeyboard(self.view, limit=RESULT_LIMIT)
        self._apply(self.keyboard.refresh())

    def reset(self) -> None:
        self.view = None
        self.keyboard = None
        self.page = "search"
        self.query = self.query_display = ""
        self.mode = "pinyin"
        self.group_key = self.group_title = ""
        self.result_codes = []
        for name in ("results", "items", "groups"):
            self._box(name).clear_widgets()
        self.ids.pinyin_keys.dim(frozenset("abcdefghijklmnopqrstuvwxyz"))

    def clear_personal(self) -> None:
        """Nothing personal is shown, but the next resident must not see this one's search."""
        self.reset()

    # -- the on-screen keyboard ----------------------------------------------------------------
    def press(self, key_id: str) -> None:
        """A key of the on-screen keyboard (letters, digits, 删除, 清空, 123/拼音)."""
        if self.keyboard is None:
            return
        self._apply(self.keyboard.press(key_id))

    def _apply(self, update: Any) -> None:
        self.query = update.text
        self.query_display = update.display
        self.mode = update.state.mode.value
        keys = self.ids.pinyin_keys if self.mode == "pinyin" else self.ids.digit_keys
        keys.dim(update.enabled)
        items = [hit.item for hit in update.results] if update.text else \
            self.view.popular(RESULT_LIMIT)
        self.result_codes = [item.code for item in items]
        self._fill_items("results", items)

    # -- browsing ------------------------------------------------------------------------------
    def show_page(self, page: str) -> None:
        """A tab: 拼音查找, 一件事, 按部门, 热门事项."""
        if page not in PAGES or self.view is None:
            return
        self.page = page
        self.group_key = ""
        self.group_title = ""
        if page == "events":
            self._fill_groups(self.view.life_events())
        elif page == "departments":
            self._fill_groups(self.view.departments())
        elif page == "popular":
            self.group_key, self.group_title = "popular", "热门事项"
            self._fill_items("items", self.view.popular(POPULAR_LIMIT))

    def open_group(self, key: str) -> None:
        """A life event or department tile: list its items."""
        if self.view is None:
            return
        groups = self.view.life_events() if self.page == "events" else self.view.departments()
        group = next((g for g in groups if g.key == key), None)
        if group is None:
            return
        self.group_key, self.group_title = group.key, group.name
        self._fill_items("items", list(group.items))
        self.ids.items_scroll.scroll_y = 1

    def back_to_groups(self) -> None:
        self.group_key = self.group_title = ""

    # -- the guide -----------------------------------------------------------------------------
    def open_item(self, code: str) -> None:
        """An item was tapped: its guide, on the detail page of this flow."""
        item = self.view.get(code) if self.view is not None else None
        if item is None:
            return
        detail = self.manager.get_screen(DETAIL_SCREEN)
        detail.show(item, self.view)
        self.manager.current = DETAIL_SCREEN

    # -- list widgets (pooled: a key press updates rows instead of building new ones) ---------
    def _box(self, name: str) -> Any:
        return self.ids[name]

    def _fill_items(self, name: str, items: list[Any]) -> None:
        pool = self._pools[name]
        while len(pool) < len(items):
            pool.append(GuideItemRow(screen=self))
        box = self._box(name)
        box.clear_widgets()
        for row, item in zip(pool, items, strict=False):
            row.code, row.name, row.meta = item.code, item.name, item_meta(item)
            box.add_widget(row)

    def _fill_groups(self, groups: list[Any]) -> None:
        pool = self._pools["groups"]
        while len(pool) < len(groups):
            pool.append(GuideGroupTile(screen=self))
        box = self._box("groups")
        box.clear_widgets()
        for tile, group in zip(pool, groups, strict=False):
            tile.key, tile.name = group.key, group.name
            tile.description, tile.count = group.description, len(group.items)
            box.add_widget(tile)
        self.ids.groups_scroll.scroll_y = 1


def item_meta(item: Any) -> str:
    """``区民政局 · 社区服务大厅 一楼 综合服务窗口`` (data: shown as it is)."""
    parts = [item.department]
    if item.where is not None:
        parts.append(item.where.text())
    return " · ".join(parts)


class GuideSection(BoxLayout):
    """A heading and its text on the guide page."""

    heading = StringProperty("")
    body = StringProperty("")  # Kivy markup; data is escaped
    test_id = StringProperty("")


class GuideDetailScreen(KioskScreen):
    code = StringProperty("")
    name = StringProperty("")
    meta = StringProperty("")
    online_url = StringProperty("")
    queue_category = StringProperty("")
    can_queue = BooleanProperty(False)
    sample = BooleanProperty(False)
    has_guide = BooleanProperty(False)
    printed = ListProperty()  # codes whose checklist was printed in this visit
    lang = StringProperty("")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.item: Any = None
        self.view: Any = None
        self._sections: list[GuideSection] = []

    def _tr(self, msgid: str) -> str:
        app = self.controller.app
        return app.tr(msgid, app.lang)

    def on_lang(self, *_: Any) -> None:
        if self.item is not None and self.controller is not None:
            self._fill_sections()

    def show(self, item: Any, view: Any) -> None:
        self.item, self.view = item, view
        self.code, self.name = item.code, item.name
        self.meta = " · ".join(p for p in (item.code, item.department) if p)
        self.online_url = item.online_url
        self.queue_category = item.queue_category
        offered = {flow.id for flow in self.controller.kiosk.flows} if self.controller else set()
        self.can_queue = bool(item.queue_category) and "queue" in offered
        self.sample = bool(view.sample_data or (item.guide is not None and item.guide.sample))
        self.has_guide = item.guide is not None
        self._fill_sections()
        self.ids.scroll.scroll_y = 1

    def _fill_sections(self) -> None:
        sections = guide_sections(self.item, self._tr)
        while len(self._sections) < len(sections):
            self._sections.append(GuideSection())
        box = self.ids.sections
        box.clear_widgets()
        for widget, (key, heading, body) in zip(self._sections, sections, strict=False):
            widget.test_id, widget.heading, widget.body = f"section_{key}", heading, body
            box.add_widget(widget)

    def back(self) -> None:
        """Back to the list the item was picked from (search text and page are kept)."""
        self.manager.current = "guide"

    def print_checklist(self) -> None:
        """打印清单: conditions, a □ list of materials, time limits, fees, where, the QR."""
        from kiosk.catalogue.printing import guide_document
        from kiosk.core import paper_width_mm

        item, controller = self.item, self.controller
        if item is None or controller is None:
            return
        document = guide_document(item, sample_data=self.view.sample_data,
                                  paper_width_mm=paper_width_mm(controller.kiosk.config))

        def printed(code: str = item.code) -> None:
            if code not in self.printed:
                self.printed = [*self.printed, code]

        controller.print_document(document, phone_url=item.online_url, on_printed=printed)

    def take_number(self) -> None:
        """取号 for this item: switch to the queue flow. A queue screen that offers
        ``preselect_category(category)`` gets the item's business category."""
        controller = self.controller
        if controller is None or not self.can_queue:
            return
        category = self.queue_category
        controller.machine.open_flow("queue")
        name = controller.flow_screens.get("queue", "")
        if name and self.manager is not None and self.manager.has_screen(name):
            preselect = getattr(self.manager.get_screen(name), "preselect_category", None)
            if callable(preselect):
                preselect(category)

    def clear_personal(self) -> None:
        self.item = self.view = None
        self.code = self.name = self.meta = self.online_url = self.queue_category = ""
        self.can_queue = self.sample = self.has_guide = False
        self.printed = []
        self.ids.sections.clear_widgets()


def _lines(lines: Any, bullet: str = "• ") -> str:
    return "\n".join(bullet + escape_markup(line) for line in lines)


def _days(days: int, tr: Any) -> str:
    return tr("即时办结") if days == 0 else tr("{days} 个工作日").format(days=days)


def material_text(material: Any, tr: Any) -> str:
    """``□ 居民身份证`` and underneath: originals, copies, e-certificate, note (markup)."""
    parts = []
    if material.originals:
        parts.append(tr("原件 {n} 份").format(n=material.originals))
    if material.copies:
        parts.append(tr("复印件 {n} 份").format(n=material.copies))
    if not parts:
        parts.append(tr("原件（现场核验后退还）"))
    detail = "，".join(parts)
    if not material.required:
        detail = tr("特定情形提供") + " · " + detail
    lines = [f"□ [b]{escape_markup(material.name)}[/b]", "    " + escape_markup(detail)]
    if material.e_certificate:
        lines.append("    ✓ " + escape_markup(tr("可用电子证照代替，无需携带")))
    if material.note:
        lines.append("    " + escape_markup(material.note))
    return "\n".join(lines)


def time_limit_text(limit: Any, tr: Any) -> str:
    lines = []
    if limit.legal_days is not None:
        lines.append(tr("法定时限：{text}").format(text=_days(limit.legal_days, tr)))
    if limit.promised_days is not None:
        lines.append(tr("承诺时限：{text}").format(text=_days(limit.promised_days, tr)))
    if not lines:
        lines.append(tr("请咨询窗口工作人员"))
    if limit.note:
        lines.append(limit.note)
    return "\n".join(escape_markup(line) for line in lines)


def where_text(where: Any, tr: Any) -> str:
    if where is None:
        return escape_markup(tr("请咨询窗口工作人员"))
    lines = [where.text()]
    if where.hours:
        lines.append(tr("办公时间：{hours}").format(hours=where.hours))
    if where.phone:
        lines.append(tr("咨询电话：{phone}").format(phone=where.phone))
    return "\n".join(escape_markup(line) for line in lines)


def guide_sections(item: Any, tr: Any) -> list[tuple[str, str, str]]:
    """(key, heading, body markup) of everything a person needs before going to the window."""
    guide = item.guide
    sections: list[tuple[str, str, str]] = []
    if guide is None:
        sections.append(("summary", tr("办事指南"),
                         escape_markup(tr("本事项暂无详细办事指南，请咨询窗口工作人员。"))))
        sections.append(("where", tr("办理地点"), where_text(item.where, tr)))
        if item.basis:
            sections.append(("basis", tr("设定依据"), _lines(item.basis)))
        return sections
    sections.append(("summary", tr("事项简介"), escape_markup(guide.summary)))
    if guide.conditions:
        sections.append(("conditions", tr("办理条件"), _lines(guide.conditions)))
    if guide.materials:
        sections.append(("materials", tr("申请材料"),
                         "\n".join(material_text(m, tr) for m in guide.materials)))
    sections.append(("time_limit", tr("办理时限"), time_limit_text(guide.time_limit, tr)))
    fees = tr("不收费") if guide.fees.free and not guide.fees.text else guide.fees.text
    sections.append(("fees", tr("收费标准"), escape_markup(fees or tr("不收费"))))
    sections.append(("where", tr("办理地点"), where_text(item.where, tr)))
    if guide.steps:
        steps = [f"{n}. [b]{escape_markup(step.name)}[/b]"
                 + (f"：{escape_markup(step.detail)}" if step.detail else "")
                 for n, step in enumerate(guide.steps, 1)]
        sections.append(("steps", tr("办理流程"), "\n".join(steps)))
    if guide.special:
        sections.append(("special", tr("特别程序"), _lines(guide.special)))
    if guide.intermediary:
        sections.append(("intermediary", tr("中介服务"), _lines(guide.intermediary)))
    if guide.result:
        sections.append(("result", tr("办理结果"), escape_markup(guide.result)))
    if guide.quantity_limit:
        sections.append(("quantity", tr("数量限制"), escape_markup(guide.quantity_limit)))
    if guide.tips:
        sections.append(("tips", tr("温馨提示"), _lines(guide.tips)))
    if item.basis:
        sections.append(("basis", tr("设定依据"), _lines(item.basis)))
    return sections


FLOW_SCREEN = FlowScreenSpec("guide", "guide", GuideScreen, "guide.kv",
                             extra_screens=((DETAIL_SCREEN, GuideDetailScreen),))
