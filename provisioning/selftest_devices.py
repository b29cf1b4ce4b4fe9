"""Self-test checks that use a started device: camera frames and the printer's test page.

Both take the device from a running ``DeviceManager`` (the self-test's own, or the kiosk's on
the maintenance screen), so a device is never opened twice.
"""

from __future__ import annotations

import time
from typing import Any

from provisioning.selftest import FAIL, PASS, SKIP, Check

CAMERA = "camera frames"
PRINTER = "printer test page"
FRAMES = 10
#: a frame whose pixels vary less than this (standard deviation, 0-255) is blank: lens
#: covered, no light, a dead sensor
BLANK_STD = 4.0


def check_camera_frames(manager: Any, count: int = FRAMES, timeout_s: float = 10.0
                        ) -> Check:
    """Grab ``count`` new frames from the configured camera: count, size, not all blank."""
    camera = manager.get("camera")
    if camera is None:
        return Check(CAMERA, SKIP, "no camera configured")
    if not hasattr(camera, "latest_frame"):
        return Check(CAMERA, SKIP, f"the {camera.type_name} camera gives no frames")
    from drivers.base import DeviceError

    try:
        camera.acquire()
    except DeviceError as exc:
        return Check(CAMERA, FAIL, f"cannot open the camera: {exc}")
    frames: list[Any] = []
    try:
        seen = camera.frames_read
        deadline = time.monotonic() + timeout_s
        while len(frames) < count and time.monotonic() < deadline:
            now_read = camera.frames_read
            frame = camera.latest_frame() if now_read != seen else None
            if frame is not None:
                seen = now_read
                frames.append(frame)
            else:
                time.sleep(0.01)
    finally:
        camera.release()
    if not frames:
        reason = camera.health().reason or "no frame arrived"
        return Check(CAMERA, FAIL, f"no frames within {timeout_s:.0f} s: {reason} (is the "
                     "camera plugged in, and devices.camera.url right? kiosk-provision "
                     "discover)")
    sizes = sorted({f"{f.shape[1]}x{f.shape[0]}" for f in frames})
    spreads = [float(f.std()) for f in frames]
    detail = (f"{len(frames)} frames, {', '.join(sizes)}, contrast σ "
              f"{min(spreads):.0f}-{max(spreads):.0f}")
    if max(spreads) < BLANK_STD:
        return Check(CAMERA, FAIL, f"{detail}: every frame is blank (lens covered, no light, "
                     "or the wrong device)")
    if len(frames) < count:
        return Check(CAMERA, FAIL, f"{detail}: only {len(frames)} of {count} within "
                     f"{timeout_s:.0f} s")
    return Check(CAMERA, PASS, f"{detail}, not blank")


def check_printer_page(config: Any, manager: Any) -> Check:
    """The printer's status (paper state), then the technician test page."""
    from drivers.printer.interface import PrinterError, PrintRefused
    from kiosk.core import paper_width_mm
    from kiosk.printing import TestPage, test_page

    printer = manager.get("printer")
    if printer is None:
        return Check(PRINTER, SKIP, "no printer configured")
    try:
        status = (printer.query_status() if getattr(printer, "status_query", False)
                  else printer.status())
    except PrinterError as exc:
        return Check(PRINTER, FAIL, f"status: {exc}")
    paper = getattr(status.paper, "value", status.paper)
    settings = config.devices.printer
    page = TestPage(terminal_id=config.terminal.id,
                    printer=f"{settings.type} {settings.url}".strip(),
                    paper_width_mm=paper_width_mm(config), status=status.reason or "正常")
    try:
        job = printer.print_document(test_page(page))
    except PrintRefused as exc:
        return Check(PRINTER, FAIL, f"not printed: {exc.reason} (paper {paper})")
    except PrinterError as exc:
        return Check(PRINTER, FAIL, f"not printed: {exc} (paper {paper})")
    return Check(PRINTER, PASS, f"job {job} printed, paper {paper}")
