"""A camera read with OpenCV ``VideoCapture`` that reports QR codes (backend type ``opencv``).

Config::

    [devices.camera]
    type = "opencv"
    url = "v4l2://0"        # device index; or /dev/video0, a video file, rtsp:// or http:// URL
    options = {detector = "auto", decode_width = 640, hold_s = 2.0}

Sources (:func:`parse_source`): ``""`` or ``v4l2://N`` / ``video://N`` / ``cam://N`` (device
index N, ``""`` is 0), a device path ``/dev/videoN``, a file path or ``file:///path`` (a video
file, played at its own frame rate and looped by default), or a network stream URL (``rtsp://``,
``http://``, ``https://``).

The capture is open only while a flow holds the camera (:meth:`Camera.acquire` /
:meth:`Camera.release`). While open, two threads run: the **capture thread** reads frames and
keeps only the newest (so decoding never works on stale frames and the driver's queue never
fills), and the **decode thread** converts the newest frame to grey, shrinks it to
``decode_width`` and runs the chosen detector (:mod:`drivers.camera.detect`). A code that stays
in view is reported once; it is reported again only after it was out of view for ``hold_s``.
Opening never happens on the caller's thread: ``acquire`` returns at once. When the source
cannot be opened or stops delivering frames, the camera is UNAVAILABLE and the capture thread
retries with back-off for as long as someone holds the camera.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
import time
from collections.abc import Mapping
from typing import Any, ClassVar

import cv2
import numpy as np

from drivers.base import DeviceError, DeviceHealth, DeviceState
from drivers.camera.detect import DETECTORS, DetectorError, FrameDecoder, make_detector
from drivers.camera.interface import Camera
from drivers.options import opt, schema_from_defaults
from drivers.scanner.interface import CodeScanned, mask_payload
from drivers.scanner.serial_driver import validated_options

log = logging.getLogger(__name__)

DEFAULT_OPTIONS: dict[str, Any] = {
    "detector": "auto",  # auto (zxing-cpp), zxing, zbar, aruco, opencv
    "decode_width": 640,  # frames wider than this are shrunk before detection (0: never)
    "decode_hz": 0.0,  # at most this many decodes per second (0: every new frame)
    "hold_s": 2.0,  # a code in view is reported again only after being gone this long
    "max_length": 4096,  # longer payloads are ignored
    "width": 0,  # requested capture size (0: the driver's default)
    "height": 0,
    "fps": 0.0,  # requested capture rate (0: the driver's default)
    "fourcc": "",  # e.g. "MJPG": many USB cameras give 30 fps at 640x480 only in MJPG
    "backend": "any",  # any, v4l2, ffmpeg
    "loop": True,  # files: start again at the end
    "realtime": True,  # files: deliver frames at the file's frame rate
    "read_failures": 15,  # consecutive failed reads before the source counts as lost
    "cv_threads": 1,  # cv2.setNumThreads for the process (0: leave OpenCV's choice)
    "backoff_initial_s": 0.5,
    "backoff_max_s": 10.0,
}

_BACKENDS = {"any": cv2.CAP_ANY, "v4l2": cv2.CAP_V4L2, "ffmpeg": cv2.CAP_FFMPEG}
_INDEX_RE = re.compile(r"^(?:v4l2|video|cam)://(\d{1,3})$")
_STREAM_SCHEMES = ("rtsp://", "rtsps://", "http://", "https://", "udp://", "tcp://")


def parse_source(url: str) -> int | str:
    """The ``VideoCapture`` argument for a configured ``url`` (see the module docstring)."""
    url = url.strip()
    if url == "":
        return 0
    if url.isdigit():
        return int(url)
    match = _INDEX_RE.match(url)
    if match:
        return int(match.group(1))
    if url.startswith("file://"):
        return url[len("file://"):]
    if url.startswith("/") or url.startswith(_STREAM_SCHEMES):
        return url
    raise DeviceError(f"camera/opencv cannot use the source {url!r}: give v4l2://N (device "
                      "index), /dev/videoN, a video file path, file:///path or an rtsp:// or "
                      "http:// stream URL")


def source_kind(source: int | str) -> str:
    """``"device"``, ``"file"`` or ``"stream"``."""
    if isinstance(source, int) or source.startswith("/dev/"):
        return "device"
    if source.startswith(_STREAM_SCHEMES):
        return "stream"
    return "file"


def presence_problem(source: int | str) -> str:
    """A reason why the source is certainly missing, or "" (streams cannot be checked)."""
    if isinstance(source, int):
        path = f"/dev/video{source}"
        if os.path.isdir("/dev") and not os.path.exists(path):
            return f"no camera at {path}: is it plugged in?"
        return ""
    if source.startswith(_STREAM_SCHEMES):
        return ""
    if not os.path.exists(source):
        return f"no camera or video file at {source}"
    return ""


def open_capture(source: int | str, settings: Mapping[str, Any]) -> cv2.VideoCapture:
    """Open and configure a ``VideoCapture``; check ``isOpened()`` on the result."""
    capture = cv2.VideoCapture(source, _BACKENDS[settings["backend"]])
    if capture.isOpened() and source_kind(source) == "device":
        if settings["fourcc"]:
            capture.set(cv2.CAP_PROP_FOURCC, cv2.VideoWriter_fourcc(*settings["fourcc"][:4]))
        if settings["width"] and settings["height"]:
            capture.set(cv2.CAP_PROP_FRAME_WIDTH, int(settings["width"]))
            capture.set(cv2.CAP_PROP_FRAME_HEIGHT, int(settings["height"]))
        if settings["fps"]:
            capture.set(cv2.CAP_PROP_FPS, float(settings["fps"]))
        capture.set(cv2.CAP_PROP_BUFFERSIZE, 1)
    return capture


def _validated(options: Mapping[str, Any]) -> dict[str, Any]:
    settings = validated_options(options, DEFAULT_OPTIONS, "camera/opencv")
    if settings["detector"] not in DETECTORS:
        raise DeviceError(f"camera/opencv: detector must be one of {', '.join(DETECTORS)}, "
                          f"not {settings['detector']!r}")
    if settings["backend"] not in _BACKENDS:
        raise DeviceError(f"camera/opencv: backend must be one of {', '.join(_BACKENDS)}")
    if settings["fourcc"] and len(settings["fourcc"]) != 4:
        raise DeviceError("camera/opencv: fourcc must be four characters such as \"MJPG\"")
    for key in ("decode_width", "max_length", "width", "height", "read_failures"):
        if settings[key] < 0:
            raise DeviceError(f"camera/opencv: {key} must not be negative")
    if settings["max_length"] < 1 or settings["read_failures"] < 1:
        raise DeviceError("camera/opencv: max_length and read_failures must be at least 1")
    return settings


class _Slot:
    """The newest frame, handed from the capture thread to the decode thread."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.frame: np.ndarray | None = None
        self.seq = 0


