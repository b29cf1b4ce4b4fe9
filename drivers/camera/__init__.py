"""Cameras that read QR codes: interface and fake (the OpenCV backend is added beside them)."""

from drivers.camera.interface import KIND, Camera

BACKENDS: dict[str, str] = {
    "fake": "drivers.camera.fake:FakeCamera",
}

__all__ = ["BACKENDS", "KIND", "Camera"]
