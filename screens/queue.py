"""取号: category tiles with people waiting, green channel, appointment check-in, the ticket.

Pages of the one screen (``page``):

- ``choose``: a big tile per business category (people waiting, estimated wait), fetched off
  the UI thread; "绿色通道" (60 and over: identify with the ID card, the ticket is called
  first) and "预约签到" (identify, then check in the booking).
- ``card``: "请将身份证放在感应区" for the green channel or the check-in (the identify service is
  armed while it shows; an identity already in the session is used at once).
- ``ticket``: the number, category, where to wait, people ahead, estimated wait and a QR to
  follow the queue on a phone, while the ticket prints; "完成" leads to the rating.
- ``message``: closed hours, today's numbers used up, check-in refused (with the offer of a
  normal ticket), hall server unreachable (with "重试"); always a way back.

Every queue call goes through ``handoff.run_in_worker``; answers that arrive after the resident
left (or the session ended) are dropped. Only a masked name is shown or kept with a ticket.
"""

from __future__ import annotations

import io
import logging
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from kivy.clock import Clock
from kivy.properties import (
    BooleanProperty,
    DictProperty,
    ListProperty,
    NumericProperty,
    ObjectProperty,
    StringProperty,
)
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.image import Image
from kivy.uix.label import Label

from screens.base import KioskScreen
from screens.flow_screens import FlowScreenSpec
from screens.widgets import LazyText

log = logging.getLogger(__name__)

FLOW_ID = "queue"
#: the green channel (绿色通道) is for residents of this age and over (and the disabled, whom
#: the staff at the service desk let through: a card does not say so)
GREEN_AGE = 60
#: seconds between refreshes of the people-waiting figures while the tiles show
REFRESH_S = 20.0


def age_on(identity: Any, today: date) -> int | None:
    """Age in full years from the birth date, or from an 18-digit ID number; None if unknown."""
    born = getattr(identity, "birth_date", None)
    if not isinstance(born, date):
        number = str(getattr(identity, "id_number", "") or "")
        if len(number) != 18 or not number[6:14].isdigit():
            return None
        try:
            born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
        except ValueError:
            return None
    years = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    return years if 0 <= years < 150 else None


def follow_url(config: Any, ticket: Any) -> str:
    """The phone page that follows this ticket in the queue: the hall server's ``/t/<id>``
    (``queue.public_url``), else the service platform's page."""
    from kiosk.queue.factory import ticket_page_url

    hall_page = ticket_page_url(config, ticket.id)
    if hall_page:
        return hall_page
    base = (config.backends.platform.url or "https://platform.example").rstrip("/")
    return (f"{base}/queue/ticket?site={config.terminal.region_code}&id={ticket.id}"
            f"&no={ticket.number}&d={ticket.day.replace('-', '')}")


def qr_png(data: str) -> bytes:
    """A QR code as PNG bytes (made on a worker: encoding takes tens of milliseconds)."""
    import segno

    buffer = io.BytesIO()
    segno.make(data, error="m").save(buffer, kind="png", scale=8, border=2)
    return buffer.getvalue()


@dataclass(frozen=True)
class Issued:
    """A ticket with everything the screen needs, prepared on the worker thread."""

    ticket: Any
    url: str
    qr: bytes  # PNG of the follow URL
    document: Any  # the printed ticket (drivers.printer.document.Document)


class TicketQr(Image):
    """The follow-the-queue QR from PNG bytes made off the UI thread (``QrImage`` encodes on
    the UI thread)."""

    png = ObjectProperty(b"", allownone=True)

    def on_png(self, *_: Any) -> None:
        if not self.png:
            self.texture = None
            return
        from kivy.core.image import Image as CoreImage

        self.texture = CoreImage(io.BytesIO(self.png), ext="png").texture
        self.texture.mag_filter = "nearest"


class TicketNumber(LazyText, Label):
    """The ticket number, larger than any other text (styled once, in queue.kv)."""

    test_id = StringProperty("")


