"""亮码: after identification, show the resident code (居民码) or an enterprise code (企业码).

Pages (one at a time, ``page``): ``choose`` 居民码 / 企业码 → (企业码: ``enterprises``, pick one
of those the person represents) → ``show``: the code large and centred, the masked name, the
validity countdown, automatic refresh before expiry, "print" and a "send to phone" hint.
``loading`` while the platform is asked, ``message`` for a refusal or an expired code.

Every platform call (issuing, listing enterprises) and the QR matrix run on a worker thread
(``handoff.run_in_worker``); a result that arrives after the resident moved on is dropped.
The code lives only in :class:`kiosk.codes.LiveCode` and in the texture on screen: it is
dropped when it expires, when the screen is left and in :meth:`CodeScreen.clear_personal`.

A person identified by a *scanned* resident code has no ID number: the platform issues codes
only for a :class:`kiosk.codes.Person` (ID number and name) and offers no issuing by subject
reference, so the screen says so and offers the ID card instead of asking the platform.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from kivy.clock import Clock
from kivy.graphics.texture import Texture
from kivy.properties import (
    BooleanProperty,
    NumericProperty,
    ObjectProperty,
    StringProperty,
)
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.image import Image

from screens.base import KioskScreen
from screens.flow_screens import FlowScreenSpec

log = logging.getLogger(__name__)

PAGES = ("choose", "loading", "enterprises", "show", "message")

#: shown when the identity came from a scanned code (no ID number to issue a code for)
NO_ID_NUMBER = ("您是扫码核验的身份，平台需凭身份证号签发居民码和企业码，本机无法为扫码核验的"
                "身份亮码。请刷身份证后重试，或直接在“爱山东”App中亮码。")
EXPIRED = "此码已过期，已从屏幕上清除。"
NO_ENTERPRISE = "未查询到您担任法定代表人或经办人的企业。"
FAILED = "暂时无法获取，请稍后再试。"
ROLE_MSGIDS = {"LEGAL_REPRESENTATIVE": "法定代表人", "AGENT": "经办人"}

#: a refresh that failed is tried again after this many seconds (until the code expires)
RETRY_S = 3.0
TICK_S = 0.25


def qr_pixels(text: str, border: int = 4) -> tuple[bytearray, int]:
    """The QR symbol of ``text`` as RGBA pixels, one pixel per module, bottom row first (a
    Kivy texture's order), and its edge in modules. Runs on a worker thread."""
    import segno

    rows = [list(row) for row in segno.make(text, error="m").matrix_iter(scale=1,
                                                                          border=border)]
    size = len(rows)
    pixels = bytearray(size * size * 4)
    offset = 0
    for row in reversed(rows):
        for dark in row:
            value = 0 if dark else 255
            pixels[offset:offset + 4] = bytes((value, value, value, 255))
            offset += 4
    return pixels, size


def issue_code(platform: Any, person: Any, enterprise_id: str) -> tuple[Any, bytearray, int]:
    """Worker thread: a fresh code from the platform, with its QR pixels."""
    if enterprise_id:
        code = platform.issue_enterprise_code(person, enterprise_id)
    else:
        code = platform.issue_resident_code(person)
    pixels, size = qr_pixels(code.text)
    return code, pixels, size


def tr(msgid: str) -> str:
    """Marks a msgid for ``python -m kiosk.i18n check`` (translated where it is shown)."""
    return msgid


#: platform texts this screen may show (kiosk.codes), translated in code.po
PLATFORM_MSGIDS = (
    tr("无法确认您的身份，请刷身份证后重试。"),
    tr("您不是该企业的法定代表人或经办人，无法出示企业码。"),
    tr("暂时无法生成居民码，请稍后再试。"),
    tr("暂时无法查询企业信息。"),
    tr("暂时无法生成企业码，请稍后再试。"),
    tr("您是扫码核验的身份，平台需凭身份证号签发居民码和企业码，本机无法为扫码核验的身份亮码。请刷身份证后重试，或直接在“爱山东”App中亮码。"),
    tr("此码已过期，已从屏幕上清除。"),
    tr("未查询到您担任法定代表人或经办人的企业。"),
    tr("暂时无法获取，请稍后再试。"),
    tr("法定代表人"), tr("经办人"),
    tr("本人办事、出行时出示，代替身份证件"), tr("以法定代表人或经办人身份出示所代表企业的码"),
)


class CodeQr(Image):
    """The code's QR symbol: a texture with one texel per module, scaled without smoothing.
    ``modules`` is the symbol's edge (0: nothing shown)."""

    modules = NumericProperty(0)

    def show(self, pixels: bytearray, size: int) -> None:
        texture = Texture.create(size=(size, size), colorfmt="rgba")
        texture.mag_filter = "nearest"
        texture.min_filter = "nearest"
        texture.blit_buffer(bytes(pixels), colorfmt="rgba", bufferfmt="ubyte")
        pixels[:] = bytes(len(pixels))  # the code is in the texture now, not in this buffer
        self.texture = texture
        self.modules = size

    def wipe(self) -> None:
        self.texture = None
        self.modules = 0


class CodeButtons(BoxLayout):
    """"打印凭条" and "换一个码": under the code (portrait) or in the bottom bar (landscape)."""

    screen = ObjectProperty(None, allownone=True)


class CodeChoice(ButtonBehavior, BoxLayout):
    """A big choice: 居民码 or 企业码."""

    test_id = StringProperty("")
    code_kind = StringProperty("")  # "resident" | "enterprise"
    title = StringProperty("")
    description = StringProperty("")
    screen = ObjectProperty(None, allownone=True)


class EnterpriseChoice(ButtonBehavior, BoxLayout):
    """One enterprise the person represents (legal representative or agent)."""

    enterprise_id = StringProperty("")
    name = StringProperty("")
    credit_code = StringProperty("")
    role = StringProperty("")  # msgid: 法定代表人 / 经办人
    screen = ObjectProperty(None, allownone=True)

    @property
    def test_id(self) -> str:
        return f"enterprise_{self.enterprise_id}"


class CodeScreen(KioskScreen):
    page = StringProperty("choose")
    kind = StringProperty("")  # "resident" | "enterprise"
    masked_name = StringProperty("")
    enterprise_name = StringProperty("")
    enterprise_role = StringProperty("")  # msgid
    seconds_left = NumericProperty(0)
    remaining = StringProperty("")  # "2:35"
    refreshing = BooleanProperty(False)
    message = StringProperty("")  # msgid on the message page
    can_retry = BooleanProperty(False)  # the message page offers "再试一次"
    use_idcard = BooleanProperty(False)  # … and "改用身份证" (identified by a scanned code)
    shown = BooleanProperty(False)  # a code was shown in this visit: "完成" is allowed
    printed = BooleanProperty(False)

    #: the clock codes are timed by (``time.time``, as the platform's); tests may move it
    clock: Callable[[], float] = staticmethod(time.time)

    def __init__(self, **kwargs: Any) -> None:
        from kiosk.codes import LiveCode

        super().__init__(**kwargs)
        self.live = LiveCode(clock=lambda: self.clock())
        self.enterprises: list[Any] = []
        self._enterprise: Any = None  # the enterprise whose code is shown
        self._generation = 0  # bumped by every request and by clearing: stale results drop
        self._fetching = False
        self._retry_at = 0.0
        self._tick_event: Any = None

    # -- hooks -------------------------------------------------------------------------------
    def prepare(self) -> None:
        self._forget_code()
        self._forget_choice()
        self.shown = self.printed = False
        controller = self.controller
        identity = controller.machine.identity if controller else None
        if controller is not None:
            self.live.refresh_before_s = float(controller.kiosk.config.codes.refresh_before_s)
        self.masked_name = identity.masked_name if identity else ""
        if identity is not None and not identity.id_number:
            self.show_message(NO_ID_NUMBER, retry=False, idcard=True)
        else:
            self.page = "choose"

    def on_enter(self, *_: Any) -> None:
        if self._tick_event is None:
            self._tick_event = Clock.schedule_interval(lambda _dt: self.tick(), TICK_S)

    def on_leave(self, *_: Any) -> None:
        if self._tick_event is not None:
            self._tick_event.cancel()
            self._tick_event = None
        self._forget_code()  # nothing needs the code once it is off the screen

    def clear_personal(self) -> None:
        self._forget_code()
        self._forget_choice()
        self.masked_name = ""
        self.shown = self.printed = False
        self.message = ""
        self.page = "choose"

    # -- actions (from .kv) --------------------------------------------------------------------
    def choose(self, kind: str) -> None:
        """居民码 or 企业码."""
        person = self._person()
        if person is None:
            return
        self.kind = kind
        if kind == "resident":
            self._request("")
            return
        self.page = "loading"
        self._generation += 1
        generation = self._generation
        self.controller.kiosk.handoff.run_in_worker(
            self.controller.kiosk.codes.enterprises_for, person,
            on_done=lambda found: self._enterprises_found(generation, found),
            on_error=lambda exc: self._failed(generation, exc))

    def pick_enterprise(self, enterprise_id: str) -> None:
        for enterprise in self.enterprises:
            if enterprise.id == enterprise_id:
                self._enterprise = enterprise
                self._request(enterprise_id)
                return

    def choose_again(self) -> None:
        """Back to 居民码 / 企业码 (the code on screen is dropped)."""
        self._forget_code()
        self._forget_choice()
        self.page = "choose"

    def retry(self) -> None:
        """The message page's "再试一次": ask again for the same kind of code."""
        if self.kind == "enterprise" and self._enterprise is not None:
            self._request(self._enterprise.id)
        elif self.kind == "enterprise":
            self.choose("enterprise")
        else:
            self._request("")

    def use_id_card(self) -> None:
        """Identified by a scanned code: forget that identity and ask for the ID card."""
        controller = self.controller
        if controller is None:
            return
        self._forget_code()
        controller.machine.forget_identity()
        controller.open_flow("code")  # the identify step again (the flow needs an identity)

    def print_code(self) -> None:
        """Print the code on screen as a slip (居民码: masked holder; 企业码: the enterprise)."""
        from kiosk.core import paper_width_mm
        from kiosk.printing import CodeSlip, code_slip

        controller = self.controller
        code = self.live.current()
        identity = controller.machine.identity if controller else None
        if code is None or identity is None:
            return
        valid_until = datetime.fromtimestamp(code.expires_at)
        enterprise = code.enterprise or self._enterprise
        if self.kind == "enterprise" and enterprise is not None:
            slip = CodeSlip("enterprise", enterprise.name, code.text, valid_until,
                            enterprise.credit_code)
        else:
            slip = CodeSlip("resident", identity.name, code.text, valid_until,
                            identity.id_number)
        document = code_slip(slip, paper_width_mm=paper_width_mm(controller.kiosk.config))
        controller.print_document(document, on_printed=self._mark_printed)

    # -- the code on screen --------------------------------------------------------------------
    def tick(self) -> None:
        """Countdown, expiry and refresh; runs every ``TICK_S`` while the screen is shown."""
        if self.page != "show":
            return
        code = self.live.current()
        if code is None:  # expired and not replaced in time: gone from the screen too
            self._forget_code()
            self.show_message(EXPIRED, retry=True)
            return
        self._show_remaining()
        now = self.clock()
        if self.live.refresh_due() and not self._fetching and now >= self._retry_at:
            self._fetch(self._enterprise.id if self.kind == "enterprise" and self._enterprise
                        else "", refresh=True)

    def show_code(self, code: Any, pixels: bytearray | None = None, size: int = 0) -> None:
        """Put ``code`` (an :class:`kiosk.codes.IssuedCode`) on screen."""
        if pixels is None:
            pixels, size = qr_pixels(code.text)
        self.live.replace(code)
        self.ids.qr.show(pixels, size)
        self.kind = code.kind.name.lower()
        enterprise = code.enterprise or (self._enterprise if self.kind == "enterprise" else None)
        self.enterprise_name = enterprise.name if enterprise else ""
        self.enterprise_role = ROLE_MSGIDS.get(enterprise.role.name, "") if enterprise else ""
        if code.masked_name:
            self.masked_name = code.masked_name
        self.shown = True
        self.page = "show"
        self._show_remaining()

    def _show_remaining(self) -> None:
        seconds = self.live.seconds_left()
        self.seconds_left = seconds
        self.remaining = f"{seconds // 60}:{seconds % 60:02d}"

    def _request(self, enterprise_id: str) -> None:
        self._forget_code()
        self.page = "loading"
        self._fetch(enterprise_id, refresh=False)

    def _fetch(self, enterprise_id: str, refresh: bool) -> None:
        person = self._person()
        if person is None:
            return
        self._generation += 1
        generation = self._generation
        self._fetching = True
        self.refreshing = refresh
        self.controller.kiosk.handoff.run_in_worker(
            issue_code, self.controller.kiosk.codes, person, enterprise_id,
            on_done=lambda result: self._issued(generation, result),
            on_error=lambda exc: self._failed(generation, exc, refresh))

    def _issued(self, generation: int, result: tuple[Any, bytearray, int]) -> None:
        code, pixels, size = result
        if generation != self._generation or self.controller is None or \
                self.controller.machine.identity is None:
            pixels[:] = bytes(len(pixels))
            log.info("a code arrived after the screen moved on: dropped")
            return
        self._fetching = self.refreshing = False
        self.show_code(code, pixels, size)

    def _enterprises_found(self, generation: int, found: list[Any]) -> None:
        if generation == self._generation:
            self.show_enterprises(found)

    def show_enterprises(self, found: list[Any]) -> None:
        """List the enterprises (:class:`kiosk.codes.Enterprise`) the person represents."""
        self.enterprises = list(found)
        box = self.ids.enterprise_list
        box.clear_widgets()
        if not found:
            self.show_message(NO_ENTERPRISE, retry=False)
            return
        for enterprise in found:
            box.add_widget(EnterpriseChoice(
                enterprise_id=enterprise.id, name=enterprise.name,
                credit_code=enterprise.credit_code,
                role=ROLE_MSGIDS.get(enterprise.role.name, ""), screen=self))
        self.page = "enterprises"

    def _failed(self, generation: int, exc: BaseException, refresh: bool = False) -> None:
        if generation != self._generation:
            return
        self._fetching = self.refreshing = False
        log.warning("the code platform refused or failed: %s", type(exc).__name__)
        if refresh and self.live.current() is not None:
            self._retry_at = self.clock() + RETRY_S  # the code on screen is still valid
            return
        from kiosk.codes import IssueRefused

        # the platform's own words for a refusal about this person; anything else (network,
        # server) is "try again later" (a PlatformUnavailable's text is about scanned codes)
        message = (exc.message_zh if isinstance(exc, IssueRefused) else "") or FAILED
        self.show_message(message, retry=True)

    def show_message(self, message: str, *, retry: bool, idcard: bool = False) -> None:
        """The message page: ``message`` (msgid) with "再试一次" and/or "改用身份证"."""
        self.message = message
        self.can_retry = retry
        self.use_idcard = idcard
        self.page = "message"

    def _mark_printed(self) -> None:
        self.printed = True

    def _person(self) -> Any:
        from kiosk.codes import Person

        controller = self.controller
        identity = controller.machine.identity if controller else None
        if identity is None or not identity.id_number:
            return None
        return Person.from_identity(identity)

    def _forget_code(self) -> None:
        self._generation += 1
        self._fetching = self.refreshing = False
        self._retry_at = 0.0
        self.live.clear()
        if "qr" in self.ids:
            self.ids.qr.wipe()
        self.seconds_left = 0
        self.remaining = ""

    def _forget_choice(self) -> None:
        """The enterprises listed and the one picked."""
        self.enterprises = []
        self.ids.enterprise_list.clear_widgets()
        self._enterprise = None
        self.enterprise_name = self.enterprise_role = ""


FLOW_SCREEN = FlowScreenSpec("code", "code", CodeScreen, "code.kv")
