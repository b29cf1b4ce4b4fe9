"""证明打印: choose a proof, print it, then finish (→ rating)."""

from __future__ import annotations

from kivy.properties import BooleanProperty, ListProperty, StringProperty

from screens.base import KioskScreen
from screens.flow_screens import FlowScreenSpec


class ProofScreen(KioskScreen):
    #: [{"id": …, "title": …, "description": …}] for the identified person
    proofs = ListProperty()
    printed = ListProperty()  # ids printed in this visit
    masked_name = StringProperty("")
    printer_ok = BooleanProperty(True)

    def prepare(self) -> None:
        controller = self.controller
        if controller is None:
            return
        identity = controller.machine.identity
        kinds = controller.kiosk.proofs.available(identity) if identity else []
        self.populate(kinds, identity.masked_name if identity else "",
                      controller.kiosk.printing.available)

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
        from kiosk.printing import proof

        controller = self.controller
        identity = controller.machine.identity if controller else None
        if identity is None:
            return
        data = controller.kiosk.proofs.document(proof_id, identity)
        document = proof(data, paper_width_mm=paper_width_mm(controller.kiosk.config))
        def printed() -> None:
            self.mark_printed(proof_id)
            controller.machine.session.handling_number = data.document_no

        controller.print_document(document, phone_url=data.verify_url, on_printed=printed)

    def mark_printed(self, proof_id: str) -> None:
        if proof_id not in self.printed:
            self.printed = [*self.printed, proof_id]

    def clear_personal(self) -> None:
        self.masked_name = ""
        self.proofs = []
        self.printed = []
        self.ids.choices.clear_widgets()


FLOW_SCREEN = FlowScreenSpec("proof", "proof", ProofScreen, "proof.kv")
