"""证明打印: choose a proof, print it, then finish (→ rating)."""

from __future__ import annotations

import logging

from kivy.properties import BooleanProperty, ListProperty, StringProperty

from screens.base import KioskScreen
from screens.flow_screens import FlowScreenSpec

log = logging.getLogger(__name__)


class ProofScreen(KioskScreen):
    #: [{"id": …, "title": …, "description": …}] for the identified person
    proofs = ListProperty()
    printed = ListProperty()  # ids printed in this visit
    masked_name = StringProperty("")
    printer_ok = BooleanProperty(True)

    error = StringProperty("")  # the platform could not be reached (msgid)

    def prepare(self) -> None:
        controller = self.controller
        if controller is None:
            return
        identity = controller.machine.identity
        self.error = ""
        self.populate([], identity.masked_name if identity else "",
                      controller.kiosk.printing.available)
        if identity is None:
            return

        def failed(exc: BaseException) -> None:
            log.warning("proof list unavailable: %s", type(exc).__name__)
            self.error = "暂时无法连接服务平台，请稍后再试或到窗口办理"

        controller.kiosk.handoff.run_in_worker(
            controller.kiosk.proofs.available, identity,
            on_done=lambda kinds: self.populate(kinds, self.masked_name,
                                                controller.kiosk.printing.available),
            on_error=failed)

    def populate(self, kinds: list, masked_name: str, printer_ok: bool) -> None:
        self.masked_name = masked_name
        self.proofs = [{"id": k.id, "title": k.title, "description": k.description}
                       for k in kinds]
        self.printer_ok = printer_ok
        box = self.ids.choices
        box.clear_widgets()
        from screens.widgets import ProofChoice

        for item in self.proofs:
            box.add_widget(ProofChoice(proof_id=item["id"], title=item["title"],
                                       description=item["description"], screen=self))

    def choose(self, proof_id: str) -> None:
        """Print the chosen proof for the identified person."""
        from kiosk.core import paper_width_mm
        from kiosk.printing.proofs import paper_and_preview

        controller = self.controller
        identity = controller.machine.identity if controller else None
        if identity is None:
            return
        self.error = ""
        width = paper_width_mm(controller.kiosk.config)
        dialog = controller.print_dialog
        if dialog is not None:
            dialog.phone_url = ""
            dialog.show_printing()  # at once: the platform's document comes on a worker

        def issued(data: object) -> None:
            if controller.machine.identity is not identity:  # the session ended meanwhile
                return
            paper, preview = paper_and_preview(data, width)  # type: ignore[arg-type]

            def printed() -> None:
                self.mark_printed(proof_id)
                controller.machine.session.handling_number = data.document_no  # type: ignore[attr-defined]

            controller.print_document(paper, phone_url=data.verify_url,  # type: ignore[attr-defined]
                                      on_printed=printed, preview=preview)

        def failed(exc: BaseException) -> None:
            log.warning("proof not issued: %s", type(exc).__name__)
            self.error = str(getattr(exc, "message_zh", "") or
                             "暂时无法出具证明，请稍后再试或到窗口办理")
            if dialog is not None and dialog.parent is not None:
                dialog.show_outcome(False, self.error, retryable=False)

        controller.kiosk.handoff.run_in_worker(controller.kiosk.proofs.document, proof_id,
                                               identity, on_done=issued, on_error=failed)

    def mark_printed(self, proof_id: str) -> None:
        if proof_id not in self.printed:
            self.printed = [*self.printed, proof_id]

    def clear_personal(self) -> None:
        self.error = ""
        self.masked_name = ""
        self.proofs = []
        self.printed = []
        self.ids.choices.clear_widgets()


FLOW_SCREEN = FlowScreenSpec("proof", "proof", ProofScreen, "proof.kv")
