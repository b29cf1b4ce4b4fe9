"""``check_camera.run`` on generated video files: fps, decode time, codes by class, and the
per-kind decode rate through a real video file (every frame decoded)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from drivers.camera.emulator import IMAGE_KINDS, make_frame, write_video
from kiosk.codes.embedded import EmbeddedCodePlatform
from kiosk.codes.platform import Person
from provisioning import check_camera


def fixed_platform() -> EmbeddedCodePlatform:
    """A fixed key and clock: the same token, so the same QR symbol, on every run."""
    key = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    return EmbeddedCodePlatform(key, clock=lambda: 1_750_000_000.0)


ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FRAMES_PER_KIND = 8


@pytest.fixture(scope="module")
def resident_code() -> str:
    return fixed_platform().issue_resident_code(Person("370102199003070032", "李明")).text


@pytest.fixture(scope="module")
def kinds_video(tmp_path_factory, resident_code: str) -> tuple[str, dict[str, str]]:
    """Each image kind for 8 different frames, each kind with its own ticket payload, plus a
    resident code; 4 empty frames between kinds."""
    path = str(tmp_path_factory.mktemp("check") / "kinds.avi")
    payloads = {kind: f"TICKET:{kind}-{i:03d}" for i, kind in enumerate(IMAGE_KINDS)}
    frames = []
    for index, kind in enumerate(IMAGE_KINDS):
        frames += [make_frame(None, seed=50 + index)] * 4
        frames += [make_frame(payloads[kind], kind, seed=seed) for seed in range(FRAMES_PER_KIND)]
    frames += [make_frame(resident_code, "plain", seed=1)] * 4
    write_video(path, frames, 30)
    return path, payloads


def run_json(source: str, **kwargs) -> tuple[int, dict]:
    out = io.StringIO()
    code = check_camera.run(source, True, kwargs.pop("seconds", 20.0), out=out, **kwargs)
    return code, json.loads(out.getvalue())


def test_video_file_report_with_decode_rate_per_kind(kinds_video, resident_code, capsys) -> None:
    path, payloads = kinds_video
    exit_code, report = run_json(path)
    assert exit_code == 0 and report["ok"]
    total = len(IMAGE_KINDS) * (4 + FRAMES_PER_KIND) + 4
    assert report["frames"] == total and report["frame_size"] == "640x480"
    assert report["fps"] > 0 and report["decode_ms_median"] > 0
    by_content = {c["content"]: c for c in report["codes"] if c["content"]}
    rates = {kind: by_content.get(payload, {"frames": 0})["frames"] / FRAMES_PER_KIND
             for kind, payload in payloads.items()}
    with capsys.disabled():
        cells = "  ".join(f"{kind} {rate:4.0%}" for kind, rate in rates.items())
        print(f"\n[camera decode rate, MJPEG video file, {report['detector']}] {cells}  "
              f"(median {report['decode_ms_median']} ms, p95 {report['decode_ms_p95']} ms)")
    assert all(rate >= 0.75 for rate in rates.values()), rates
    resident = [c for c in report["codes"] if c["class"] == "resident_code"]
    assert resident and resident[0]["content"] is None
    assert resident[0]["length"] == len(resident_code)
    assert resident_code not in json.dumps(report)


def test_text_report(kinds_video) -> None:
    out = io.StringIO()
    assert check_camera.run(kinds_video[0], False, 20.0, out=out) == 0
    text = out.getvalue()
    assert "fps" in text and "decode time" in text and "(personal: not shown)" in text
    assert "result:       OK" in text


def test_expect_code_on_a_video_without_one(tmp_path) -> None:
    path = str(tmp_path / "empty.avi")
    write_video(path, [make_frame(None, seed=s) for s in range(10)], 30)
    exit_code, report = run_json(path, expect_code=True)
    assert exit_code == 1 and report["frames"] == 10 and report["codes"] == []
    assert run_json(path)[0] == 0  # without --expect-code an empty view is fine


def test_missing_source_and_bad_arguments(tmp_path) -> None:
    exit_code, report = run_json(str(tmp_path / "none.avi"))
    assert exit_code == 2 and "no camera or video file" in report["error"]
    assert run_json("usb://0x0416:0x5011")[0] == 3
    assert run_json(str(tmp_path / "none.avi"), detector="wechat")[0] == 3
    assert run_json(str(tmp_path / "none.avi"), seconds=0)[0] == 3


def test_as_a_subprocess(kinds_video) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "provisioning.check_camera", "--source", kinds_video[0],
         "--json", "--seconds", "20", "--detector", "zbar", "--expect-code"],
        capture_output=True, text=True, timeout=60, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": ROOT})
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["detector"] == "zbar" and report["frames_with_code"] > 0


def test_through_kiosk_provision(kinds_video, capsys) -> None:
    from provisioning.cli import main

    exit_code = main(["test", "camera", "--source", kinds_video[0], "--seconds", "20",
                      "--json"])
    report = json.loads(capsys.readouterr().out)
    assert exit_code == 0 and report["frames_with_code"] > 0 and report["fps"] > 0
