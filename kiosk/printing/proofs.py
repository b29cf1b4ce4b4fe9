"""证明打印: which proofs a person can print, and the documents themselves.

The service platform is the source of proofs (参保缴费证明, 个人权益记录, 医保个人账户): it
supplies the document's data and a verification code bound to it and signed with the
platform's key (:mod:`kiosk.codes.proofdocs`), checkable later at the platform's
``/verify/{code}`` page. :class:`PlatformProofProvider` turns that into the slip the printer
prints; the embedded platform (village stations, demos) marks every slip as sample data and
keeps its key in the data folder, so its codes still verify after a restart.

The paper carries the holder's full name and ID number because the document requires them;
:func:`screen_preview` is the same slip with both masked, for the on-screen preview. Calls may
block (network): the screens make them on a worker thread. Nothing of the person is logged.
"""

from __future__ import annotations

from typing import Any, Protocol

from drivers.printer.document import Document
from kiosk.codes.platform import CodePlatform, Person
from kiosk.codes.proofdocs import PROOF_KIND_BY_ID, PROOF_KINDS, ProofDocument, ProofKind
from kiosk.identity.person import Identity
from kiosk.printing import Proof, proof

#: kept for callers that list the kinds (translations, layout tests)
ProofType = ProofKind
PROOF_TYPES: tuple[ProofKind, ...] = PROOF_KINDS
PROOF_BY_ID = PROOF_KIND_BY_ID


class ProofProvider(Protocol):
    def available(self, identity: Identity) -> list[ProofKind]: ...

    def document(self, proof_id: str, identity: Identity) -> Proof: ...


def slip_of(doc: ProofDocument) -> Proof:
    """The printable slip of a platform document (QR = the verification URL)."""
    import datetime as dt

    return Proof(title=doc.title + ("（样例）" if doc.sample else ""),
                 holder_name=doc.holder_name, holder_id=doc.holder_id,
                 verify_url=doc.verify_url, issuer=doc.issuer,
                 issued_at=dt.date.fromisoformat(doc.issued_on), fields=doc.fields,
                 rows_header=doc.rows_header, rows=doc.rows, statement=doc.statement,
                 verify_code=doc.short_code, document_no=doc.document_no)


class PlatformProofProvider:
    """Proofs from the service platform (embedded or over HTTP)."""

    def __init__(self, platform: CodePlatform) -> None:
        self.platform = platform

    def available(self, identity: Identity) -> list[ProofKind]:
        return self.platform.proof_kinds(Person.from_identity(identity))

    def document(self, proof_id: str, identity: Identity) -> Proof:
        return slip_of(self.platform.issue_proof(Person.from_identity(identity), proof_id))


def paper_and_preview(data: Proof, paper_width_mm: int) -> tuple[Document, Document]:
    """The document for the paper (full name and ID number) and the one the screen shows."""
    return (proof(data, paper_width_mm=paper_width_mm),
            screen_preview(data, paper_width_mm=paper_width_mm))


def screen_preview(data: Proof, paper_width_mm: int = 80, **_: Any) -> Document:
    """The slip as the screen may show it: holder name and ID number masked."""
    return proof(data, mask_holder=True, paper_width_mm=paper_width_mm)
