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

from functools import partial
from typing import Any

from kivy.clock import Clock
from kivy.properties import (
    BooleanProperty,
    ListProperty,
    NumericProperty,
    ObjectProperty,
    StringProperty,
)
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout

from screens.base import KioskScreen
from screens.flow_screens import FlowScreenSpec
from screens.widgets import KButton

#: results under the search box (and popular items while nothing is typed)
RESULT_LIMIT = 8
#: the 热门事项 page
POPULAR_LIMIT = 20
#: list rows made per frame (a row costs a few ms to build)
BATCH = 8
#: list widgets kept between residents: the search results (every visit shows them); the
#: browse pages' rows and tiles go at the end of the session (a widget costs ~270 Python objects,
#: and a department list can make dozens; they are rebuilt BATCH per frame when needed)
KEEP_POOLS = ("results",)
#: guide sections put up per frame (their text is what costs)
SECTION_BATCH = 2
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
    """Rows of :class:`GuideKey` for one keyboard mode.

    Built when the guide first opens, one row per frame (a key costs a few ms to build), and
    kept for the next residents (only the dimming is reset).
    """

    unit = NumericProperty(60)  # width of a one-unit key (set in guide.kv from the width)
    gap = NumericProperty(8)
    key_height = NumericProperty(60)
    mode = StringProperty("pinyin")
    screen = ObjectProperty(None, allownone=True)

    def __init__(self, **kwargs: Any) -> None:
        self.keys: list[GuideKey] = []
        self._rows: list[BoxLayout] = []
        self._enabled: frozenset[str] | None = None  # None: every key
        self._event: Any = None
        super().__init__(**kwargs)
        self.bind(unit=self._size_rows, gap=self._size_rows, key_height=self._size_rows)

    @property
    def built(self) -> bool:
        """Building has started (rows may still be coming)."""
        return bool(self._rows) or self._event is not None

    def build(self, screen: Any) -> None:
        self.screen = screen
        if not self.built:
            self._add_row(0)

    def _add_row(self, index: int, *_: Any) -> None:
        from kiosk.catalogue.keyboard import Mode, layout

        self._event = None
        rows = layout(Mode(self.mode))
        if index >= len(rows) or self.screen is None:
            return
        box = BoxLayout(size_hint=(None, None), spacing=self.gap, pos_hint={"center_x": 0.5})
        for key in rows[index]:
            char = key.kind == "char"
            button = GuideKey(key_id=key.id, units=key.width, screen=self.screen, is_char=char,
                              kind="secondary" if char else "primary",
                              role="title" if char else "body", test_id=f"key_{key.id}",
                              size_hint=(key.width, 1))
            button.text = key.label if char else ""
            box.add_widget(button)
            self.keys.append(button)
        self._rows.append(box)
        self.add_widget(box)
        self._size_rows()
        self.relabel(self.screen._tr)
        self.dim(self._enabled)
        self._event = Clock.schedule_once(partial(self._add_row, index + 1))

    def clear(self) -> None:
        if self._event is not None:
            self._event.cancel()
            self._event = None
        self.clear_widgets()
        self.keys, self._rows, self._enabled = [], [], None

    def _size_rows(self, *_: Any) -> None:
        """Keys share their row by their width in units (size_hint_x); the row is as wide as
        its keys at ``unit`` each, centred in the keyboard."""
        for row in self._rows:
            units = sum(key.units for key in row.children)
            row.spacing = self.gap
            row.width = self.unit * units + self.gap * (len(row.children) - 1)
            row.height = self.key_height

    def relabel(self, tr: Any) -> None:
        """Labels of the function keys in the current language (letters stay letters)."""
        labels = {"backspace": tr("删除"), "clear": tr("清空"),
                  "switch": "123" if self.mode == "pinyin" else tr("拼音")}
        for key in self.keys:
            if key.key_id in labels:
                key.text = labels[key.key_id]
            if key.key_id == "backspace" and key.units < 1.5:
                key.text = "←"  # a one-unit key (digits): "Delete" would not fit

    def dim(self, enabled: frozenset[str] | None) -> None:
        """Letters that lead to no result are dimmed (disabled), never hidden."""
        self._enabled = enabled
        for key in self.keys:
            if key.is_char:
                key.disabled = enabled is not None and key.key_id not in enabled


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
        self.view: Any = None
        self.keyboard: Any = None
        #: list widgets, reused from one list to the next (see _fill)
        self._pools: dict[str, list[Any]] = {"results": [], "items": [], "groups": []}
        self._pending: dict[str, list[Any]] = {}
        super().__init__(**kwargs)

    # -- lifecycle -----------------------------------------------------------------------------
    def on_lang(self, *_: Any) -> None:
        if self.controller is None or "pinyin_keys" not in self.ids:
            return
        self.ids.pinyin_keys.relabel(self._tr)
        self.ids.digit_keys.relabel(self._tr)

    def _tr(self, msgid: str) -> str:
        app = self.controller.app
        return app.tr(msgid, app.lang)

    def prepare(self) -> None:
        """The flow opens: pin the active catalogue for this visit and start on the search."""
        catalogue = self.controller.kiosk.catalogue if self.controller else None
        self.reset()
        self.available = bool(catalogue is not None and catalogue.available)
        if not self.available:
            return
        from kiosk.catalogue.keyboard import SearchKeyboard

        self.view = catalogue.view
        self.keyboard = SearchKeyboard(self.view, limit=RESULT_LIMIT)
        self.ids.pinyin_keys.build(self)  # the digits keyboard: when first asked for
        self._apply(self.keyboard.refresh())

    def reset(self) -> None:
        self.view = None
        self.keyboard = None
        self.page = "search"
        self.query = self.query_display = ""
        self.mode = "pinyin"
        self.group_key = self.group_title = ""
        self.result_codes = []
        self._pending.clear()
        for name in self._pools:
            self.ids[name].clear_widgets()
        self.ids.pinyin_keys.dim(None)
        self.ids.digit_keys.dim(None)

    def clear_personal(self) -> None:
        """Nothing personal is shown, but the next resident must not see this one's search.
        The keys and the result rows stay, off the window, for the next visit (see
        :data:`KEEP_POOLS`): rebuilding the keyboard for every resident cost frames of 100 ms
        and more, while a hidden widget now costs little when elder mode or the language
        switches (its text and layout wait until it is shown: screens.widgets.LazyText,
        screens.lazylayout)."""
        self.reset()
        for name, pool in self._pools.items():
            if name not in KEEP_POOLS:
                pool.clear()

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
        keys.build(self)
        keys.dim(update.enabled)
        items = [hit.item for hit in update.results] if update.text else \
            self.view.popular(RESULT_LIMIT)
        self.result_codes = [item.code for item in items]
        self._fill("results", items)

    # -- browsing ------------------------------------------------------------------------------
    def show_page(self, page: str) -> None:
        """A tab: 拼音查找, 一件事, 按部门, 热门事项."""
        if page not in PAGES or self.view is None:
            return
        self.page = page
        self.group_key = self.group_title = ""
        if page == "events":
            self._fill("groups", self.view.life_events())
        elif page == "departments":
            self._fill("groups", self.view.departments())
        elif page == "popular":
            self.group_key, self.group_title = "popular", "热门事项"
            self._fill("items", self.view.popular(POPULAR_LIMIT))

    def open_group(self, key: str) -> None:
        """A life event or department tile: list its items."""
        if self.view is None:
            return
        groups = self.view.life_events() if self.page == "events" else self.view.departments()
        group = next((g for g in groups if g.key == key), None)
        if group is None:
            return
        self.group_key, self.group_title = group.key, group.name
        self._fill("items", list(group.items))

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

    # -- list widgets --------------------------------------------------------------------------
    def _fill(self, name: str, entries: list[Any]) -> None:
        """Show ``entries`` (items or groups) in the list ``name``.

        Rows are reused; missing ones are made at most :data:`BATCH` per frame (making a row
        costs a few ms: thirty in one tap would stall the frame), so a long list shows its
        first screenful at once and grows underneath over the next frames."""
        box = self.ids[name]
        box.clear_widgets()
        self._pending[name] = list(entries)
        scroll = self.ids.get(f"{name}_scroll")
        if scroll is not None:
            scroll.scroll_y = 1
        self._fill_more(name)

    def _fill_more(self, name: str, *_: Any) -> None:
        entries = self._pending.get(name)
        box, pool = self.ids[name], self._pools[name]
        made = 0
        while entries:
            index = len(box.children)
            if index >= len(pool):
                if made >= BATCH:
                    Clock.schedule_once(partial(self._fill_more, name))
                    return
                pool.append(self._new_widget(name))
                made += 1
            widget, entry = pool[index], entries.pop(0)
            if name == "groups":
                widget.key, widget.name = entry.key, entry.name
                widget.description, widget.count = entry.description, len(entry.items)
            else:
                widget.code, widget.name, widget.meta = entry.code, entry.name, item_meta(entry)
            box.add_widget(widget)

    def _new_widget(self, name: str) -> Any:
        """A row (or tile) already as wide as it will be: a label renders its text at its
        width, and a new widget's default 100 px would wrap it into many lines first."""
        from kivy.metrics import dp

        box = self.ids[name]
        width = box.width
        if width <= 100:  # never laid out yet: estimate from the screen
            width = self.width - 2 * self.controller.app.theme.padding
            if name == "results" and self.width > self.height:
                width *= 0.4
        if name == "groups":
            cols = box.cols or 1
            width = (width - box.spacing[0] * (cols - 1)) / cols
            widget = GuideGroupTile(screen=self, width=width)
        else:
            widget = GuideItemRow(screen=self, width=width)
        for label in widget.children:
            label.width = width - 2 * dp(16)
        return widget