class _Session:
    """One open-to-close cycle of the capture: a capture thread and a decode thread."""

    def __init__(self, camera: OpenCvCamera, previous: _Session | None) -> None:
        self.camera = camera
        self.previous = previous
        self.stop = threading.Event()
        self.slot = _Slot()
        self.capture_thread = threading.Thread(target=self._capture_loop, daemon=True,
                                               name="camera-capture")
        self.decode_thread = threading.Thread(target=self._decode_loop, daemon=True,
                                              name="camera-decode")
        self.frames_this_open = 0
        self.seen: dict[bytes, float] = {}  # digest of a payload -> last time it was in view
        self.fps_window: list[float] = []

    def start(self) -> None:
        self.capture_thread.start()
        self.decode_thread.start()

    def request_stop(self) -> None:
        self.stop.set()
        with self.slot.cond:
            self.slot.cond.notify_all()

    def join(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        for thread in (self.capture_thread, self.decode_thread):
            thread.join(max(0.0, deadline - time.monotonic()))
        return not self.alive

    @property
    def alive(self) -> bool:
        return self.capture_thread.is_alive() or self.decode_thread.is_alive()

    # -- capture -------------------------------------------------------------------------------
    def _capture_loop(self) -> None:
        camera = self.camera
        settings = camera.settings
        if self.previous is not None:  # the device must be free before it is opened again
            self.previous.join(timeout=10)
            self.previous = None
        backoff = float(settings["backoff_initial_s"])
        while not self.stop.is_set():
            capture = None
            try:
                capture = open_capture(camera.source, settings)
                if not capture.isOpened():
                    problem = presence_problem(camera.source)
                    raise OSError(problem or f"OpenCV cannot open the camera source "
                                  f"{camera.describe()}")
                camera._capture_opened()
                backoff = float(settings["backoff_initial_s"])
                if self._read_frames(capture):
                    return
                continue  # a looping file ended: open it again at once
            except (OSError, cv2.error) as exc:
                camera._capture_failed(str(exc))
            except Exception:  # a bug must not end the capture silently; no payload here
                log.exception("camera capture failed unexpectedly")
                camera._capture_failed("internal error in the camera driver")
            finally:
                if capture is not None:
                    capture.release()
            if self.stop.wait(backoff):
                return
            backoff = min(backoff * 2, float(settings["backoff_max_s"]))

    def _read_frames(self, capture: cv2.VideoCapture) -> bool:
        """Read until stopped (True), a file ends without looping (True), or the source fails
        (raises OSError) or a file ends with looping (False: reopen at once)."""
        camera = self.camera
        settings = camera.settings
        is_file = camera.kind_of_source == "file"
        period = 0.0
        if is_file and settings["realtime"]:
            fps = capture.get(cv2.CAP_PROP_FPS) or 0.0
            period = 1.0 / fps if 1.0 <= fps <= 240 else 1.0 / 25
        failures = 0
        self.frames_this_open = 0
        next_at = time.monotonic()
        while not self.stop.is_set():
            ok, frame = capture.read()
            if not ok or frame is None:
                if is_file:
                    if settings["loop"] and self.frames_this_open:
                        return False
                    camera._set_detail(end_of_file=True)
                    self.stop.wait()
                    return True
                failures += 1
                if failures >= int(settings["read_failures"]):
                    raise OSError("the camera stopped delivering frames")
                self.stop.wait(0.02)
                continue
            failures = 0
            self.frames_this_open += 1
            camera._frame_read(self)
            with self.slot.cond:
                self.slot.frame = frame
                self.slot.seq += 1
                self.slot.cond.notify()
            if period:
                next_at += period
                delay = next_at - time.monotonic()
                if delay > 0:
                    self.stop.wait(delay)
                else:
                    next_at = time.monotonic()
        return True

    # -- decode --------------------------------------------------------------------------------
    def _decode_loop(self) -> None:
        camera = self.camera
        decoder = camera._decoder
        min_gap = 1.0 / camera.settings["decode_hz"] if camera.settings["decode_hz"] > 0 else 0
        last_seq = 0
        last_decode = 0.0
        while not self.stop.is_set():
            with self.slot.cond:
                if self.slot.seq == last_seq:
                    self.slot.cond.wait(0.2)
                if self.stop.is_set() or self.slot.seq == last_seq:
                    continue
                frame, last_seq = self.slot.frame, self.slot.seq
            if min_gap:
                wait = last_decode + min_gap - time.monotonic()
                if wait > 0 and self.stop.wait(wait):
                    return
            last_decode = time.monotonic()
            if frame is None:
                continue
            try:
                texts = decoder.decode(frame)
            except Exception as exc:  # pragma: no cover - a corrupt frame or a detector bug
                log.debug("QR detection failed on one frame: %s", type(exc).__name__)
                continue
            if self.stop.is_set():  # released while decoding: nobody wants codes any more
                return
            camera._decoded(self, texts, decoder.last_ms)


class OpenCvCamera(Camera):
    """Camera backend on OpenCV ``VideoCapture``."""

    type_name: ClassVar[str] = "opencv"
    OPTIONS: ClassVar[Mapping[str, Any]] = schema_from_defaults(
        DEFAULT_OPTIONS, detector=opt("auto", choices=tuple(DETECTORS)),
        backend=opt("any", choices=tuple(_BACKENDS)))

    @classmethod
    def validate_options(cls, options: Mapping[str, Any]) -> dict[str, Any]:
        return _validated(options)

    def __init__(self, url: str = "", options: Mapping[str, Any] | None = None) -> None:
        super().__init__(url, options)
        self.settings = _validated(self.options)
        self.source = parse_source(url)
        self.kind_of_source = source_kind(self.source)
        try:
            self._decoder = FrameDecoder(make_detector(self.settings["detector"]),
                                         int(self.settings["decode_width"]))
        except DetectorError as exc:
            raise DeviceError(f"camera/opencv: {exc}") from exc
        self._session: _Session | None = None
        self._old_sessions: list[_Session] = []
        self._counters = {"frames": 0, "decodes": 0, "codes": 0, "opens": 0, "ignored_long": 0}
        self._set_detail(source=self.describe(), detector=self._decoder.detector.name,
                         capturing=False, fps=0.0, decode_ms=0.0, **self._counters)

    def describe(self) -> str:
        """The source for messages (a stream URL without its credentials)."""
        if isinstance(self.source, int):
            return f"device {self.source}"
        return re.sub(r"//[^/@]*@", "//***@", self.source)

    # -- lifecycle -----------------------------------------------------------------------------
    def _on_start(self) -> None:
        if self.settings["cv_threads"]:
            cv2.setNumThreads(int(self.settings["cv_threads"]))
        self._check_presence()

    def _on_stop(self) -> None:
        self._release_all()
        sessions = [s for s in [self._session, *self._old_sessions] if s is not None]
        self._session = None
        self._old_sessions.clear()
        for session in sessions:
            session.request_stop()
        for session in sessions:
            if not session.join(timeout=10):  # pragma: no cover - a stuck OS call
                log.error("camera threads did not stop within their time-out")

    def health(self) -> DeviceHealth:
        """While nobody holds the camera, a cheap presence check keeps the state honest."""
        if self.state in (DeviceState.READY, DeviceState.UNAVAILABLE) and not self.acquired:
            self._check_presence()
        return super().health()

    def _check_presence(self) -> None:
        problem = presence_problem(self.source)
        if problem:
            self._set_state(DeviceState.UNAVAILABLE, problem)
        else:
            self._set_state(DeviceState.READY)

    # -- capture hooks (called with the users lock held: must not block) ----------------------
    def _open_capture(self) -> None:
        if self.state is DeviceState.STOPPED:
            raise DeviceError("start the camera before acquiring it")
        previous = self._session
        self._old_sessions = [s for s in self._old_sessions if s.alive]
        session = _Session(self, previous)
        self._session = session
        self._set_detail(capturing=True, end_of_file=False)
        session.start()

    def _close_capture(self) -> None:
        session = self._session
        if session is not None:
            session.request_stop()
            self._old_sessions.append(session)
        self._set_detail(capturing=False, fps=0.0)

    @property
    def capturing(self) -> bool:
        """True while a capture thread is alive (it ends shortly after the last release)."""
        sessions = [s for s in [self._session, *self._old_sessions] if s is not None]
        return any(s.alive for s in sessions)

    def wait_closed(self, timeout: float = 5.0) -> bool:
        """Wait until every capture thread has ended and the source is closed (tests, tools)."""
        deadline = time.monotonic() + timeout
        with self._users_lock:
            sessions = [] if self.acquired else \
                [s for s in [self._session, *self._old_sessions] if s is not None]
        for session in sessions:
            if not session.join(max(0.0, deadline - time.monotonic())):
                return False
        return not self.acquired

    @property
    def frames_read(self) -> int:
        """Frames read since the driver was made (a new value means a new frame)."""
        return self._counters["frames"]

    def latest_frame(self) -> np.ndarray | None:
        """A copy of the newest frame (for an aiming preview on screen), or None."""
        session = self._session
        if session is None or not self.acquired:
            return None
        with session.slot.cond:
            frame = session.slot.frame
            return None if frame is None else frame.copy()

    # -- called from the session threads -------------------------------------------------------
    def _capture_opened(self) -> None:
        self._counters["opens"] += 1
        self._set_detail(opens=self._counters["opens"])
        log.info("camera opened %s", self.describe())
        self._set_state(DeviceState.READY)

    def _capture_failed(self, reason: str) -> None:
        log.warning("camera: %s", reason)
        self._set_state(DeviceState.UNAVAILABLE, reason)

    def _frame_read(self, session: _Session) -> None:
        now = time.monotonic()
        self._counters["frames"] += 1
        window = session.fps_window
        window.append(now)
        while window and now - window[0] > 2.0:
            window.pop(0)
        if self._counters["frames"] % 10 == 0:
            span = window[-1] - window[0] if len(window) > 1 else 0.0
            fps = (len(window) - 1) / span if span > 0 else 0.0
            self._set_detail(frames=self._counters["frames"], fps=round(fps, 1))

    def _decoded(self, session: _Session, texts: list[str], decode_ms: float) -> None:
        now = time.monotonic()
        self._counters["decodes"] += 1
        hold = float(self.settings["hold_s"])
        for text in texts:
            if len(text) > int(self.settings["max_length"]):
                self._counters["ignored_long"] += 1
                continue
            key = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()
            last = session.seen.get(key)
            session.seen[key] = now
            if last is not None and now - last < hold:
                continue
            self._counters["codes"] += 1
            log.debug("camera read %s", mask_payload(text))
            self._emit(CodeScanned(self.kind, payload=text, source="camera"))
        for key in [k for k, at in session.seen.items() if now - at >= hold]:
            del session.seen[key]
        self._set_detail(decodes=self._counters["decodes"], codes=self._counters["codes"],
                         ignored_long=self._counters["ignored_long"],
                         decode_ms=round(decode_ms, 1))
