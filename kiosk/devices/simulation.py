"""Stand-ins for the hardware on a desk: the in-process fakes or the wire-protocol emulators.

``kiosk run --profile demo`` uses the fakes; ``--emulate idcard,smartcard,printer`` instead
starts the SAM reader emulator on a pseudo-terminal, the social security card emulator behind
the real pcscd (through vsmartcard-vpcd: pcscd must be running) and the ESC/POS printer
emulator on TCP 127.0.0.1, and switches those devices to their real drivers (``sam``,
``pcsc``, ``escpos``), so the whole app runs on the real protocols. Either way the simulator panel
(and the scripted demo) act through :class:`Simulation`: place a card, lift it, run out of
paper, press a key on the rating pad, as the hardware would — from another thread.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from config.schema import KioskConfig

log = logging.getLogger(__name__)

EMULATABLE = ("idcard", "smartcard", "printer")

#: the simulator panel's buttons: (test id, label msgid, Simulation method, arguments)
ACTIONS: tuple[tuple[str, str, str, tuple[Any, ...]], ...] = (
    ("sim_idcard", "放身份证", "place_id_card", ()),
    ("sim_idcard_expired", "放过期证件", "place_expired_id_card", ()),
    ("sim_idcard_lift", "拿走身份证", "lift_id_card", ()),
    ("sim_sscard", "插入社保卡", "insert_ss_card", ()),
    ("sim_sscard_remove", "拔出社保卡", "remove_ss_card", ()),
    ("sim_paper_out", "打印机缺纸", "set_paper", ("out",)),
    ("sim_paper_low", "打印纸将尽", "set_paper", ("near_end",)),
    ("sim_paper_ok", "打印机恢复", "set_paper", ("ok",)),
    ("sim_pad_good", "评价器：非常满意", "press_rating", ("very_satisfied",)),
    ("sim_pad_bad", "评价器：不满意", "press_rating", ("dissatisfied",)),
)


class SimulationError(RuntimeError):
    pass


class Simulation:
    def __init__(self, emulate: set[str] | frozenset[str] = frozenset()) -> None:
        unknown = set(emulate) - set(EMULATABLE)
        if unknown:
            raise SimulationError(f"cannot emulate {', '.join(sorted(unknown))}: the emulated "
                                  f"devices are {', '.join(EMULATABLE)}")
        self.emulate = frozenset(emulate)
        self._kiosk: Any = None
        self._sam: Any = None
        self._sam_server: Any = None
        self._printer_emulator: Any = None
        self._sscard: Any = None

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self, config: KioskConfig) -> KioskConfig:
        """Start the requested emulators; returns the config pointing at them."""
        devices = config.devices
        updates: dict[str, Any] = {}
        if "idcard" in self.emulate:
            from drivers.idcard.emulator import PtyEmulator, SamEmulator

            self._sam = SamEmulator()
            self._sam_server = PtyEmulator(self._sam)
            self._sam_server.start()
            updates["idcard"] = devices.idcard.model_copy(update={
                "enabled": True, "type": "sam", "url": self._sam_server.url,
                "options": {"poll_hz": 5}})
            log.info("ID card reader emulator on %s", self._sam_server.url)
        if "smartcard" in self.emulate:
            from drivers.smartcard.emulator import CardScript, SsCardEmulator
            from drivers.smartcard.samples import SAMPLES

            self._sscard = SsCardEmulator(CardScript(SAMPLES["v2"]))
            updates["smartcard"] = devices.smartcard.model_copy(update={
                "enabled": True, "type": "pcsc", "url": "",
                "options": {"reader": "Virtual PCD", "poll_interval": 0.2}})
            log.info("social security card emulator on vpcd (127.0.0.1:35963)")
        if "printer" in self.emulate:
            from drivers.printer.emulator import PrinterEmulator

            width = int(devices.printer.options.get("paper_width_mm", 80))
            self._printer_emulator = PrinterEmulator(paper_width_mm=width)
            host, port = self._printer_emulator.start_tcp("127.0.0.1", 0)
            updates["printer"] = devices.printer.model_copy(update={
                "enabled": True, "type": "escpos", "url": f"tcp://{host}:{port}",
                "options": {"paper_width_mm": width}})
            log.info("printer emulator on tcp://%s:%d", host, port)
        if not updates:
            return config
        return config.model_copy(update={"devices": devices.model_copy(update=updates)})

    def bind(self, kiosk: Any) -> None:
        """The running kiosk, whose fake devices the actions drive."""
        self._kiosk = kiosk

    def stop(self) -> None:
        if self._sam_server is not None:
            self._sam_server.stop()
        if self._sscard is not None:
            self._sscard.remove()
        if self._printer_emulator is not None:
            self._printer_emulator.stop()

    # -- what a resident or the hardware does ---------------------------------------------------
    def place_id_card(self, card: Any = None) -> None:
        from drivers.idcard.samples import RESIDENT

        card = card or RESIDENT
        if self._sam is not None:
            self._sam.put_card(card)
        else:
            self._on_device_thread("idcard", lambda reader: reader.present(card))

    def place_expired_id_card(self) -> None:
        from drivers.idcard.samples import EXPIRED

        self.place_id_card(EXPIRED)

    def lift_id_card(self) -> None:
        if self._sam is not None:
            self._sam.lift_card()
        else:
            self._on_device_thread("idcard", lambda reader: reader.lift())

    def insert_ss_card(self, card: Any = None) -> None:
        from drivers.smartcard.samples import SAMPLE_CARD

        if self._sscard is not None:
            self._in_background("insert a card into vpcd", self._sscard.insert)
            return
        self._on_device_thread("smartcard", lambda reader: reader.insert(card or SAMPLE_CARD))

    def remove_ss_card(self) -> None:
        if self._sscard is not None:
            self._in_background("remove the card from vpcd", self._sscard.remove)
            return
        self._on_device_thread("smartcard", lambda reader: reader.remove())

    @staticmethod
    def _in_background(what: str, action: Callable[[], Any]) -> None:
        """Emulators may wait on pcscd: never on the caller's (UI) thread."""

        def run() -> None:
            try:
                action()
            except Exception as exc:
                log.error("simulation could not %s: %s (is pcscd running?)", what, exc)

        threading.Thread(target=run, name="simulation", daemon=True).start()

    def set_paper(self, level: str) -> None:
        """``ok`` | ``near_end`` | ``out``."""
        if self._printer_emulator is not None:
            self._printer_emulator.condition = {"ok": "ok", "near_end": "near_end",
                                                "out": "paper_out"}[level]
            return
        from drivers.printer.interface import PaperLevel, PrinterStatus

        status = PrinterStatus(online=True, paper=PaperLevel(level), cover_open=False,
                               cutter_error=False, error=False)
        self._on_device_thread("printer", lambda printer: printer.set_status(status))

    def unplug(self, kind: str) -> None:
        """The device's cable is pulled (the reader's USB-serial port goes away)."""
        if kind == "idcard" and self._sam_server is not None:
            self._sam_server.unplug()
            return
        self._on_device_thread(kind, lambda device: device.set_available(False))

    def plug(self, kind: str) -> None:
        if kind == "idcard" and self._sam_server is not None:
            self._sam_server.plug()
            return
        self._on_device_thread(kind, lambda device: device.set_available(True))

    def press_rating(self, level: str) -> None:
        self._on_device_thread("ratingpad", lambda pad: pad.press(level))

    def scan(self, payload: str) -> None:
        self._on_device_thread("scanner", lambda scanner: scanner.scan(payload))

    @property
    def printer_emulator(self) -> Any:
        return self._printer_emulator

    def _on_device_thread(self, kind: str, action: Callable[[Any], Any]) -> None:
        """Call a fake's method on a thread of its own, as a real device's events arrive."""
        device = self._kiosk.devices.get(kind) if self._kiosk is not None else None
        if device is None:
            raise SimulationError(f"no {kind} device is configured on this terminal")
        thread = threading.Thread(target=action, args=(device,), name=f"simulated-{kind}")
        thread.start()
        thread.join(timeout=5)
