"""Cameras that read QR codes: interface, fake, the OpenCV backend, detectors and emulation."""

from drivers.camera.interface import KIND, Camera

BACKENDS: dict[str, str] = {
    "fake": "drivers.camera.fake:FakeCamera",
    "opencv": "drivers.camera.opencv_driver:OpenCvCamera",
}

__all__ = ["BACKENDS", "KIND", "Camera"]
