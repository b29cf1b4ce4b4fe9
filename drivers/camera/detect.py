"""QR detectors that run on (downscaled) grey frames, chosen by name.

=============  ==================================================================  ==========
name           what                                                                needs
=============  ==================================================================  ==========
``zxing``      zxing-cpp (``zxingcpp.read_barcodes``, QR symbols only): reads       zxing-cpp
               every image kind of the emulator, about 1 ms per 640×480 frame
``zbar``       ZBar through pyzbar, QR symbols only (fast, tolerant of blur)       pyzbar +
                                                                                   libzbar0
``opencv``     ``cv2.QRCodeDetector`` (classic finder-pattern detector)            OpenCV
``aruco``      ``cv2.QRCodeDetectorAruco`` (OpenCV >= 4.8, robust to rotation)     OpenCV
``auto``       ``zxing``; where the zxing-cpp wheel is missing (a platform without   any
               one), a warning at start-up and the fallback chain: ``zbar``, then
               ``aruco`` on frames where zbar finds nothing (about ten times the
               work per frame)
=============  ==================================================================  ==========

A detector returns the decoded texts of every QR code it found (usually one). Payload bytes
are read as UTF-8, falling back to GB18030 (Chinese generators that skip the ECI marker);
ZBar's Shift-JIS guess for byte-mode data is undone, and so is zxing-cpp's guess of a legacy
character set for GB18030 bytes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import cv2
import numpy as np

DETECTORS = ("auto", "zxing", "zbar", "opencv", "aruco")
FALLBACK_CHAIN = ("zbar", "aruco")  # what ``auto`` uses where zxing-cpp is missing

log = logging.getLogger(__name__)


class DetectorError(RuntimeError):
    """The detector asked for is not available here (the message says what to install)."""


class Detector(Protocol):
    name: str

    def detect(self, gray: np.ndarray) -> list[str]: ...


def _text(raw: bytes) -> str:
    for encoding in ("utf-8", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1")


def _from_opencv(text: str) -> str:
    """OpenCV hands byte-mode payloads back as Latin-1 text when they are not UTF-8."""
    try:
        return _text(text.encode("latin-1"))
    except UnicodeEncodeError:
        return text


def _from_zbar(raw: bytes) -> str:
    """ZBar reads byte-mode data without an ECI marker as Shift-JIS and hands it back as UTF-8;
    undo that when the original bytes were UTF-8 (what phones and segno produce)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return _text(raw)
    if text.isascii():
        return text
    for codec in ("shift_jis", "cp932"):
        try:
            return text.encode(codec).decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            continue
    return text


class ZxingDetector:
    """zxing-cpp with its own defaults (it also tries inverted and downscaled images), QR only."""

    name = "zxing"

    def __init__(self) -> None:
        try:
            import zxingcpp
        except ImportError as exc:
            raise DetectorError(
                "the zxing detector needs zxing-cpp: pip install zxing-cpp (it is in the "
                "camera extra: pip install 'aishandong-kiosk[camera]'), or choose "
                "detector = \"zbar\" or \"aruco\"") from exc
        self._read = zxingcpp.read_barcodes
        self._formats = zxingcpp.BarcodeFormat.QRCode

    def detect(self, gray: np.ndarray) -> list[str]:
        return [_from_zxing(code.bytes, code.text)
                for code in self._read(gray, formats=self._formats)]


