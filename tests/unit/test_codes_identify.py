"""ScanIdentifier: codes from the fake scanner and camera through the real UI-thread handoff,
the gate and the embedded platform into an identity or a refusal."""

from __future__ import annotations

import time

import pytest

from drivers.camera.fake import FakeCamera
from drivers.scanner.fake import FakeScanner
from kiosk.codes.embedded import EmbeddedCodePlatform
from kiosk.codes.gate import ScanGate
from kiosk.codes.identify import ScanIdentifier
from kiosk.codes.platform import Person
from kiosk.codes.refusals import RefusalReason
from kiosk.mainthread import MainThreadHandoff

LI = Person("370102199003070032", "李明")


class SlowPlatform(EmbeddedCodePlatform):
    def verify(self, payload, expect=None):
        time.sleep(0.3)
        return super().verify(payload, expect)


@pytest.fixture
def rig():
    handoff = MainThreadHandoff(workers=2)
    scanner, camera = FakeScanner(), FakeCamera()
    platform = EmbeddedCodePlatform()
    identities, refusals = [], []
    identifier = ScanIdentifier(ScanGate(window_s=3.0), platform, handoff.run_in_worker,
                                on_identity=identities.append, on_refusal=refusals.append,
                                camera=camera)
    for device in (scanner, camera):
        device.subscribe(lambda event: handoff.post(identifier.on_device_event, event))
        device.start()

    def pump(until, timeout: float = 3.0) -> None:
        deadline = time.monotonic() + timeout
        while not until() and time.monotonic() < deadline:
            handoff.drain()
            time.sleep(0.01)
        handoff.drain()

    yield identifier, scanner, camera, platform, identities, refusals, pump
    for device in (scanner, camera):
        device.stop()
    handoff.close()


def test_camera_held_only_while_armed(rig) -> None:
    identifier, _, camera, *_ = rig
    assert not camera.capture_open
    identifier.arm()
    identifier.arm()
    assert camera.capture_open and camera.users == 1
    identifier.disarm()
    assert not camera.capture_open and camera.users == 0


def test_scanned_resident_code_identifies(rig) -> None:
    identifier, scanner, _, platform, identities, refusals, pump = rig
    identifier.arm()
    assert scanner.scan(platform.issue_resident_code(LI).text)
    pump(lambda: identities)
    (identity,) = identities
    assert identity.source == "code" and identity.masked_name == "李*" and not refusals


def test_camera_code_identifies_and_duplicates_count_once(rig) -> None:
    identifier, scanner, camera, platform, identities, _, pump = rig
    identifier.arm()
    code = platform.issue_resident_code(LI).text
    assert camera.show(code)
    scanner.scan(code)  # the same code on the other device, within the window
    pump(lambda: identities)
    pump(lambda: False, timeout=0.2)
    assert len(identities) == 1


def test_refusal_and_too_long(rig) -> None:
    identifier, scanner, _, _, identities, refusals, pump = rig
    identifier.arm()
    foreign = EmbeddedCodePlatform().issue_resident_code(LI).text
    scanner.scan(foreign)
    pump(lambda: refusals)
    assert refusals[0].reason is RefusalReason.FOREIGN and "居民码" in refusals[0].message_zh
    scanner.scan("X" * 5000)
    pump(lambda: len(refusals) > 1)
    assert refusals[1].reason is RefusalReason.INVALID and not identities


def test_scans_ignored_when_disarmed_and_late_results_dropped(rig) -> None:
    identifier, scanner, camera, _, identities, refusals, pump = rig
    slow = SlowPlatform()
    identifier.platform = slow
    scanner.scan(slow.issue_resident_code(LI).text)
    pump(lambda: False, timeout=0.1)
    assert not identifier.pending
    identifier.arm()
    scanner.scan(slow.issue_resident_code(LI).text)
    pump(lambda: identifier.pending, timeout=0.5)
    assert identifier.pending
    identifier.disarm()  # the resident left the step while the code was being verified
    pump(lambda: False, timeout=0.6)
    assert identities == [] and refusals == []
    assert not camera.capture_open
