"""Proof documents (证明) from the platform, with a verification code bound to their content.

The platform supplies a proof's data and a **verification code**: a token
``PV1.<base32 body>.<base32 Ed25519 signature>`` whose body (compact JSON) holds the document
number, the proof type, the issue day, the *masked* holder, a flag for sample data and a
SHA-256 digest of the whole document as printed (holder's full name and ID number included).
The platform signs it with its own key, so the code is stable (the same document keeps the
same code), checkable later at the platform's ``/verify/{code}`` page without any stored list,
and refused when a single character is changed. Keys live in a file (the embedded platform's
in the data folder), so codes still verify after a restart.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from drivers.privacy import mask_id_number, mask_name
from kiosk.codes.tokens import load_private_key, write_private_key

PREFIX = "PV1."
DOMAIN = b"aishandong-proof-v1\0"
SAMPLE_STATEMENT = "本证明为演示样例数据，不作为办事依据。"


class ProofRefused(Exception):
    """A verification code that does not verify; ``reason`` is plain English for logs/pages."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class ProofKind:
    id: str
    title: str  # msgid
    description: str


PROOF_KINDS: tuple[ProofKind, ...] = (
    ProofKind("insurance_payment", "参保缴费证明", "养老、医疗、失业等险种的参保缴费情况"),
    ProofKind("rights_record", "个人权益记录", "社会保险个人权益记录单"),
    ProofKind("medical_account", "医保个人账户", "医保个人账户余额与收支明细"),
)
PROOF_KIND_BY_ID = {k.id: k for k in PROOF_KINDS}


@dataclass(frozen=True, repr=False)
class ProofDocument:
    """A proof as the platform issues it. Holder fields are personal: never logged."""

    kind: str
    title: str
    document_no: str
    issuer: str
    issued_on: str  # ISO date
    holder_name: str
    holder_id: str
    fields: tuple[tuple[str, str], ...] = ()
    rows_header: tuple[str, ...] = ()
    rows: tuple[tuple[str, ...], ...] = ()
    statement: str = ""
    sample: bool = False
    code: str = ""  # the verification code (PV1.…)
    verify_url: str = ""

    def digest(self) -> str:
        """SHA-256 (hex) of everything printed except the code itself; the code carries its
        first 128 bits."""
        content = {"kind": self.kind, "title": self.title, "no": self.document_no,
                   "issuer": self.issuer, "issued_on": self.issued_on,
                   "holder_name": self.holder_name, "holder_id": self.holder_id,
                   "fields": [list(f) for f in self.fields], "header": list(self.rows_header),
                   "rows": [list(r) for r in self.rows], "statement": self.statement,
                   "sample": self.sample}
        raw = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(raw.encode()).hexdigest()

    @property
    def short_code(self) -> str:
        """8 characters of the signature, printed for people to compare with the page."""
        return short_code(self.code)

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "title": self.title, "document_no": self.document_no,
                "issuer": self.issuer, "issued_on": self.issued_on,
                "holder_name": self.holder_name, "holder_id": self.holder_id,
                "fields": [list(f) for f in self.fields], "rows_header": list(self.rows_header),
                "rows": [list(r) for r in self.rows], "statement": self.statement,
                "sample": self.sample, "code": self.code, "verify_url": self.verify_url}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ProofDocument:
        return cls(kind=str(data["kind"]), title=str(data["title"]),
                   document_no=str(data["document_no"]), issuer=str(data["issuer"]),
                   issued_on=str(data["issued_on"]), holder_name=str(data["holder_name"]),
                   holder_id=str(data["holder_id"]),
                   fields=tuple((str(a), str(b)) for a, b in data.get("fields", [])),
                   rows_header=tuple(str(h) for h in data.get("rows_header", [])),
                   rows=tuple(tuple(str(c) for c in r) for r in data.get("rows", [])),
                   statement=str(data.get("statement", "")), sample=bool(data.get("sample")),
                   code=str(data.get("code", "")), verify_url=str(data.get("verify_url", "")))

    def __repr__(self) -> str:
        return (f"ProofDocument({self.title!r}, no={self.document_no!r}, "
                f"holder={mask_name(self.holder_name)!r}, sample={self.sample})")


@dataclass(frozen=True)
class VerifiedProof:
    """What the verification page shows: nothing beyond the masked holder."""

    document_no: str
    kind: str
    title: str
    issued_on: str
    masked_holder: str
    masked_id: str
    digest: str
    sample: bool

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _b32(raw: bytes) -> str:
    return base64.b32encode(raw).decode("ascii").rstrip("=")


def _unb32(text: str) -> bytes:
    return base64.b32decode(text + "=" * (-len(text) % 8))


def short_code(code: str) -> str:
    tail = code.rsplit(".", 1)[-1]
    return f"{tail[:4]}-{tail[4:8]}" if len(tail) >= 8 else ""


