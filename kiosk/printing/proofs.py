"""证明打印: which proofs a person can print, and the documents themselves.

The service platform is the source of proofs in a hall (参保缴费证明, 个人权益记录, 医保个人账户);
:class:`ProofProvider` is the interface a network adapter implements. The embedded default,
for demos and single terminals, issues **sample** documents (fictitious figures, marked as
sample on the paper) for whoever identified, with a verification code and QR that a
verification page would check. The holder's full name and ID number are printed because the
document itself requires them; nothing of the person is logged or kept after printing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Protocol

from kiosk.identity.person import Identity
from kiosk.printing import Proof


@dataclass(frozen=True)
class ProofType:
    id: str
    title: str  # msgid, translated on screen
    description: str


PROOF_TYPES: tuple[ProofType, ...] = (
    ProofType("insurance_payment", "参保缴费证明", "养老、医疗、失业等险种的参保缴费情况"),
    ProofType("rights_record", "个人权益记录", "社会保险个人权益记录单"),
    ProofType("medical_account", "医保个人账户", "医保个人账户余额与收支明细"),
)
PROOF_BY_ID = {p.id: p for p in PROOF_TYPES}


class ProofProvider(Protocol):
    def available(self, identity: Identity) -> list[ProofType]: ...

    def document(self, proof_id: str, identity: Identity) -> Proof: ...


class EmbeddedProofProvider:
    """Sample proofs, signed with a per-terminal key so a verification page can check them."""

    def __init__(self, issuer: str, terminal_id: str, verify_base_url: str,
                 key: bytes | None = None, today: dt.date | None = None) -> None:
        self.issuer = issuer
        self.terminal_id = terminal_id
        self.verify_base_url = verify_base_url.rstrip("/")
        self._key = key or secrets.token_bytes(32)
        self._today = today

    def available(self, identity: Identity) -> list[ProofType]:
        return list(PROOF_TYPES)

    def document(self, proof_id: str, identity: Identity) -> Proof:
        kind = PROOF_BY_ID[proof_id]
        today = self._today or dt.date.today()
        number = f"{self.terminal_id}-{today:%Y%m%d}-{secrets.randbelow(10**6):06d}"
        code = self.verification_code(number)
        fields, header, rows = _sample_content(proof_id, today)
        return Proof(
            title=kind.title, holder_name=identity.name, holder_id=identity.id_number,
            verify_url=f"{self.verify_base_url}?no={number}&code={code}", issuer=self.issuer,
            issued_at=today, fields=fields, rows_header=header, rows=rows,
            statement="本证明为演示样例数据，不作为办事依据。", verify_code=code,
            document_no=number)

    def verification_code(self, document_no: str) -> str:
        """8 characters a verification page recomputes from the document number."""
        return hmac.new(self._key, document_no.encode(), hashlib.sha256).hexdigest()[:8].upper()


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