def _from_zxing(raw: bytes, guessed: str) -> str:
    """zxing-cpp guesses a legacy character set (Shift-JIS, ISO 8859-1) for byte-mode data
    without an ECI marker; UTF-8 and GB18030 bytes are read as such first, its guess after."""
    for encoding in ("utf-8", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return guessed


class ZbarDetector:
    name = "zbar"

    def __init__(self) -> None:
        try:
            from pyzbar import pyzbar
        except (ImportError, OSError) as exc:  # OSError: libzbar0 missing
            raise DetectorError(
                "the zbar detector needs pyzbar and the zbar library: pip install pyzbar and "
                "apt-get install libzbar0 (or choose detector = \"aruco\")") from exc
        self._decode = pyzbar.decode
        self._symbols = [pyzbar.ZBarSymbol.QRCODE]

    def detect(self, gray: np.ndarray) -> list[str]:
        return [_from_zbar(symbol.data)
                for symbol in self._decode(gray, symbols=self._symbols)]


class OpenCvDetector:
    name = "opencv"

    def __init__(self) -> None:
        self._detector: Any = cv2.QRCodeDetector()

    def detect(self, gray: np.ndarray) -> list[str]:
        try:
            ok, texts, _points, _ = self._detector.detectAndDecodeMulti(gray)
        except cv2.error:
            return []
        if not ok:
            return []
        return [_from_opencv(t) for t in texts if t]


class ArucoDetector(OpenCvDetector):
    name = "aruco"

    def __init__(self) -> None:
        factory = getattr(cv2, "QRCodeDetectorAruco", None)
        if factory is None:
            raise DetectorError("the aruco detector needs OpenCV 4.8 or newer "
                                "(or choose detector = \"opencv\")")
        self._detector = factory()


class ChainDetector:
    """Try detectors in order; the first that finds a code wins."""

    def __init__(self, detectors: list[Detector]) -> None:
        self.detectors = detectors
        self.name = "+".join(d.name for d in detectors)

    def detect(self, gray: np.ndarray) -> list[str]:
        for detector in self.detectors:
            texts = detector.detect(gray)
            if texts:
                return texts
        return []


_FACTORIES: dict[str, Callable[[], Detector]] = {
    "zxing": ZxingDetector,
    "zbar": ZbarDetector,
    "opencv": OpenCvDetector,
    "aruco": ArucoDetector,
}


def make_detector(name: str) -> Detector:
    """Build the named detector; ``auto`` is zxing-cpp, or the fallback chain without it."""
    if name == "auto":
        try:
            return ZxingDetector()
        except DetectorError as exc:
            fallback = fallback_detector()
            log.warning("QR detection falls back to %s, about ten times the work per frame: "
                        "%s", fallback.name, exc)
            return fallback
    if name not in _FACTORIES:
        raise DetectorError(f"unknown QR detector {name!r}; choose one of {', '.join(DETECTORS)}")
    return _FACTORIES[name]()


def fallback_detector() -> Detector:
    """zbar, then aruco on frames where zbar finds nothing; whichever of them is available."""
    chain: list[Detector] = []
    for candidate in FALLBACK_CHAIN:
        try:
            chain.append(_FACTORIES[candidate]())
        except DetectorError:
            continue
    if not chain:
        return OpenCvDetector()
    return chain[0] if len(chain) == 1 else ChainDetector(chain)


def to_gray(frame: np.ndarray) -> np.ndarray:
    if frame.ndim == 2:
        return frame
    if frame.shape[2] == 4:
        return cv2.cvtColor(frame, cv2.COLOR_BGRA2GRAY)
    return cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)


def downscale(gray: np.ndarray, width: int) -> np.ndarray:
    """Shrink to ``width`` pixels wide (area averaging); never enlarges; 0 keeps the size."""
    if width <= 0 or gray.shape[1] <= width:
        return gray
    height = max(1, round(gray.shape[0] * width / gray.shape[1]))
    return cv2.resize(gray, (width, height), interpolation=cv2.INTER_AREA)


@dataclass
class FrameDecoder:
    """Grey conversion + downscaling + detection, with timing (one thread uses it)."""

    detector: Detector
    decode_width: int = 480
    last_ms: float = 0.0
    timings_ms: list[float] = field(default_factory=list, repr=False)
    keep_timings: int = 0  # keep this many recent timings (benchmarks); 0 keeps none

    def decode(self, frame: np.ndarray) -> list[str]:
        started = time.perf_counter()
        texts = self.detector.detect(downscale(to_gray(frame), self.decode_width))
        self.last_ms = (time.perf_counter() - started) * 1000
        if self.keep_timings:
            self.timings_ms.append(self.last_ms)
            if len(self.timings_ms) > self.keep_timings:
                del self.timings_ms[:-self.keep_timings]
        return texts