def item_meta(item: Any) -> str:
    """``区民政局 · 社区服务大厅 一楼 综合服务窗口`` (data: shown as it is)."""
    parts = [item.department]
    if item.where is not None:
        parts.append(item.where.text())
    return " · ".join(parts)


class GuideSection(BoxLayout):
    """A heading and its text on the guide page."""

    heading = StringProperty("")
    body = StringProperty("")  # plain text (markup would cost several times more to render)
    test_id = StringProperty("")


class GuideDetailScreen(KioskScreen):
    code = StringProperty("")
    item_name = StringProperty("")  # (``name`` is the Screen's own)
    meta = StringProperty("")
    online_url = StringProperty("")
    qr_url = StringProperty("")  # the QR's data: set a frame after the page appears
    queue_category = StringProperty("")
    can_queue = BooleanProperty(False)
    sample = BooleanProperty(False)
    printed = ListProperty()  # codes whose checklist was printed in this visit
    filling = BooleanProperty(False)  # sections are still being added (over a few frames)
    lang = StringProperty("")

    def __init__(self, **kwargs: Any) -> None:
        self.item: Any = None
        self.view: Any = None
        self._sections: list[GuideSection] = []
        self._pending_sections: list[tuple[str, str, str]] = []
        super().__init__(**kwargs)

    def _tr(self, msgid: str) -> str:
        app = self.controller.app
        return app.tr(msgid, app.lang)

    def on_kv_post(self, *_: Any) -> None:
        # the first QR code of the process loads the image plugins (~60 ms): not in a tap
        self.ids.qr.data = "https://isd.example.invalid/"
        self.ids.qr.data = ""

    def on_lang(self, *_: Any) -> None:
        if self.item is not None and self.controller is not None:
            self._fill_sections()

    def show(self, item: Any, view: Any) -> None:
        self.item, self.view = item, view
        self.code, self.item_name = item.code, item.name
        self.meta = " · ".join(p for p in (item.code, item.department) if p)
        self.online_url = item.online_url
        # the QR (encode, PNG, texture) is drawn in the next frame, not with the page's text
        self.qr_url = ""
        Clock.schedule_once(lambda _dt: setattr(self, "qr_url", self.online_url))
        self.queue_category = item.queue_category
        offered = {flow.id for flow in self.controller.kiosk.flows} if self.controller else set()
        self.can_queue = bool(item.queue_category) and "queue" in offered
        self.sample = bool(view.sample_data or (item.guide is not None and item.guide.sample))
        self._fill_sections()
        self.ids.scroll.scroll_y = 1

    def _fill_sections(self) -> None:
        """Put up the guide's sections, :data:`SECTION_BATCH` per frame: the first ones are
        on screen at once, the rest (below the fold) follow over the next frames, so a long
        guide never stalls one frame with all its text."""
        self._pending_sections = guide_sections(self.item, self._tr)
        self.ids.sections.clear_widgets()
        self.filling = True
        self._fill_more_sections()

    def _fill_more_sections(self, *_: Any) -> None:
        box, pending = self.ids.sections, self._pending_sections
        added = 0
        while pending:
            if added >= SECTION_BATCH:
                Clock.schedule_once(self._fill_more_sections)
                return
            index = len(box.children)
            if index >= len(self._sections):
                self._sections.append(self._new_section())
            widget = self._sections[index]
            key, heading, body = pending.pop(0)
            widget.test_id, widget.heading, widget.body = f"section_{key}", heading, body
            box.add_widget(widget)
            added += 1
        self.filling = False

    def _new_section(self) -> GuideSection:
        """A section already as wide as it will be: a label renders its text at its width,
        and a new widget's default 100 px would wrap a whole guide into hundreds of lines."""
        from kivy.metrics import dp

        width = self.ids.sections.width
        if width <= 100:  # never laid out yet: estimate from the screen
            theme = self.controller.app.theme
            width = self.width - 2 * theme.padding - dp(16)
            if self.width > self.height:
                width -= theme.target * 3 + theme.padding
        section = GuideSection(width=width)
        for label in section.children:
            label.width = width
        return section

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
        self.code = self.item_name = self.meta = self.online_url = self.queue_category = ""
        self.qr_url = ""
        self.can_queue = self.sample = False
        self.printed = []
        self._pending_sections = []
        self.filling = False
        self.ids.sections.clear_widgets()
        self._sections = []  # live widgets follow elder mode and language: not kept idle


