"""The OpenCV camera backend reading generated video files (Motion-JPEG AVI) like a camera."""

from __future__ import annotations

import logging
import sys
import time

import numpy as np
import pytest

from drivers import registry
from drivers.base import DeviceError, DeviceState
from drivers.camera.emulator import IMAGE_KINDS, make_frame, write_video
from drivers.camera.opencv_driver import OpenCvCamera, parse_source, source_kind
from drivers.scanner.emulator import EventCollector

FPS = 30.0


def payload_for(kind: str) -> str:
    return f"RC1:{kind.upper()}" + "A2B3C4D5E6F7" * 5


@pytest.fixture(scope="module")
def kinds_video(tmp_path_factory) -> str:
    """Each image kind for 10 frames, with 5 empty frames between them."""
    path = str(tmp_path_factory.mktemp("video") / "kinds.avi")
    frames: list[np.ndarray] = []
    for index, kind in enumerate(IMAGE_KINDS):
        frames += [make_frame(None, seed=100 + index)] * 5
        frames += [make_frame(payload_for(kind), kind, seed=index + 1)] * 10
    frames += [make_frame(None, seed=99)] * 5
    assert write_video(path, frames, FPS) == len(frames)
    return path


@pytest.fixture(scope="module")
def blink_video(tmp_path_factory) -> str:
    """One code shown for 0.5 s, hidden for 0.5 s, shown again for 0.5 s (at 30 fps)."""
    path = str(tmp_path_factory.mktemp("video") / "blink.avi")
    code = make_frame("A005", "plain", seed=7)
    empty = make_frame(None, seed=7)
    write_video(path, [code] * 15 + [empty] * 15 + [code] * 15, FPS)
    return path


@pytest.fixture
def camera_factory():
    made: list[OpenCvCamera] = []

    def make(url: str, **options) -> tuple[OpenCvCamera, EventCollector]:
        options.setdefault("backoff_initial_s", 0.05)
        camera = OpenCvCamera(url, options)
        got = EventCollector()
        camera.subscribe(got)
        camera.start()
        made.append(camera)
        return camera, got

    yield make
    for camera in made:
        camera.stop()
        assert not camera.capturing


def collect(got: EventCollector, count: int, timeout: float = 10.0) -> list[str]:
    payloads: list[str] = []
    deadline = time.monotonic() + timeout
    while len(payloads) < count and time.monotonic() < deadline:
        try:
            payloads.append(got.code(timeout=max(0.01, deadline - time.monotonic())).payload)
        except Exception:
            break
    return payloads


def test_video_file_every_image_kind_is_reported_once(kinds_video, camera_factory,
                                                      capsys) -> None:
    # played at its own 30 fps, like a camera: the decoder keeps up and sees every frame
    camera, got = camera_factory(kinds_video, loop=False, realtime=True, hold_s=30.0)
    assert camera.state is DeviceState.READY and not camera.capturing
    assert camera.health().detail["detector"] == "zxing"  # the default: zxing-cpp
    camera.acquire()
    payloads = collect(got, len(IMAGE_KINDS))
    assert got.no_code(0.5)
    seen = {kind: payload_for(kind) in payloads for kind in IMAGE_KINDS}
    detail = camera.health().detail
    with capsys.disabled():
        print(f"\n[camera video] kinds read: {sum(seen.values())}/{len(seen)} "
              f"{seen}; frames {detail['frames']}, decodes {detail['decodes']}, "
              f"last decode {detail['decode_ms']} ms")
    assert all(seen.values()), f"kinds not read from the video: {seen}"
    assert sorted(payloads) == sorted(set(payloads)), "a code in view was reported twice"
    assert detail["end_of_file"] is True and detail["frames"] == 5 * 8 + 10 * 7
    camera.release()
    assert camera.wait_closed(5) and not camera.capturing


def test_events_are_camera_code_scanned(blink_video, camera_factory) -> None:
    camera, got = camera_factory(blink_video, loop=False, realtime=False)
    camera.acquire()
    event = got.code(5)
    assert (event.kind, event.source, event.payload) == ("camera", "camera", "A005")
    camera.release()


def test_without_zxing_cpp_the_camera_starts_on_the_fallback_and_says_so(
        blink_video, camera_factory, monkeypatch, caplog) -> None:
    monkeypatch.setitem(sys.modules, "zxingcpp", None)  # a platform without the wheel
    with caplog.at_level(logging.WARNING, logger="drivers.camera.detect"):
        camera, got = camera_factory(blink_video, loop=False, realtime=False)
    assert "pip install zxing-cpp" in caplog.text and "zbar+aruco" in caplog.text
    assert camera.health().detail["detector"] == "zbar+aruco"
    camera.acquire()
    assert got.code(5).payload == "A005"  # slower, still reading
    camera.release()


