"""Technician check of the camera: frames per second and QR decodes for a few seconds
(``kiosk-provision test camera --source SRC [--json]``).

``SRC`` is what the camera's ``url`` would be: ``v4l2://0`` or ``0`` (device index),
``/dev/video0``, a video file, or an ``rtsp://``/``http://`` stream. Every frame is read and
decoded on this thread, so the figures are what one core achieves: capture rate, decode time
per frame (median, 95th percentile, worst) and the codes seen, by class and length (content
only when not personal). A video file is read as fast as it decodes and ends the check early.

Exit codes: 0 frames were read (and, with ``expect_code``, a code was decoded); 1 frames were
read but no code was decoded although one was expected; 2 the source cannot be opened or gives
no frames; 3 bad arguments.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import sys
import time
from typing import Any, TextIO

import cv2

from drivers.base import DeviceError
from drivers.camera.detect import DETECTORS, DetectorError, FrameDecoder, make_detector
from drivers.camera.opencv_driver import (
    DEFAULT_OPTIONS,
    open_capture,
    parse_source,
    presence_problem,
    source_kind,
)
from kiosk.codes.classify import classify


def run(source: str, as_json: bool = False, seconds: float = 5.0, *, detector: str = "auto",
        decode_width: int = 640, expect_code: bool = False, out: TextIO | None = None) -> int:
    """Read and decode frames from ``source`` for ``seconds``; print a report."""
    out = out or sys.stdout
    report: dict[str, Any] = {"source": source, "ok": False, "detector": detector}
    if seconds <= 0 or decode_width < 0:
        report["error"] = "give a positive number of seconds and a decode width >= 0"
        return _finish(report, 3, as_json, out)
    try:
        parsed = parse_source(source)
        decoder = FrameDecoder(make_detector(detector), decode_width)
    except (DeviceError, DetectorError) as exc:
        report["error"] = str(exc)
        return _finish(report, 3, as_json, out)
    report.update(detector=decoder.detector.name, kind=source_kind(parsed),
                  decode_width=decode_width)
    threads = cv2.getNumThreads()
    cv2.setNumThreads(1)
    started = time.perf_counter()
    capture = open_capture(parsed, DEFAULT_OPTIONS)
    try:
        if not capture.isOpened():
            report["error"] = presence_problem(parsed) or f"OpenCV cannot open {source}"
            return _finish(report, 2, as_json, out)
        report["open_ms"] = round((time.perf_counter() - started) * 1000, 1)
        return _measure(capture, decoder, report, seconds, expect_code, as_json, out)
    finally:
        capture.release()
        cv2.setNumThreads(threads)


def _measure(capture: cv2.VideoCapture, decoder: FrameDecoder, report: dict[str, Any],
             seconds: float, expect_code: bool, as_json: bool, out: TextIO) -> int:
    read_ms: list[float] = []
    decode_ms: list[float] = []
    frames_with_code = 0
    codes: dict[bytes, dict[str, Any]] = {}
    begin = time.perf_counter()
    deadline = begin + seconds
    size = ""
    while time.perf_counter() < deadline:
        step = time.perf_counter()
        ok, frame = capture.read()
        if not ok or frame is None:
            break
        read_ms.append((time.perf_counter() - step) * 1000)
        size = f"{frame.shape[1]}x{frame.shape[0]}"
        texts = decoder.decode(frame)
        decode_ms.append(decoder.last_ms)
        if texts:
            frames_with_code += 1
        for text in texts:
            key = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()
            if key not in codes:
                c = classify(text)
                codes[key] = {"class": c.cls.value, "label": c.cls.label_zh,
                              "length": c.length,
                              "content": None if c.sensitive else (c.shown or None),
                              "frames": 0}
            codes[key]["frames"] += 1
    elapsed = time.perf_counter() - begin
    if not read_ms:
        report["error"] = "the source opened but gave no frames"
        return _finish(report, 2, as_json, out)
    ordered = sorted(decode_ms)
    report.update(
        ok=True, frame_size=size, frames=len(read_ms), seconds=round(elapsed, 2),
        fps=round(len(read_ms) / elapsed, 1) if elapsed > 0 else 0.0,
        read_ms_median=round(statistics.median(read_ms), 2),
        decode_ms_median=round(statistics.median(ordered), 2),
        decode_ms_p95=round(ordered[max(0, int(len(ordered) * 0.95) - 1)], 2),
        decode_ms_max=round(ordered[-1], 2),
        decode_fps_one_core=round(1000 / statistics.mean(ordered), 1) if ordered else 0.0,
        frames_with_code=frames_with_code,
        decode_rate=round(frames_with_code / len(read_ms), 3),
        codes=list(codes.values()))
    if expect_code and not codes:
        report["ok"] = False
        report["error"] = "frames were read but no QR code was decoded: hold a code in view"
        return _finish(report, 1, as_json, out)
    return _finish(report, 0, as_json, out)


def _finish(report: dict[str, Any], code: int, as_json: bool, out: TextIO) -> int:
    report["exit_code"] = code
    if as_json:
        out.write(json.dumps(report, ensure_ascii=False, indent=2) + "\n")
        return code
    lines = [f"camera source {report['source']} (detector {report['detector']})"]
    if "frames" in report:
        lines += [
            f"  frames:       {report['frames']} of {report['frame_size']} in "
            f"{report['seconds']} s = {report['fps']} fps (read + decode, one core)",
            f"  decode time:  median {report['decode_ms_median']} ms, p95 "
            f"{report['decode_ms_p95']} ms, max {report['decode_ms_max']} ms "
            f"(decode alone: {report['decode_fps_one_core']} fps)",
            f"  decodes:      {report['frames_with_code']} frames with a code "
            f"({report['decode_rate']:.0%})",
        ]
        for item in report["codes"]:
            shown = f": {item['content']}" if item["content"] else \
                " (personal: not shown)" if item["class"] in ("resident_code", "enterprise_code",
                                                             "unknown") else ""
            lines.append(f"  code:         {item['class']} ({item['label']}), {item['length']} "
                         f"characters, in {item['frames']} frames{shown}")
    if report["ok"]:
        lines.append("  result:       OK")
    else:
        lines.append(f"  result:       FAILED: {report.get('error', 'unknown error')}")
    out.write("\n".join(lines) + "\n")
    return code


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m provisioning.check_camera",
                                     description="Measure the camera's frame rate and decodes.")
    parser.add_argument("--source", required=True,
                        help="v4l2://0, /dev/video0, a video file or an rtsp:// URL")
    parser.add_argument("--json", action="store_true", help="machine-readable report")
    parser.add_argument("--seconds", type=float, default=5.0, help="how long to measure")
    parser.add_argument("--detector", default="auto", choices=DETECTORS)
    parser.add_argument("--decode-width", type=int, default=640)
    parser.add_argument("--expect-code", action="store_true",
                        help="fail (exit 1) when no QR code was decoded")
    args = parser.parse_args(argv)
    return run(args.source, args.json, args.seconds, detector=args.detector,
               decode_width=args.decode_width, expect_code=args.expect_code)


if __name__ == "__main__":
    sys.exit(main())
