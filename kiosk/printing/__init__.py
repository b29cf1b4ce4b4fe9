"""Print layouts: slips as data (``layouts``), a renderer (``layout``) and builders (``slips``).

Pure Python, no Kivy: a screen's controller builds a slip, hands the returned
:class:`drivers.printer.Document` to the printer on a worker thread, and shows the outcome.
"""

from kiosk.printing.layout import Layout, render
from kiosk.printing.layouts import LAYOUTS
from kiosk.printing.slips import (
    CodeSlip,
    Material,
    Proof,
    QueueTicket,
    ServiceGuide,
    TestPage,
    code_slip,
    proof,
    queue_ticket,
    service_guide,
    test_page,
    wait_text,
)

__all__ = ["LAYOUTS", "CodeSlip", "Layout", "Material", "Proof", "QueueTicket", "ServiceGuide",
           "TestPage", "code_slip", "proof", "queue_ticket", "render", "service_guide",
           "test_page", "wait_text"]