class CategoryTile(ButtonBehavior, BoxLayout):
    """One business category on the 取号 screen (styled in queue.kv)."""

    code = StringProperty("")
    name = StringProperty("")
    waiting = NumericProperty(-2)  # -1: unknown (hall server unreachable), -2: loading
    wait_min = NumericProperty(-1)  # -1: unknown
    is_open = BooleanProperty(True)
    full = BooleanProperty(False)
    area = StringProperty("")
    suggested = BooleanProperty(False)  # the category of the guide item the resident came from
    screen = ObjectProperty(None, allownone=True)

    @property
    def test_id(self) -> str:
        return f"category_{self.code}"


class QueueScreen(KioskScreen):
    page = StringProperty("choose")  # choose | card | ticket | message
    #: [{"code", "name", "waiting", "wait", "open", "full", "area"}]
    categories = ListProperty()
    loading = BooleanProperty(False)
    busy = BooleanProperty(False)  # a ticket or check-in request is on its way
    offline = BooleanProperty(False)  # the figures are not from the hall server
    #: the green channel is on for this visit (an identified resident of GREEN_AGE or more)
    green = BooleanProperty(False)
    holder = StringProperty("")  # masked name of the identified resident (green / check-in)
    purpose = StringProperty("")  # what the card page is for: green | checkin
    #: the ticket on screen (personal-data free but the masked holder)
    ticket = DictProperty()
    qr_png = ObjectProperty(b"")  # the ticket's follow QR (PNG)
    printed = BooleanProperty(False)
    #: the message page: {"kind", "details"...}; texts are built per language in message_text
    message = DictProperty()
    #: the card prompt for the readers that work (msgids)
    card_prompt = StringProperty("请将身份证放在感应区")
    card_alternatives = StringProperty("")
    wide = BooleanProperty(True)  # landscape window (set in queue.kv)
    #: a business category asked for by another flow (办事指南 "取号"), by code or name
    preselected = StringProperty("")
    suggestion = StringProperty("")  # the name of the matching tile, if any

    def __init__(self, **kwargs: Any) -> None:
        self._generation = 0  # bumped when the visit ends: late answers are dropped
        self._subscribed = False
        self._refresh_event: Any = None
        self._retry: Any = None  # what "重试" does on the message page
        self._last_tap: tuple[str, str] | None = None  # (category, request id) for a retry
        super().__init__(**kwargs)

    # -- wiring ------------------------------------------------------------------------------
    def on_controller(self, *_: Any) -> None:
        if self.controller is not None and not self._subscribed:
            self._subscribed = True
            self.controller.machine.subscribe(self._on_session_event)

    def on_kv_post(self, *_: Any) -> None:
        self._placeholder_tiles()

    def _placeholder_tiles(self) -> None:
        """The configured categories as tiles before the first figures arrive: built at
        start-up (and warmed up with the screen), so the first visit only updates them."""
        if self.controller is None or self.categories:
            return
        from kiosk.queue.factory import queue_settings

        try:
            settings = queue_settings(self.controller.kiosk.config)
        except Exception:  # a placeholder only: the real tiles come from the service
            log.exception("queue settings unreadable")
            return
        self._show_tiles([{"code": c.code, "name": c.name, "waiting": -2, "wait": -1,
                           "open": True, "full": False, "area": ""}
                          for c in settings.categories])

    def _on_session_event(self, event: Any) -> None:
        from kiosk.session.machine import IdentityChanged

        if (isinstance(event, IdentityChanged) and event.identified and self.page == "card"
                and self._visiting()):
            self.controller.kiosk.identify.disarm()
            self._identified()

    def _visiting(self) -> bool:
        controller = self.controller
        return (controller is not None and controller.machine.flow == FLOW_ID
                and controller.manager.current == self.name)

    def _now(self) -> datetime:
        """Now in the site's time zone (the queue's times are the site's)."""
        config = self.controller.kiosk.config if self.controller else None
        return datetime.now(config.terminal.tzinfo) if config else datetime.now().astimezone()

    def _run(self, fn: Any, *args: Any, on_done: Any, on_error: Any) -> None:
        """``fn(*args)`` on a worker; the callbacks only if this visit is still on."""
        generation = self._generation

        def done(result: Any) -> None:
            if generation == self._generation:
                on_done(result)

        def failed(exc: BaseException) -> None:
            if generation == self._generation:
                on_error(exc)

        self.controller.kiosk.handoff.run_in_worker(fn, *args, on_done=done, on_error=failed)

    # -- entering and leaving ------------------------------------------------------------------
    def prepare(self) -> None:
        self._reset()
        if self.controller is not None:
            self.load_categories()

    def on_enter(self, *_: Any) -> None:
        self._refresh_event = Clock.schedule_interval(self._refresh, REFRESH_S)
        if self.page == "card":
            self.ids.card_animation.start()

    def on_leave(self, *_: Any) -> None:
        if self._refresh_event is not None:
            self._refresh_event.cancel()
            self._refresh_event = None
        self.ids.card_animation.stop()

    def on_page(self, *_: Any) -> None:
        animation = self.ids.get("card_animation") if self.ids else None
        if animation is not None:
            (animation.start if self.page == "card" else animation.stop)()

    def _reset(self) -> None:
        self._generation += 1
        self.page = "choose"
        self.busy = False
        self.green = False
        self.holder = ""
        self.purpose = ""
        self.ticket = {}
        self.qr_png = b""
        self.printed = False
        self.message = {}
        self._retry = None
        self._last_tap = None
        self.loading = False
        self.preselected = ""
        self._suggest()

    def clear_personal(self) -> None:
        self._reset()

    # -- the tiles -----------------------------------------------------------------------------
    def load_categories(self, quiet: bool = False) -> None:
        """Fetch the figures on a worker; ``quiet`` (the periodic refresh): a failure keeps
        the tiles as they are instead of covering them with a message."""
        self.loading = True
        self._run(self.controller.kiosk.queue.categories, on_done=self._categories_loaded,
                  on_error=self._refresh_failed if quiet else self._categories_failed)

    def _refresh(self, _dt: float) -> None:
        if self.page == "choose" and not (self.loading or self.busy) and self._visiting():
            self.load_categories(quiet=True)

    def _refresh_failed(self, exc: BaseException) -> None:
        self.loading = False
        log.info("queue figures not refreshed: %s", type(exc).__name__)

    def _categories_loaded(self, statuses: list[Any]) -> None:
        self.loading = False
        self.populate(statuses)
        if statuses and not any(s.open for s in statuses) and all(
                (s.capacity_left is None or s.capacity_left > 0) for s in statuses):
            # outside the opening hours: say so at once, with the next opening
            nxt = next((s.next_open for s in statuses if s.next_open), None)
            self._show_message("closed", next_open=nxt)

    def _categories_failed(self, exc: BaseException) -> None:
        self.loading = False
        log.warning("queue categories unavailable: %s", exc)
        self._show_error(exc, retry=self.load_categories)

    def populate(self, statuses: list[Any]) -> None:
        self.offline = any(not s.online for s in statuses)
        self._show_tiles([{
            "code": s.code, "name": s.name,
            "waiting": -1 if s.waiting is None else int(s.waiting),
            "wait": -1 if s.estimated_wait_min is None else int(s.estimated_wait_min),
            "open": bool(s.open), "full": s.capacity_left == 0, "area": s.area,
        } for s in statuses])

    def _show_tiles(self, items: list[dict]) -> None:
        """Update the tiles in place (same categories) or build them anew."""
        grid = self.ids.tiles
        tiles = list(reversed(grid.children))
        if [t.code for t in tiles] != [i["code"] for i in items]:
            grid.clear_widgets()
            tiles = [CategoryTile(screen=self) for _ in items]
            for tile in tiles:
                grid.add_widget(tile)
        for tile, item in zip(tiles, items, strict=True):
            tile.code, tile.name, tile.area = item["code"], item["name"], item["area"]
            tile.waiting, tile.wait_min = item["waiting"], item["wait"]
            tile.is_open, tile.full = item["open"], item["full"]
        self.categories = items
        self._suggest()

    def preselect_category(self, category: str) -> None:
        """Another flow (the guide's "取号" for an item) names the item's business category:
        its tile is marked, if this hall has it (by code or name); the resident still taps."""
        self.preselected = (category or "").strip()
        self._suggest()

    def _suggest(self) -> None:
        wanted = self.preselected
        name = ""
        tiles = list(self.ids.tiles.children) if self.ids else []
        for tile in tiles:
            tile.suggested = bool(wanted) and wanted in (tile.code, tile.name)
            if tile.suggested:
                name = tile.name
        self.suggestion = name

    def choose(self, code: str) -> None:
        """A category tile: take a number (green channel priority when it is on)."""
        if self.busy or self.controller is None:
            return
        from kiosk.queue import Priority

        self.controller.machine.activity()
        request_id = uuid.uuid4().hex
        self._last_tap = (code, request_id)
        self.busy = True
        priority = Priority.GREEN if self.green else Priority.NORMAL
        holder = self.holder if self.green else ""  # masked; only with identification
        self._run(self._issue, code, priority, holder, request_id,
                  on_done=self._ticket_ready, on_error=self._ticket_refused)

    def _issue(self, code: str, priority: Any, holder: str, request_id: str) -> Issued:
        """Worker: take the number, then make its QR and printed ticket."""
        ticket = self.controller.kiosk.queue.issue_ticket(code, priority=priority,
                                                          holder_name=holder,
                                                          request_id=request_id)
        return self._prepared(ticket)

    def _prepared(self, ticket: Any) -> Issued:
        """Worker: the follow URL, its QR and the document to print, for ``ticket``."""
        from kiosk.core import paper_width_mm
        from kiosk.printing import queue_ticket
        from kiosk.queue import ticket_slip

        config = self.controller.kiosk.config
        url = follow_url(config, ticket)
        try:
            png = qr_png(url)
        except Exception:  # the ticket counts, not its QR
            log.exception("follow QR not made")
            png = b""
        document = queue_ticket(ticket_slip(ticket, config.terminal.site, url),
                                paper_width_mm=paper_width_mm(config))
        return Issued(ticket, url, png, document)

    def _retry_issue(self) -> None:
        """"重试" after the hall server did not answer: the same request id, so a ticket the
        server did give (its answer lost) comes back instead of a second number."""
        if self._last_tap is None:
            self.back_to_tiles()
            return
        from kiosk.queue import Priority

        code, request_id = self._last_tap
        self.page = "choose"
        self.busy = True
        priority = Priority.GREEN if self.green else Priority.NORMAL
        self._run(self._issue, code, priority, self.holder if self.green else "", request_id,
                  on_done=self._ticket_ready, on_error=self._ticket_refused)

    def _ticket_refused(self, exc: BaseException) -> None:
        self.busy = False
        log.info("ticket refused: %s", getattr(exc, "code", type(exc).__name__))
        self._show_error(exc, retry=self._retry_issue)

    # -- green channel and check-in ----------------------------------------------------------
    def start_green(self) -> None:
        """"绿色通道": identify (or use the identity already read), then check the age."""
        if self.green:  # tapped again: back to a normal ticket
            self.green = False
            self.holder = ""
            return
        self._need_identity("green")

    def start_checkin(self) -> None:
        """"预约签到": identify with the card the booking was made with, then check in."""
        self._need_identity("checkin")

    def _need_identity(self, purpose: str) -> None:
        if self.busy or self.controller is None:
            return
        self.purpose = purpose
        self.controller.machine.activity()
        if self.controller.machine.identity is not None:
            self._identified()
            return
        self._refresh_card_prompt()
        self.controller.kiosk.identify.arm()
        self.page = "card"

    def _refresh_card_prompt(self) -> None:
        from screens.identify import identify_prompt

        health = self.controller.kiosk.devices.health()

        def works(kind: str) -> bool:
            item = health.get(kind)
            return item is not None and item.available

        self.card_prompt, self.card_alternatives = identify_prompt(
            works("idcard"), works("smartcard"), works("scanner") or works("camera"))

    def cancel_card(self) -> None:
        """"返回" on the card page: back to the tiles."""
        if self.controller is not None:
            self.controller.kiosk.identify.disarm()
        self.purpose = ""
        self.page = "choose"

    def _identified(self) -> None:
        identity = self.controller.machine.identity
        if identity is None:
            return
        purpose, self.purpose = self.purpose, ""
        if purpose == "green":
            self._green_for(identity)
        elif purpose == "checkin":
            self._check_in(identity)

    def _green_for(self, identity: Any) -> None:
        age = age_on(identity, date.today())
        if age is None:
            self._show_message("no_age", offer=True)
        elif age < GREEN_AGE:
            self._show_message("not_eligible", offer=True)
        else:
            self.green = True
            self.holder = identity.masked_name
            self.page = "choose"

    def _check_in(self, identity: Any) -> None:
        self.holder = identity.masked_name
        self.busy = True
        self.page = "choose"
        request_id = uuid.uuid4().hex
        # the ID number goes to the worker and the queue service only; never to a widget
        self._run(self._do_check_in, identity.id_number, request_id,
                  on_done=self._ticket_ready, on_error=self._checkin_refused)

    def _do_check_in(self, id_number: str, request_id: str) -> Issued:
        ticket = self.controller.kiosk.queue.check_in(id_number=id_number,
                                                      request_id=request_id)
        return self._prepared(ticket)

    def _checkin_refused(self, exc: BaseException) -> None:
        self.busy = False
        log.info("check-in refused: %s", getattr(exc, "code", type(exc).__name__))
        self._show_error(exc, retry=self.start_checkin)

    # -- the ticket --------------------------------------------------------------------------
    def _ticket_ready(self, issued: Issued) -> None:
        self.busy = False
        self._last_tap = None
        self.show_ticket(issued.ticket, issued.url, issued.qr)
        self.controller.machine.session.handling_number = issued.ticket.number
        # the QR to the phone is on the ticket page itself (the print dialog would encode its
        # own on the UI thread): on a refusal the resident keeps the number and the QR
        self.controller.print_document(issued.document, on_printed=self._mark_printed)

    def show_ticket(self, ticket: Any, url: str = "", qr: bytes = b"") -> None:
        self.ticket = {
            "id": ticket.id, "number": ticket.number, "category": ticket.category_name,
            "priority": ticket.priority.word, "area": ticket.area,
            "windows": list(ticket.windows),
            "ahead": -1 if ticket.people_ahead is None else int(ticket.people_ahead),
            "wait": -1 if ticket.estimated_wait_min is None else int(ticket.estimated_wait_min),
            "holder": ticket.holder, "offline": bool(ticket.offline), "url": url,
        }
        self.qr_png = qr
        self.printed = False
        self.page = "ticket"

    def _mark_printed(self) -> None:
        self.printed = True

    def finish(self) -> None:
        """"完成": on to the rating, with the ticket number as the 办件编号."""
        controller = self.controller
        if controller is None:
            return
        if self.ticket.get("number"):
            controller.machine.session.handling_number = self.ticket["number"]
        controller.complete_flow()

    # -- messages ------------------------------------------------------------------------------
    def _show_error(self, exc: BaseException, retry: Any = None) -> None:
        from kiosk.queue import (
            CapacityReached,
            CheckInRefused,
            QueueClosed,
            QueueError,
            QueueUnavailable,
            TooEarly,
        )

        if isinstance(exc, QueueClosed):
            self._show_message("closed", next_open=exc.next_open)
        elif isinstance(exc, CapacityReached):
            names = {c["code"]: c["name"] for c in self.categories}
            self._show_message("capacity", next_open=exc.next_open,
                               category=names.get(str(exc.details.get("category", "")), ""))
        elif isinstance(exc, CheckInRefused):
            self._show_message(exc.code, offer=exc.offer_ticket, booked_at=exc.booked_at,
                               checkin_from=exc.checkin_from if isinstance(exc, TooEarly)
                               else None)
        elif isinstance(exc, QueueUnavailable):
            self._show_message("unavailable", retry=retry)
        elif isinstance(exc, QueueError):
            log.error("queue error %s: %s", exc.code, exc.message)
            self._show_message("error", retry=retry)
        else:
            log.error("queue call failed: %s", type(exc).__name__)
            self._show_message("unavailable", retry=retry)

    def _show_message(self, kind: str, *, offer: bool = False, retry: Any = None,
                      **details: Any) -> None:
        self._retry = retry
        self.message = {"kind": kind, "offer": offer, "retry": retry is not None,
                        "now": self._now(), **details}
        self.page = "message"

    def retry(self) -> None:
        action, self._retry = self._retry, None
        self.message = {}
        self.page = "choose"
        if action is not None:
            action()

    def back_to_tiles(self) -> None:
        """"取普通号" / "选择其他业务": the tiles again (a normal ticket)."""
        if self.message.get("offer"):
            self.green = False
            self.holder = ""
        self.message = {}
        self.page = "choose"
        if not self.categories and self.controller is not None:
            self.load_categories()

    def message_title(self, message: dict, lang: str) -> str:
        tr = self._translator(lang)
        kind = message.get("kind", "")
        if kind == "closed":
            return tr("现在不在取号时间")
        if kind == "capacity":
            name = message.get("category", "")
            return (tr("今日{category}的号已取完").format(category=tr(name)) if name
                    else tr("今日的号已取完"))
        if kind == "no_appointment":
            return tr("没有查到您的预约")
        if kind == "too_early":
            return tr("还没到签到时间")
        if kind == "too_late":
            return tr("已超过签到时间")
        if kind == "appointment_cancelled":
            return tr("您的预约已取消")
        if kind in ("checkin_refused", "error"):
            return tr("暂时无法办理")
        if kind == "unavailable":
            return tr("排队系统暂时无法连接")
        if kind == "not_eligible":
            return tr("绿色通道为60周岁以上老人和残疾人士提供")
        if kind == "no_age":
            return tr("无法确认您的年龄")
        return ""

    def message_text(self, message: dict, lang: str) -> str:
        tr = self._translator(lang)
        kind = message.get("kind", "")
        now = message.get("now") or self._now()
        if kind == "closed":
            nxt = message.get("next_open")
            return (tr("下次取号时间：{when}").format(when=when_text(nxt, now, tr)) if nxt
                    else tr("请在办公时间内前来取号"))
        if kind == "capacity":
            nxt = message.get("next_open")
            return (tr("请{when}后再来，或选择其他业务").format(when=when_text(nxt, now, tr))
                    if nxt else tr("请改日再来，或选择其他业务"))
        booked = when_text(message.get("booked_at"), now, tr)
        if kind == "too_early":
            return tr("您预约的是{booked}，请于{start}后签到；您也可以现在取普通号").format(
                booked=booked, start=when_text(message.get("checkin_from"), now, tr))
        if kind == "too_late":
            return tr("您预约的是{booked}，已超过签到时间，您可以取普通号").format(booked=booked)
        if kind in ("no_appointment", "appointment_cancelled", "checkin_refused"):
            return tr("您可以取普通号")
        if kind in ("unavailable", "error"):
            return tr("请稍后再试，或到服务台咨询工作人员")
        if kind in ("not_eligible", "no_age"):
            return tr("您可以取普通号；残疾人士请到服务台，工作人员会为您优先办理")
        return ""

    # -- texts for the kv ------------------------------------------------------------------------
    @staticmethod
    def field(values: dict, key: str, default: Any = "") -> Any:
        """``values[key]`` for the kv (it re-evaluates when ``values`` is replaced)."""
        return values.get(key, default)

    @staticmethod
    def _translator(lang: str) -> Any:
        from kiosk.i18n import translate

        return lambda msgid: translate(msgid, lang) if msgid else ""

    def notice_text(self, busy: bool, loading: bool, green: bool, holder: str, offline: bool,
                    suggestion: str, lang: str) -> str:
        tr = self._translator(lang)
        if busy:
            return tr("正在办理，请稍候…")
        if loading:
            return tr("正在读取排队信息…")
        if green:
            return tr("绿色通道已开启：{name}，请选择业务类别，将优先叫号").format(name=holder)
        if offline:
            return tr("排队系统连接中断，号码由本机发放，等候人数暂不可知")
        if suggestion:
            return tr("您要办理的事项请取“{category}”号").format(category=tr(suggestion))
        return tr("点击业务类别即可取号，号票将自动打印")

    def waiting_text(self, waiting: int, lang: str) -> str:
        tr = self._translator(lang)
        if waiting == -2:
            return ""  # loading
        if waiting < 0:
            return tr("等候人数暂不可知")
        return tr("等候 {count} 人").format(count=waiting)

    def wait_text(self, minutes: int, lang: str) -> str:
        tr = self._translator(lang)
        if minutes < 0:
            return tr("请留意叫号")
        if minutes == 0:
            return tr("即将叫号")
        hours, rest = divmod(minutes, 60)
        if not hours:
            return tr("约 {minutes} 分钟").format(minutes=rest)
        if not rest:
            return tr("约 {hours} 小时").format(hours=hours)
        return tr("约 {hours} 小时 {minutes} 分钟").format(hours=hours, minutes=rest)

    def tile_state(self, is_open: bool, full: bool, wait_min: int, lang: str) -> str:
        tr = self._translator(lang)
        if full:
            return tr("今日号已取完")
        if not is_open:
            return tr("暂停取号")
        return tr("预计等待：{wait}").format(wait=self.wait_text(wait_min, lang))

    def ticket_where(self, ticket: dict, lang: str) -> str:
        tr = self._translator(lang)
        if not ticket.get("area"):
            return tr("请在大厅等候，留意叫号屏")
        text = tr("请到{area}等候叫号").format(area=tr(ticket["area"]))
        if ticket.get("windows"):
            names = [tr(name) for name in ticket["windows"]]
            text += tr("（{windows}）").format(windows=tr("、").join(names))
        return text

    def ticket_ahead(self, ticket: dict, lang: str) -> str:
        tr = self._translator(lang)
        ahead = ticket.get("ahead", -1)
        if ahead is None or ahead < 0:
            return tr("前面人数暂不可知")
        return tr("前面还有 {count} 人").format(count=ahead)

    def ticket_tag(self, ticket: dict, lang: str) -> str:
        tr = self._translator(lang)
        category = tr(ticket.get("category", ""))
        priority = ticket.get("priority", "")
        if priority == "green":
            return category + " · " + tr("绿色通道")
        if priority == "appointment":
            return category + " · " + tr("预约")
        return category


def when_text(when: datetime | None, now: datetime, tr: Any) -> str:
    """``今天 13:00`` / ``明天 09:00`` / ``5月6日 09:00`` in the resident's language."""
    if when is None:
        return ""
    local = when.astimezone(now.tzinfo) if (now.tzinfo and when.tzinfo) else when
    days = (local.date() - now.date()).days
    clock = local.strftime("%H:%M")
    if days == 0:
        return tr("今天 {time}").format(time=clock)
    if days == 1:
        return tr("明天 {time}").format(time=clock)
    return tr("{month}月{day}日 {time}").format(month=local.month, day=local.day, time=clock)


FLOW_SCREEN = FlowScreenSpec(FLOW_ID, "queue", QueueScreen, "queue.kv")