#: a bullet joined to its text, and an indent: Kivy wraps at plain spaces only, so a plain
#: space would leave the bullet alone on a line before a long Chinese sentence
BULLET, INDENT = "•\u00a0", "\u3000\u3000"


def _lines(lines: Any) -> str:
    return "\n".join(BULLET + line for line in lines)


def _days(days: int, tr: Any) -> str:
    return tr("即时办结") if days == 0 else tr("{days} 个工作日").format(days=days)


def material_text(material: Any, tr: Any) -> str:
    """``□ 居民身份证``, then originals and copies (and the note), then whether an electronic
    licence replaces it."""
    parts = []
    if material.originals:
        parts.append(tr("原件 {n} 份").format(n=material.originals))
    if material.copies:
        parts.append(tr("复印件 {n} 份").format(n=material.copies))
    if not parts:
        parts.append(tr("原件（现场核验后退还）"))
    if material.note:
        parts.append(material.note)
    detail = "；".join(parts)
    if not material.required:
        detail = tr("特定情形提供") + "：" + detail
    lines = [f"□\u00a0{material.name}", INDENT + detail]
    if material.e_certificate:
        lines.append(INDENT + "✓\u00a0" + tr("可用电子证照代替，无需携带"))
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
    return "\n".join(lines)


def where_text(where: Any, tr: Any) -> str:
    if where is None:
        return tr("请咨询窗口工作人员")
    lines = [where.text()]
    if where.hours:
        lines.append(tr("办公时间：{hours}").format(hours=where.hours))
    if where.phone:
        lines.append(tr("咨询电话：{phone}").format(phone=where.phone))
    return "\n".join(lines)


