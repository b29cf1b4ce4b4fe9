"""The camera's reference-counted capture and the fake camera."""

from __future__ import annotations

import threading

import pytest

from drivers import registry
from drivers.base import DeviceError, DeviceState
from drivers.camera import Camera
from drivers.camera.fake import FakeCamera
from drivers.scanner import CodeScanned


@pytest.fixture
def camera():
    dev = FakeCamera()
    events: list = []
    dev.subscribe(events.append)
    dev.events = events
    yield dev
    dev.stop()


def test_start_ready(camera) -> None:
    assert isinstance(camera, Camera)
    camera.start()
    assert camera.state is DeviceState.READY
    assert not camera.capture_open  # started does not mean capturing


def test_show_ignored_unless_acquired(camera) -> None:
    camera.start()
    camera.events.clear()
    assert not camera.show("code-1")
    camera.acquire()
    assert camera.show("code-2")
    camera.release()
    assert not camera.show("code-3")
    assert [e.payload for e in camera.events] == ["code-2"]
    event = camera.events[0]
    assert isinstance(event, CodeScanned)
    assert (event.kind, event.source) == ("camera", "camera")


def test_reference_counting(camera) -> None:
    camera.start()
    camera.acquire()
    camera.acquire()
    assert camera.users == 2 and camera.capture_open and camera.opens == 1
    camera.release()
    assert camera.capture_open and camera.acquired
    camera.release()
    assert not camera.capture_open and not camera.acquired
    with pytest.raises(DeviceError):
        camera.release()
    camera.acquire()
    assert camera.opens == 2


def test_stop_releases_capture(camera) -> None:
    camera.start()
    camera.acquire()
    camera.stop()
    assert not camera.capture_open and camera.users == 0
    assert camera.state is DeviceState.STOPPED


def test_unavailable_drops_codes(camera) -> None:
    camera.start()
    camera.acquire()
    camera.set_available(False, "usb reset")
    assert camera.state is DeviceState.UNAVAILABLE
    assert not camera.show("x")
    camera.set_available(True)
    assert camera.show("x")


def test_concurrent_acquire_release_balanced(camera) -> None:
    camera.start()

    def worker() -> None:
        for _ in range(200):
            camera.acquire()
            camera.release()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
        assert not t.is_alive()
    assert camera.users == 0 and not camera.capture_open


def test_registry_loads_fake() -> None:
    assert isinstance(registry.open_device("camera", "fake"), FakeCamera)
