"""证明打印: choose a proof, print it, then finish (→ rating)."""

from __future__ import annotations

from kivy.properties import BooleanProperty, ListProperty, StringProperty

from screens.base import KioskScreen


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
        if self.controller is not None:
            self.controller.print_proof(proof_id)

    def mark_printed(self, proof_id: str) -> None:
        if proof_id not in self.printed:
            self.printed = [*self.printed, proof_id]

    def clear_personal(self) -> None:
        self.masked_name = ""
        self.proofs = []
        self.printed = []
        self.ids.choices.clear_widgets()
