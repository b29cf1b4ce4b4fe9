"""Camera emulation: frames and video files with QR codes in them, as a phone shows them.

:func:`make_frame` draws a 640×480 (by default) BGR scene: a desk-like background with
shapes, text and sensor noise, and optionally a phone screen holding a QR code. ``kind`` says
how hard the code is to read:

============  ==============================================================================
kind          what
============  ==============================================================================
``plain``     upright, 4 px per module, sharp
``rotated``   turned by 15°-345° (any angle but a near-upright one)
``blurred``   Gaussian blur (σ 1.2-1.6), as with a phone slightly out of focus or moving
``small``     2 px per module: a phone held far away (the symbol is about 1/6 of the width)
``covered``   a finger-like blob over about 8 % of the symbol (not the finder patterns)
``tilted``    perspective: the phone held at an angle of about 30°
``dim``       low contrast and strong noise: a dark hall or a dimmed phone screen
============  ==============================================================================

The QR symbol itself comes from segno (error correction M by default, as the kiosk uses).
:func:`write_video` writes frames into a video file (Motion-JPEG in AVI: every OpenCV build
with FFmpeg reads and writes it).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import cv2
import numpy as np
import segno

IMAGE_KINDS = ("plain", "rotated", "blurred", "small", "covered", "tilted", "dim")
FRAME_SIZE = (640, 480)


def qr_matrix(payload: str, error: str = "m") -> np.ndarray:
    """The QR symbol as a 0/1 array (1 = dark) without the quiet zone."""
    code = segno.make_qr(payload, error=error, boost_error=False)
    return np.array(code.matrix, dtype=np.uint8)


def qr_image(payload: str, module_px: int = 4, border: int = 4, error: str = "m") -> np.ndarray:
    """Grey image of the symbol: black modules on white, ``border`` modules of quiet zone."""
    matrix = qr_matrix(payload, error)
    image = np.where(matrix == 1, 0, 255).astype(np.uint8)
    image = np.pad(image, border, constant_values=255)
    return cv2.resize(image, (image.shape[1] * module_px, image.shape[0] * module_px),
                      interpolation=cv2.INTER_NEAREST)


def background(seed: int = 0, size: tuple[int, int] = FRAME_SIZE) -> np.ndarray:
    """A camera-like BGR scene without any code: gradient, shapes, text, noise."""
    width, height = size
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    base = rng.uniform(60, 150) + rng.uniform(-40, 40) * (x / width) \
        + rng.uniform(-40, 40) * (y / height)
    tint = rng.uniform(0.85, 1.15, size=3).astype(np.float32)
    scene = (base[:, :, None] * tint[None, None, :]).clip(0, 255).astype(np.uint8)
    for _ in range(rng.integers(2, 6)):
        colour = tuple(int(c) for c in rng.integers(20, 230, size=3))
        x0, y0 = int(rng.integers(0, width)), int(rng.integers(0, height))
        if rng.random() < 0.5:
            cv2.rectangle(scene, (x0, y0), (x0 + int(rng.integers(30, 200)),
                                             y0 + int(rng.integers(30, 200))), colour, -1)
        else:
            cv2.circle(scene, (x0, y0), int(rng.integers(15, 90)), colour, -1)
    cv2.putText(scene, "Shandong 24h self-service", (int(rng.integers(5, 200)), height - 20),
                cv2.FONT_HERSHEY_SIMPLEX, 0.8, (230, 230, 230), 2, cv2.LINE_AA)
    scene = cv2.GaussianBlur(scene, (5, 5), 0)
    return _noise(scene, rng, 4.0)


_NOISE_MARGIN = 64
_noise_fields: dict[tuple[int, ...], np.ndarray] = {}


def _noise(image: np.ndarray, rng: np.random.Generator, sigma: float) -> np.ndarray:
    """Add Gaussian sensor noise: a window, at a random offset, of one pre-drawn noise field
    (drawing fresh normal numbers for every frame costs more than everything else here)."""
    h, w = image.shape[:2]
    key = image.shape
    field = _noise_fields.get(key)
    if field is None:
        big = (h + _NOISE_MARGIN, w + _NOISE_MARGIN, *image.shape[2:])
        field = np.random.default_rng(20240501).standard_normal(big, dtype=np.float32)
        _noise_fields[key] = field
    dy, dx = (int(v) for v in rng.integers(0, _NOISE_MARGIN, size=2))
    noisy = field[dy:dy + h, dx:dx + w] * np.float32(sigma)
    noisy += image
    np.clip(noisy, 0, 255, out=noisy)
    return noisy.astype(np.uint8)


def _phone(symbol: np.ndarray, pad: int) -> np.ndarray:
    """The symbol on a bright phone screen with a dark bezel (grey image)."""
    screen = np.pad(symbol, pad, constant_values=245)
    return np.pad(screen, max(4, pad // 3), constant_values=25)


def _paste(scene: np.ndarray, patch: np.ndarray, mask: np.ndarray, x: int, y: int) -> None:
    h, w = patch.shape[:2]
    region = scene[y:y + h, x:x + w]
    patch3 = cv2.cvtColor(patch, cv2.COLOR_GRAY2BGR)
    keep = mask[:, :, None] > 0
    region[:] = np.where(keep, patch3, region)


def _rotate(patch: np.ndarray, angle: float) -> tuple[np.ndarray, np.ndarray]:
    h, w = patch.shape
    side = math.ceil(math.hypot(w, h)) + 2
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    matrix[0, 2] += (side - w) / 2
    matrix[1, 2] += (side - h) / 2
    rotated = cv2.warpAffine(patch, matrix, (side, side), flags=cv2.INTER_LINEAR,
                             borderValue=0)
    mask = cv2.warpAffine(np.full_like(patch, 255), matrix, (side, side),
                          flags=cv2.INTER_NEAREST, borderValue=0)
    return rotated, mask


def _tilt(patch: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    h, w = patch.shape
    squeeze = rng.uniform(0.12, 0.18) * w
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    if rng.random() < 0.5:  # left edge farther away
        dst = np.float32([[0, squeeze], [w, 0], [w, h], [0, h - squeeze]])
    else:
        dst = np.float32([[0, 0], [w, squeeze], [w, h - squeeze], [0, h]])
    matrix = cv2.getPerspectiveTransform(src, dst)
    warped = cv2.warpPerspective(patch, matrix, (w, h), flags=cv2.INTER_LINEAR, borderValue=0)
    mask = cv2.warpPerspective(np.full_like(patch, 255), matrix, (w, h),
                               flags=cv2.INTER_NEAREST, borderValue=0)
    return warped, mask


def _cover(symbol: np.ndarray, module_px: int, border: int, rng: np.random.Generator) -> None:
    """Draw a finger over the lower right part of the symbol (no finder pattern there)."""
    size = symbol.shape[0]
    inner = size - 2 * border * module_px
    cx = border * module_px + int(inner * rng.uniform(0.72, 0.8))
    cy = border * module_px + int(inner * rng.uniform(0.78, 0.86))
    axes = (int(inner * 0.1), int(inner * 0.2))
    cv2.ellipse(symbol, (cx, cy), axes, float(rng.uniform(20, 40)), 0, 360, 150, -1)


def make_frame(payload: str | None, kind: str = "plain", *, seed: int = 0,
               size: tuple[int, int] = FRAME_SIZE, error: str = "m",
               angle: float | None = None) -> np.ndarray:
    """A BGR frame; with ``payload`` a phone showing that QR code, drawn as ``kind`` says."""
    if kind not in IMAGE_KINDS:
        raise ValueError(f"unknown image kind {kind!r}; choose one of {', '.join(IMAGE_KINDS)}")
    rng = np.random.default_rng(seed)
    scene = background(seed, size)
    if payload is None:
        return scene
    module_px = 2 if kind == "small" else 4
    border = 2
    symbol = qr_image(payload, module_px, border, error)
    if kind == "covered":
        _cover(symbol, module_px, border, rng)
    patch = _phone(symbol, pad=3 * module_px)
    mask = np.full_like(patch, 255)
    if kind == "rotated":
        turn = angle if angle is not None else float(rng.uniform(15, 345))
        patch, mask = _rotate(patch, turn)
    elif kind == "tilted":
        patch, mask = _tilt(patch, rng)
    h, w = patch.shape
    width, height = size
    if h > height or w > width:
        raise ValueError(f"the code does not fit in a {width}×{height} frame; use a shorter "
                         "payload or a bigger frame")
    x = int(rng.integers(0, width - w + 1))
    y = int(rng.integers(0, height - h + 1))
    _paste(scene, patch, mask, x, y)
    if kind == "blurred":
        scene = cv2.GaussianBlur(scene, (0, 0), float(rng.uniform(1.2, 1.6)))
    elif kind == "dim":
        scene = (scene.astype(np.float32) * 0.35 + 30).astype(np.uint8)
        return _noise(scene, rng, 9.0)
    return _noise(scene, rng, 3.0)


def write_video(path: str, frames: Iterable[np.ndarray], fps: float = 30.0) -> int:
    """Write BGR frames as Motion-JPEG AVI; returns the number of frames written."""
    writer: cv2.VideoWriter | None = None
    count = 0
    try:
        for frame in frames:
            if writer is None:
                height, width = frame.shape[:2]
                writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*"MJPG"), fps,
                                         (width, height))
                if not writer.isOpened():
                    raise OSError(f"OpenCV cannot write a video file at {path}")
            writer.write(frame)
            count += 1
    finally:
        if writer is not None:
            writer.release()
    return count
