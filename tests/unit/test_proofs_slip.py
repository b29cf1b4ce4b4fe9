"""Proof slips from the platform (#15): sample marking, the short code, and a screen preview
rendered from the masked slip while the paper carries the holder in full."""

from __future__ import annotations

from drivers.idcard import samples as cards
from drivers.printer.encoder import EncoderOptions, EscposEncoder
from drivers.printer.fake import FakePrinter
from drivers.printer.interpreter import render_job
from kiosk.codes.embedded import EmbeddedCodePlatform
from kiosk.identity.person import Identity
from kiosk.mainthread import MainThreadHandoff
from kiosk.printing.proofs import PlatformProofProvider, paper_and_preview
from kiosk.printing.service import PrintService


def _png(doc) -> bytes:
    data = EscposEncoder(EncoderOptions(paper_width_mm=80)).encode(doc)
    return render_job(data, paper_width_mm=80).png()


def _texts(doc) -> str:
    return "\n".join(getattr(block, "text", "") for block in doc.blocks)


def test_slip_carries_sample_mark_short_code_and_verify_url() -> None:
    platform = EmbeddedCodePlatform()
    slip = PlatformProofProvider(platform).document("rights_record",
                                                    Identity.from_idcard(cards.RESIDENT))
    assert slip.title.endswith("（样例）") and "样例" in slip.statement
    code = slip.verify_url.rsplit("/verify/", 1)[1]
    assert platform.verify_proof(code).document_no == slip.document_no
    assert slip.verify_code == f"{code.rsplit('.', 1)[1][:4]}-{code.rsplit('.', 1)[1][4:8]}"


def test_the_screen_preview_is_rendered_from_the_masked_slip() -> None:
    platform = EmbeddedCodePlatform()
    slip = PlatformProofProvider(platform).document("insurance_payment",
                                                    Identity.from_idcard(cards.RESIDENT))
    printer = FakePrinter(options={"preview": True, "paper_width_mm": 80})
    printer.start()
    try:
        paper, masked = paper_and_preview(slip, 80)
        outcome = PrintService(printer, MainThreadHandoff()).print_now(paper, masked)
        assert outcome.ok and printer.jobs[-1] is paper
        assert cards.RESIDENT.id_number in _texts(paper)  # the document needs it in full
        assert cards.RESIDENT.id_number not in _texts(masked)
        assert cards.RESIDENT.name not in _texts(masked)
        assert outcome.preview == _png(masked) != _png(paper)
    finally:
        printer.stop()
