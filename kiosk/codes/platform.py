"""The service platform's code interface (一码通行): issue, list enterprises, verify.

Two implementations: :class:`kiosk.codes.embedded.EmbeddedCodePlatform` (a local Ed25519
issuer, verifies offline) and :class:`kiosk.codes.http_adapter.HttpCodePlatform` (the
province's platform over HTTP; its reference server is :mod:`kiosk.codes.refserver`).

Calls may block (network): the kiosk makes them on a worker thread
(``MainThreadHandoff.run_in_worker``). Codes are time-limited; nothing here keeps a code after
it was handed out: :class:`kiosk.codes.live.LiveCode` holds the one on screen and drops it when
it expires.
"""

from __future__ import annotations

import abc
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from drivers.privacy import mask_id_number, mask_name
from kiosk.codes.tokens import Role, TokenKind

if TYPE_CHECKING:
    from kiosk.codes.progress import Application
    from kiosk.codes.proofdocs import ProofDocument, ProofKind, VerifiedProof


class IssueRefused(Exception):
    """The platform will not issue this code (e.g. the person does not represent the
    enterprise). ``message_zh`` is for the resident, ``detail`` for logs (no personal data)."""

    def __init__(self, message_zh: str, detail: str = "") -> None:
        super().__init__(detail or message_zh)
        self.message_zh = message_zh
        self.detail = detail


NOT_REPRESENTATIVE_ZH = "您不是该企业的法定代表人或经办人，无法出示企业码。"


@dataclass(frozen=True, repr=False)
class Person:
    """Who asks for a code: the identified resident. Only the platform sees the raw values."""

    id_number: str
    name: str

    @classmethod
    def from_identity(cls, identity: Any) -> Person:
        """From a :class:`kiosk.identity.person.Identity` read from an ID or social security
        card."""
        return cls(id_number=identity.id_number, name=identity.name)

    @property
    def masked_name(self) -> str:
        return mask_name(self.name)

    def __repr__(self) -> str:
        return f"Person({self.masked_name!r}, {mask_id_number(self.id_number)!r})"

    __str__ = __repr__


@dataclass(frozen=True)
class Enterprise:
    """An enterprise a person may act for. ``credit_code`` is public registry data."""

    id: str  # the platform's id for it
    name: str
    credit_code: str  # 统一社会信用代码
    role: Role = Role.LEGAL_REPRESENTATIVE

    @property
    def role_zh(self) -> str:
        return {Role.LEGAL_REPRESENTATIVE: "法定代表人", Role.AGENT: "经办人"}.get(self.role, "")

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "credit_code": self.credit_code,
                "role": self.role.name.lower()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Enterprise:
        return cls(id=str(data["id"]), name=str(data["name"]),
                   credit_code=str(data.get("credit_code", "")),
                   role=Role[str(data.get("role", "legal_representative")).upper()])


@dataclass(frozen=True, repr=False)
class IssuedCode:
    """A code to show (亮码). ``text`` is the QR payload: personal, never logged or stored.

    Times are this terminal's ``time.time()`` (the HTTP adapter converts the server's
    remaining lifetime into local time, so clock differences do not matter).
    """

    text: str
    kind: TokenKind
    issued_at: float
    expires_at: float
    masked_name: str = ""
    enterprise: Enterprise | None = None

    @property
    def lifetime_s(self) -> float:
        return self.expires_at - self.issued_at

    def seconds_left(self, now: float | None = None) -> float:
        return max(0.0, self.expires_at - (time.time() if now is None else now))

    def expired(self, now: float | None = None) -> bool:
        return self.seconds_left(now) <= 0

    def __repr__(self) -> str:
        return (f"IssuedCode(kind={self.kind.name}, name={self.masked_name!r}, "
                f"text=<{len(self.text)} chars>, expires_at={self.expires_at:.0f})")

    __str__ = __repr__


@dataclass(frozen=True)
class VerifiedCode:
    """What a verified code tells the kiosk: only masked or pseudonymous values."""

    kind: TokenKind
    subject_ref: str  # hex pseudonym, stable for one person (or enterprise) on one platform
    issued_at: float
    expires_at: float
    terminal_id: str = ""
    masked_name: str = ""  # resident codes: e.g. "李*" ("" if the platform does not say)
    enterprise: Enterprise | None = None
    role: Role = Role.SELF

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind.name.lower(), "subject_ref": self.subject_ref,
                "issued_at": self.issued_at, "expires_at": self.expires_at,
                "terminal_id": self.terminal_id, "masked_name": self.masked_name,
                "enterprise": self.enterprise.to_json() if self.enterprise else None,
                "role": self.role.name.lower()}


class CodePlatform(abc.ABC):
    """What the kiosk needs of the platform for codes."""

    name: str = "abstract"
    #: whether a payload the classifier does not recognise should still be sent to
    #: :meth:`verify` (a remote platform may know formats the terminal does not)
    verifies_unknown: bool = False

    @abc.abstractmethod
    def issue_resident_code(self, person: Person) -> IssuedCode:
        """A fresh resident code for the identified person."""

    @abc.abstractmethod
    def enterprises_for(self, person: Person) -> list[Enterprise]:
        """The enterprises the person represents (legal representative) or acts for (agent)."""

    @abc.abstractmethod
    def issue_enterprise_code(self, person: Person, enterprise_id: str) -> IssuedCode:
        """A fresh enterprise code; raises :class:`IssueRefused` if the person may not."""

    @abc.abstractmethod
    def verify(self, payload: str, expect: TokenKind | None = None) -> VerifiedCode:
        """Check a scanned code; raises :class:`kiosk.codes.refusals.CodeRefused`."""

    # -- progress (办件进度) and proofs (证明), issue #15 ------------------------------------------
    @abc.abstractmethod
    def progress_for(self, person: Person) -> list[Application]:
        """The person's applications, newest first ([] when there are none)."""

    @abc.abstractmethod
    def progress_by_number(self, handling_number: str) -> Application:
        """One application by its handling number; raises
        :class:`kiosk.codes.progress.ProgressNotFound` or ``BadHandlingNumber``."""

    @abc.abstractmethod
    def proof_kinds(self, person: Person) -> list[ProofKind]:
        """The proofs this person can print."""

    @abc.abstractmethod
    def issue_proof(self, person: Person, kind_id: str) -> ProofDocument:
        """The document's data with its signed verification code and verification URL;
        raises :class:`IssueRefused` when the platform will not issue it."""

    @abc.abstractmethod
    def verify_proof(self, code: str) -> VerifiedProof:
        """Check a proof's verification code; raises
        :class:`kiosk.codes.proofdocs.ProofRefused`."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections (nothing by default)."""
