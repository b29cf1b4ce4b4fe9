"""The kiosk core on the real drivers with every device kind that has a wire emulator: the SAM
reader on a pty, the social security card through pcscd + vpcd, the printer over TCP."""

from __future__ import annotations

import time

from conftest_pcsc import pcsc  # noqa: F401 (fixture: pcscd with the virtual reader)

from config.loader import load_config
from drivers.idcard.samples import RESIDENT
from drivers.privacy import mask_id_number
from kiosk.core import build_kiosk


def drain_until(kiosk, predicate, timeout_s: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        kiosk.handoff.drain()
        kiosk.tick()
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def test_every_emulated_device_identifies_or_prints_through_its_real_driver(pcsc,  # noqa: F811
                                                                            tmp_path) -> None:
    config = load_config("demo", env={"KIOSK_STORAGE__DATA_DIR": str(tmp_path)})
    kiosk = build_kiosk(config, emulate=frozenset({"idcard", "smartcard", "printer"}))
    health = kiosk.devices.health()
    assert (health["idcard"].type, health["smartcard"].type, health["printer"].type) == (
        "sam", "pcsc", "escpos")
    kiosk.start()
    try:
        assert drain_until(kiosk, lambda: all(kiosk.devices.health()[k].available
                                              for k in ("idcard", "smartcard", "printer")))
        machine, sim = kiosk.machine, kiosk.simulation
        machine.start()
        machine.open_flow("progress")
        kiosk.identify.arm()
        sim.insert_ss_card()
        assert drain_until(kiosk, lambda: machine.identity is not None)
        assert machine.identity.source == "sscard"
        sim.remove_ss_card()
        assert drain_until(kiosk, lambda: machine.identity is None)  # taken out before 继续
        sim.place_id_card(RESIDENT)
        assert drain_until(kiosk, lambda: machine.identity is not None)
        assert machine.identity.masked_id == mask_id_number(RESIDENT.id_number)
        sim.lift_id_card()

        from kiosk.printing import TestPage, test_page

        outcome = kiosk.printing.print_now(test_page(TestPage("DEMO-0001", "escpos")))
        assert outcome.ok, outcome.reason
        jobs = sim.printer_emulator.wait_for_jobs(1, timeout=10)
        assert b"DEMO-0001" in jobs[-1].data
    finally:
        kiosk.stop()