def guide_sections(item: Any, tr: Any) -> list[tuple[str, str, str]]:
    """(key, heading, body text) of everything a person needs before going to the window."""
    guide = item.guide
    sections: list[tuple[str, str, str]] = []
    if guide is None:
        sections.append(("summary", tr("办事指南"),
                         tr("本事项暂无详细办事指南，请咨询窗口工作人员。")))
        sections.append(("where", tr("办理地点"), where_text(item.where, tr)))
        if item.basis:
            sections.append(("basis", tr("设定依据"), _lines(item.basis)))
        return sections
    sections.append(("summary", tr("事项简介"), guide.summary))
    if guide.conditions:
        sections.append(("conditions", tr("办理条件"), _lines(guide.conditions)))
    if guide.materials:
        sections.append(("materials", tr("申请材料"),
                         "\n".join(material_text(m, tr) for m in guide.materials)))
    sections.append(("time_limit", tr("办理时限"), time_limit_text(guide.time_limit, tr)))
    fees = tr("不收费") if guide.fees.free and not guide.fees.text else guide.fees.text
    sections.append(("fees", tr("收费标准"), fees or tr("不收费")))
    sections.append(("where", tr("办理地点"), where_text(item.where, tr)))
    if guide.steps:
        steps = [f"{n}. {step.name}" + (f"：{step.detail}" if step.detail else "")
                 for n, step in enumerate(guide.steps, 1)]
        sections.append(("steps", tr("办理流程"), "\n".join(steps)))
    if guide.special:
        sections.append(("special", tr("特别程序"), _lines(guide.special)))
    if guide.intermediary:
        sections.append(("intermediary", tr("中介服务"), _lines(guide.intermediary)))
    if guide.result:
        sections.append(("result", tr("办理结果"), guide.result))
    if guide.quantity_limit:
        sections.append(("quantity", tr("数量限制"), guide.quantity_limit))
    if guide.tips:
        sections.append(("tips", tr("温馨提示"), _lines(guide.tips)))
    if item.basis:
        sections.append(("basis", tr("设定依据"), _lines(item.basis)))
    return sections


FLOW_SCREEN = FlowScreenSpec("guide", "guide", GuideScreen, "guide.kv",
                             extra_screens=((DETAIL_SCREEN, GuideDetailScreen),))
