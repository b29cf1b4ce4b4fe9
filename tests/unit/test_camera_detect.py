"""QR detection on generated camera frames: every image kind, every detector, decode rate
reported (``-s`` not needed: the table is printed around pytest's capture)."""

from __future__ import annotations

import logging
import sys

import numpy as np
import pytest
import segno
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from drivers.camera import detect
from drivers.camera.emulator import IMAGE_KINDS, background, make_frame, qr_image
from kiosk.codes.embedded import EmbeddedCodePlatform
from kiosk.codes.platform import Person


def fixed_platform() -> EmbeddedCodePlatform:
    """A fixed key and clock: the same token, so the same QR symbol, on every run."""
    key = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    return EmbeddedCodePlatform(key, clock=lambda: 1_750_000_000.0)

PER_KIND = 8
#: detector -> minimum decode rate per kind (kinds not listed are reported, not enforced:
#: zbar does not read codes seen at an angle, the aruco and classic detectors lose blurred ones)
REQUIRED: dict[str, dict[str, float]] = {
    "auto": dict.fromkeys(IMAGE_KINDS, 0.85),
    "zxing": dict.fromkeys(IMAGE_KINDS, 0.85),
    "zbar": dict.fromkeys(("plain", "rotated", "blurred", "small", "covered", "dim"), 0.75),
    "aruco": dict.fromkeys(("plain", "rotated", "small", "covered", "tilted", "dim"), 0.75),
    "opencv": {"plain": 0.75, "covered": 0.75},
}


@pytest.fixture(scope="module")
def payload() -> str:
    return fixed_platform().issue_resident_code(Person("370102199003070032", "李明")).text


@pytest.fixture(scope="module")
def frames(payload: str) -> dict[str, list[np.ndarray]]:
    return {kind: [make_frame(payload, kind, seed=seed) for seed in range(PER_KIND)]
            for kind in IMAGE_KINDS}


@pytest.mark.parametrize("name", list(REQUIRED))
def test_decode_rate_per_image_kind(name: str, payload: str, frames, capsys) -> None:
    decoder = detect.FrameDecoder(detect.make_detector(name), decode_width=640)
    rates: dict[str, float] = {}
    times: list[float] = []
    for kind, images in frames.items():
        hits = 0
        for image in images:
            texts = decoder.decode(image)
            times.append(decoder.last_ms)
            assert all(t == payload for t in texts), "a detector returned a wrong payload"
            hits += payload in texts
        rates[kind] = hits / len(images)
    with capsys.disabled():
        cells = "  ".join(f"{kind} {rate:4.0%}" for kind, rate in rates.items())
        print(f"\n[camera decode rate] {decoder.detector.name:<10} {cells}  "
              f"(mean {sum(times) / len(times):.1f} ms/frame, {len(times)} frames of 640x480)")
    for kind, minimum in REQUIRED[name].items():
        assert rates[kind] >= minimum, f"{name} decoded only {rates[kind]:.0%} of {kind} frames"


def test_no_false_codes_on_frames_without_one() -> None:
    decoder = detect.FrameDecoder(detect.make_detector("auto"))
    for seed in range(10):
        assert decoder.decode(background(seed)) == []


@pytest.mark.parametrize("name", ["zxing", "zbar", "opencv", "aruco"])
def test_chinese_utf8_payload(name: str) -> None:
    frame = make_frame("请A005号到2号窗口", "plain", seed=3)
    assert detect.make_detector(name).detect(detect.to_gray(frame)) == ["请A005号到2号窗口"]


def test_downscale_and_gray() -> None:
    frame = np.zeros((720, 1280, 3), np.uint8)
    gray = detect.to_gray(frame)
    assert gray.shape == (720, 1280)
    assert detect.downscale(gray, 640).shape == (360, 640)
    assert detect.downscale(gray, 0) is gray
    assert detect.downscale(gray, 2000) is gray  # never enlarged
    assert detect.to_gray(np.zeros((4, 4, 4), np.uint8)).shape == (4, 4)


def test_unknown_detector_and_bad_kind() -> None:
    with pytest.raises(detect.DetectorError, match="choose one of"):
        detect.make_detector("wechat")
    with pytest.raises(ValueError, match="unknown image kind"):
        make_frame("x", "smudged")
    with pytest.raises(ValueError, match="does not fit"):
        make_frame("x" * 900, "plain", size=(160, 120))


def test_auto_is_zxing_cpp() -> None:
    auto = detect.make_detector("auto")
    assert auto.name == "zxing"
    frame = detect.to_gray(make_frame("RC1:TILTED", "tilted", seed=1))
    assert auto.detect(frame) == ["RC1:TILTED"]


def _symbol_of_bytes(data: bytes) -> np.ndarray:
    """A grey image of a byte-mode QR symbol holding ``data`` as it is (no ECI marker)."""
    matrix = np.array(segno.make_qr(data, error="m").matrix, dtype=np.uint8)
    image = np.pad(np.where(matrix == 1, 0, 255).astype(np.uint8), 4, constant_values=255)
    return np.kron(image, np.ones((4, 4), np.uint8))


def test_zxing_reads_gb18030_without_eci_and_keeps_its_own_guess_otherwise() -> None:
    zxing = detect.make_detector("zxing")
    # zxing-cpp alone guesses Shift-JIS for these bytes and returns mojibake
    assert zxing.detect(_symbol_of_bytes("请到2号窗口".encode("gb18030"))) == ["请到2号窗口"]
    assert zxing.detect(_symbol_of_bytes("ä ö ü".encode("latin-1"))) == ["ä ö ü"]


def test_auto_falls_back_with_a_warning_where_zxing_cpp_is_missing(monkeypatch, caplog) -> None:
    monkeypatch.setitem(sys.modules, "zxingcpp", None)  # import zxingcpp raises ImportError
    with pytest.raises(detect.DetectorError, match="pip install zxing-cpp"):
        detect.make_detector("zxing")
    with caplog.at_level(logging.WARNING, logger="drivers.camera.detect"):
        chain = detect.make_detector("auto")
    assert chain.name == "zbar+aruco"
    assert "falls back to zbar+aruco" in caplog.text and "pip install zxing-cpp" in caplog.text
    # a tilted code: zbar misses it, aruco finds it, so the chain does
    frame = detect.to_gray(make_frame("RC1:TILTED", "tilted", seed=1))
    assert detect.make_detector("zbar").detect(frame) == []
    assert chain.detect(frame) == ["RC1:TILTED"]


def test_qr_image_geometry() -> None:
    image = qr_image("A005", module_px=3, border=4)
    assert image.shape == ((21 + 8) * 3, (21 + 8) * 3)  # version 1 is 21 modules
    assert set(np.unique(image)) == {0, 255}