def test_code_shown_again_after_hold_is_reported_again(blink_video, camera_factory) -> None:
    camera, got = camera_factory(blink_video, loop=False, realtime=True, hold_s=0.3)
    camera.acquire()
    assert collect(got, 2, timeout=5) == ["A005", "A005"]
    assert got.no_code(0.3)
    assert camera.health().detail["fps"] > 15  # played at the file's 30 fps
    camera.release()


def test_released_camera_closes_and_reopens(blink_video, camera_factory) -> None:
    camera, got = camera_factory(blink_video, loop=True, realtime=True, hold_s=0.3)
    camera.acquire()
    camera.acquire()
    assert got.code(5).payload == "A005"
    camera.release()
    assert camera.acquired and camera.capturing  # one flow still needs it
    camera.release()
    assert camera.wait_closed(5)
    assert not camera.capturing and camera.health().detail["capturing"] is False
    assert camera.latest_frame() is None
    while not got.codes.empty():  # codes decoded before the release may be queued
        got.codes.get_nowait()
    assert got.no_code(0.5), "a released camera still reported codes"
    camera.acquire()
    assert got.code(5).payload == "A005"
    frame = camera.latest_frame()
    assert frame is not None and frame.shape == (480, 640, 3)
    assert camera.health().detail["opens"] == 2
    camera.release()


def test_loop_replays_a_file(blink_video, camera_factory) -> None:
    camera, got = camera_factory(blink_video, loop=True, realtime=False, hold_s=0.0)
    camera.acquire()
    deadline = time.monotonic() + 5
    while camera.health().detail["opens"] < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert camera.health().detail["opens"] >= 3  # the file was opened again at its end
    assert "end_of_file" not in camera.health().detail or \
        not camera.health().detail["end_of_file"]
    assert len(collect(got, 3, timeout=5)) == 3
    camera.release()


def test_missing_source_is_unavailable_with_a_reason(tmp_path, camera_factory) -> None:
    path = tmp_path / "gone.avi"
    camera, _ = camera_factory(str(path))
    assert camera.state is DeviceState.UNAVAILABLE
    assert "no camera or video file" in camera.health().reason
    camera.acquire()  # returns at once; the capture thread keeps retrying
    assert camera.capturing
    camera.release()
    assert camera.wait_closed(5)


def test_file_that_appears_later_makes_camera_ready(tmp_path, blink_video, camera_factory) -> None:
    path = tmp_path / "later.avi"
    camera, _ = camera_factory(str(path))
    assert camera.health().state is DeviceState.UNAVAILABLE
    path.write_bytes(open(blink_video, "rb").read())
    assert camera.health().state is DeviceState.READY  # health() re-checks while idle


def test_not_a_video_file(tmp_path, camera_factory) -> None:
    path = tmp_path / "notes.avi"
    path.write_text("not a video", encoding="utf-8")
    camera, got = camera_factory(str(path))
    camera.acquire()
    reason = got.wait_state(DeviceState.UNAVAILABLE, 5).reason
    assert "cannot open" in reason
    camera.release()


def test_acquire_before_start_is_refused() -> None:
    camera = OpenCvCamera("/nonexistent.avi")
    with pytest.raises(DeviceError, match="start the camera"):
        camera.acquire()
    assert camera.users == 0


def test_payloads_never_logged(blink_video, camera_factory, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    camera, got = camera_factory(blink_video, loop=False, realtime=False)
    camera.acquire()
    assert got.code(5).payload == "A005"
    camera.release()
    assert not any("A005" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(("url", "expected", "kind"), [
    ("", 0, "device"), ("v4l2://2", 2, "device"), ("cam://1", 1, "device"), ("3", 3, "device"),
    ("/dev/video0", "/dev/video0", "device"), ("file:///srv/demo.avi", "/srv/demo.avi", "file"),
    ("/srv/demo.mp4", "/srv/demo.mp4", "file"),
    ("rtsp://user:pw@10.0.0.5/stream", "rtsp://user:pw@10.0.0.5/stream", "stream"),
])
def test_parse_source(url: str, expected, kind: str) -> None:
    assert parse_source(url) == expected
    assert source_kind(parse_source(url)) == kind


def test_stream_credentials_are_not_shown() -> None:
    camera = OpenCvCamera("rtsp://admin:secret@10.0.0.5/stream")
    assert "secret" not in camera.describe() and "secret" not in str(camera.health().detail)


@pytest.mark.parametrize(("url", "options", "message"), [
    ("usb://0x0416:0x5011", {}, "cannot use the source"),
    ("", {"detector": "wechat"}, "detector must be one of"),
    ("", {"decode_width": -1}, "must not be negative"),
    ("", {"fourcc": "MJPEG"}, "four characters"),
    ("", {"backend": "gstreamer"}, "backend must be one of"),
    ("", {"resolution": "hd"}, "unknown camera/opencv option"),
])
def test_bad_configuration(url: str, options: dict, message: str) -> None:
    with pytest.raises(DeviceError, match=message):
        OpenCvCamera(url, options)


def test_registry_loads_opencv() -> None:
    assert isinstance(registry.open_device("camera", "opencv", "v4l2://0"), OpenCvCamera)
