"""Start a private X virtual frame buffer when there is no display (headless demo and tests)."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager


class DisplayError(RuntimeError):
    pass


@contextmanager
def virtual_display(width: int = 1920, height: int = 1920, force: bool = False,
                    timeout_s: float = 15.0) -> Iterator[str]:
    """Yield a DISPLAY name: the current one, or a fresh Xvfb that is stopped afterwards.

    The screen is made square (the larger edge both ways) so that the same display serves
    landscape and portrait window sizes.
    """
    if os.environ.get("DISPLAY") and not force:
        yield os.environ["DISPLAY"]
        return
    binary = shutil.which("Xvfb")
    if binary is None:
        raise DisplayError("no DISPLAY and no Xvfb: install it with 'apt-get install xvfb' "
                           "(make setup does) or run under a desktop session")
    edge = max(width, height)
    read_fd, write_fd = os.pipe()
    process = subprocess.Popen(
        [binary, "-displayfd", str(write_fd), "-screen", "0", f"{edge}x{edge}x24",
         "-nolisten", "tcp", "-noreset"],
        pass_fds=(write_fd,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write_fd)
    try:
        number = _read_display_number(read_fd, process, timeout_s)
        display = f":{number}"
        previous = os.environ.get("DISPLAY")
        os.environ["DISPLAY"] = display
        try:
            yield display
        finally:
            if previous is None:
                os.environ.pop("DISPLAY", None)
            else:
                os.environ["DISPLAY"] = previous
    finally:
        os.close(read_fd)
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def _read_display_number(fd: int, process: subprocess.Popen[bytes], timeout_s: float) -> str:
    import select

    deadline = time.monotonic() + timeout_s
    data = b""
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            chunk = os.read(fd, 64)
            data += chunk
            if b"\n" in data or not chunk:
                break
        if process.poll() is not None:
            raise DisplayError(f"Xvfb exited with code {process.returncode}")
    number = data.strip().decode() if data.strip() else ""
    if not number.isdigit():
        raise DisplayError("Xvfb did not report a display number in time")
    return number