def sign_proof(doc: ProofDocument, key: Ed25519PrivateKey) -> str:
    body = {"no": doc.document_no, "k": doc.kind, "d": doc.issued_on,
            "h": mask_name(doc.holder_name), "i": mask_id_number(doc.holder_id),
            "x": doc.digest()[:32], "s": int(doc.sample)}
    raw = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
    return PREFIX + _b32(raw) + "." + _b32(key.sign(DOMAIN + raw))


def verify_proof(code: str, public_key: Ed25519PublicKey) -> VerifiedProof:
    """Check a verification code; raise :class:`ProofRefused` when it is not genuine."""
    code = code.strip()
    if not code.startswith(PREFIX) or code.count(".") != 2:
        raise ProofRefused("not a proof verification code")
    body_text, signature_text = code[len(PREFIX):].split(".")
    try:
        raw, signature = _unb32(body_text), _unb32(signature_text)
    except (binascii.Error, ValueError) as exc:
        raise ProofRefused("the code is not valid base32") from exc
    try:
        public_key.verify(signature, DOMAIN + raw)
    except InvalidSignature as exc:
        raise ProofRefused("the signature does not match (tampered or another issuer)") from exc
    try:
        body = json.loads(raw.decode("utf-8"))
        return VerifiedProof(document_no=str(body["no"]), kind=str(body["k"]),
                             title=_title(str(body["k"])), issued_on=str(body["d"]),
                             masked_holder=str(body["h"]), masked_id=str(body["i"]),
                             digest=str(body["x"]), sample=bool(body["s"]))
    except (UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
        raise ProofRefused("the signed content is incomplete") from exc


def _title(kind: str) -> str:
    known = PROOF_KIND_BY_ID.get(kind)
    return known.title if known else kind


def load_or_create_key(path: Path) -> Ed25519PrivateKey:
    """The platform's proof key from ``path``, made (mode 0600) on first use."""
    path = Path(path).expanduser()
    if path.exists():
        return load_private_key(str(path))
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        return write_private_key(str(path))
    except FileExistsError:  # another process made it first
        return load_private_key(str(path))


@dataclass
class SampleProofs:
    """Sample proof content (fictitious figures) for the embedded and reference platforms."""

    issuer: str = "济南市社会保险事业中心（样例）"
    today: dt.date | None = None
    _serial: dict[str, int] = field(default_factory=dict, repr=False)

    def document(self, kind_id: str, holder_name: str, holder_id: str, *,
                 number_seed: str) -> ProofDocument:
        kind = PROOF_KIND_BY_ID.get(kind_id)
        if kind is None:
            raise KeyError(f"proof_id {kind_id!r}: one of "
                           f"{', '.join(PROOF_KIND_BY_ID)}")
        today = self.today or dt.date.today()
        serial = int(hashlib.sha256(number_seed.encode()).hexdigest()[:8], 16) % 10**6
        number = f"SP{today:%Y%m%d}{serial:06d}"
        fields, header, rows = _sample_content(kind_id, today)
        return ProofDocument(kind=kind_id, title=kind.title, document_no=number,
                             issuer=self.issuer, issued_on=today.isoformat(),
                             holder_name=holder_name, holder_id=holder_id, fields=fields,
                             rows_header=header, rows=rows, statement=SAMPLE_STATEMENT,
                             sample=True)


def _sample_content(proof_id: str, today: dt.date
                    ) -> tuple[tuple[tuple[str, str], ...], tuple[str, ...],
                               tuple[tuple[str, ...], ...]]:
    year = today.year
    if proof_id == "insurance_payment":
        return ((("参保险种", "企业职工基本养老保险"), ("参保状态", "正常参保"),
                 ("累计缴费", "126个月")),
                ("年度", "月数", "缴费基数"),
                tuple((str(y), "12", f"{4800 + 300 * (y - year + 3)}") for y in
                      range(year - 3, year)))
    if proof_id == "rights_record":
        return ((("记录年度", str(year - 1)), ("个人账户累计", "58,320.00元")),
                ("险种", "单位缴费", "个人缴费"),
                (("养老", "9,216.00", "4,608.00"), ("医疗", "4,032.00", "1,152.00"),
                 ("失业", "403.20", "403.20")))
    return ((("账户余额", "3,215.60元"), ("本年划入", "1,896.00元")),
            ("日期", "摘要", "金额"),
            ((f"{year}-01-15", "划入", "158.00"), (f"{year}-02-03", "药店购药", "-46.50"),
             (f"{year}-02-15", "划入", "158.00")))


def proof_key_path(data_dir: str | os.PathLike[str]) -> Path:
    return Path(data_dir).expanduser() / "platform" / "proof-key.pem"
