"""A scanned payload → an identity-like result or a typed refusal (the identify step).

:func:`resolve_scan` may block (the HTTP platform): call it on a worker thread
(``handoff.run_in_worker(resolve_scan, payload, platform, on_done=...)``). It never raises for
a bad code: every way a code can fail becomes a :class:`CodeRefusal` whose ``message_zh`` is
the plain-Chinese text to show, with a way back (the ID card).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from drivers.privacy import mask_name
from kiosk.codes.classify import DEFAULT_CLASSIFIER, Classifier, CodeClass
from kiosk.codes.platform import CodePlatform, Enterprise
from kiosk.codes.refusals import MESSAGES_ZH, CodeRefused, RefusalReason
from kiosk.codes.tokens import TokenKind
from kiosk.identity.person import Identity

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CodeIdentity:
    """Who a verified code stands for: only masked and pseudonymous values."""

    kind: str  # "resident" | "enterprise"
    subject_ref: str  # hex pseudonym from the platform
    masked_name: str  # "李*", or "" when the platform does not say
    expires_at: float  # the code's expiry (time.time() clock)
    terminal_id: str = ""  # the terminal that issued the code, if the platform says
    enterprise: Enterprise | None = None

    def to_identity(self) -> Identity:
        """An :class:`Identity` for the session (``source="code"``, no ID number)."""
        return Identity(
            source="code", name=self.masked_name, id_number="",
            card_type=f"{self.kind}_code",
            extra={"subject_ref": self.subject_ref, "code_expires_at": self.expires_at,
                   "code_terminal": self.terminal_id,
                   "enterprise": self.enterprise.name if self.enterprise else ""})


@dataclass(frozen=True)
class CodeRefusal:
    reason: RefusalReason
    detail: str = ""  # technical, no personal data: for logs
    scanned_class: CodeClass = CodeClass.UNKNOWN
    message_zh: str = field(default="")

    def __post_init__(self) -> None:
        if not self.message_zh:
            object.__setattr__(self, "message_zh", MESSAGES_ZH[self.reason])


def resolve_scan(payload: str, platform: CodePlatform, *,
                 classifier: Classifier | None = None,
                 expect: TokenKind | None = TokenKind.RESIDENT) -> CodeIdentity | CodeRefusal:
    """Classify, then verify with the platform. ``expect=None`` accepts either kind."""
    classification = (classifier or DEFAULT_CLASSIFIER).classify(payload)
    cls = classification.cls
    if cls not in (CodeClass.RESIDENT, CodeClass.ENTERPRISE) and not (
            cls is CodeClass.UNKNOWN and platform.verifies_unknown):
        log.info("scanned %s where a code was expected", cls.value)
        return CodeRefusal(RefusalReason.FOREIGN, f"a {cls.value} was scanned", cls)
    try:
        verified = platform.verify(payload, expect)
    except CodeRefused as exc:
        log.info("code refused (%s): %s", exc.reason.value, exc.detail)
        return CodeRefusal(exc.reason, exc.detail, cls)
    log.info("code verified: %s code of %s", verified.kind.name.lower(),
             mask_name(verified.masked_name) or "an unnamed subject")
    return CodeIdentity(kind=verified.kind.name.lower(), subject_ref=verified.subject_ref,
                        masked_name=verified.masked_name, expires_at=verified.expires_at,
                        terminal_id=verified.terminal_id, enterprise=verified.enterprise)
