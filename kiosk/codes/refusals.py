"""Why a scanned code is not accepted, with the plain-Chinese message the resident sees.

The messages are the Chinese source texts (gettext msgids, see :mod:`kiosk.i18n`); English
translations for ``kiosk.po`` are in :data:`MESSAGES_EN`. Every message says what to do next.
"""

from __future__ import annotations

import enum


class RefusalReason(enum.StrEnum):
    INVALID = "invalid"  # unreadable, damaged or tampered with, or not valid yet
    EXPIRED = "expired"  # a genuine code whose validity has passed
    FOREIGN = "foreign"  # not a code of this platform (another issuer, a ticket, a URL...)
    WRONG_KIND = "wrong_kind"  # an enterprise code where a resident code is needed, or back
    UNAVAILABLE = "unavailable"  # the platform could not be asked (network, server error)


MESSAGES_ZH: dict[RefusalReason, str] = {
    RefusalReason.INVALID: "此码无效，无法识别。请在“爱山东”App中刷新居民码后重新出示，"
                           "或刷身份证。",
    RefusalReason.EXPIRED: "此码已过期。请在“爱山东”App中刷新居民码后重新出示。",
    RefusalReason.FOREIGN: "这不是“爱山东”居民码。请出示“爱山东”App中的居民码，或刷身份证。",
    RefusalReason.WRONG_KIND: "这是企业码，不能用于确认本人身份。请出示本人居民码，或刷身份证。",
    RefusalReason.UNAVAILABLE: "暂时无法核验此码，请稍后再试，或刷身份证办理。",
}

MESSAGES_EN: dict[RefusalReason, str] = {
    RefusalReason.INVALID: "This code is not valid. Refresh your resident code in the "
                           "iShandong app and show it again, or use your ID card.",
    RefusalReason.EXPIRED: "This code has expired. Refresh your resident code in the "
                           "iShandong app and show it again.",
    RefusalReason.FOREIGN: "This is not an iShandong resident code. Show the resident code "
                           "in the iShandong app, or use your ID card.",
    RefusalReason.WRONG_KIND: "This is an enterprise code and cannot identify you. Show your "
                              "own resident code, or use your ID card.",
    RefusalReason.UNAVAILABLE: "The code cannot be checked right now. Please try again later, "
                               "or use your ID card.",
}


class CodeRefused(Exception):
    """A code was not accepted. ``detail`` is technical, for logs, and free of personal data."""

    def __init__(self, reason: RefusalReason, detail: str = "") -> None:
        super().__init__(f"{reason.value}: {detail}" if detail else reason.value)
        self.reason = reason
        self.detail = detail

    @property
    def message_zh(self) -> str:
        return MESSAGES_ZH[self.reason]


class PlatformUnavailable(CodeRefused):
    """The platform could not be reached or answered with an error."""

    def __init__(self, detail: str) -> None:
        super().__init__(RefusalReason.UNAVAILABLE, detail)
