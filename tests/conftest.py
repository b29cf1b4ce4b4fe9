"""Shared test set-up. Kivy reads its environment at first import, so it is set here first."""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("KIVY_NO_ARGS", "1")
os.environ.setdefault("KIVY_USE_DEFAULTCONFIG", "1")
os.environ.setdefault("KIVY_NO_FILELOG", "1")
os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")
os.environ.setdefault("KIVY_HOME", tempfile.mkdtemp(prefix="kiosk-kivy-test-"))
# Terminals keep their outbox and logs under ~/.local/share: give the tests a home of their own.
os.environ["HOME"] = tempfile.mkdtemp(prefix="kiosk-home-test-")
# Never let a developer's own config overrides (KIOSK_<SECTION>__<KEY>, KIOSK_PROFILE) change
# what the tests load; test switches such as KIOSK_BENCH or KIOSK_SCREENSHOT_DIR stay.
for _name in [n for n in os.environ if n.startswith("KIOSK_") and ("__" in n
                                                                   or n == "KIOSK_PROFILE")]:
    del os.environ[_name]

# Configure Kivy before any test module imports it (the clock reads maxfps when first
# imported): the pilot pumps frames itself and must not be throttled to 60 fps.
from screens.bootstrap import prepare_kivy  # noqa: E402

prepare_kivy(1920, 1080, maxfps=0)


# -- no skips on a machine set up by `make setup` ------------------------------------------------
# Debian puts mosquitto and pcscd in /usr/sbin, which a non-root user's PATH lacks: look there
# too (for shutil.which in the tests and for the servers they start as subprocesses).
_path = os.environ.get("PATH", "").split(os.pathsep)
os.environ["PATH"] = os.pathsep.join(_path + [d for d in ("/usr/sbin", "/sbin") if d not in _path])

import pytest  # noqa: E402

#: The line CI greps: ``kiosk-tests: N skipped`` (N counts skips turned into failures too).
SKIP_SUMMARY = "kiosk-tests: {count} skipped"


def no_skips() -> bool:
    """`make test` and CI (KIOSK_NO_SKIPS=1, or CI set) turn every skip into a failure."""
    flag = os.environ.get("KIOSK_NO_SKIPS")
    if flag is not None:
        return flag not in ("", "0", "false")
    return os.environ.get("CI", "") not in ("", "0", "false")


_skipped: list[str] = []


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):  # type: ignore[no-untyped-def]
    outcome = yield
    report = outcome.get_result()
    if not report.skipped or hasattr(report, "wasxfail"):
        return
    reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
    _skipped.append(f"{item.nodeid}: {reason}")
    if no_skips():
        report.outcome = "failed"
        report.longrepr = (f"skipped, and a skip is a failure here (KIOSK_NO_SKIPS/CI): {reason}\n"
                           "Run `make setup` to install what the test needs.")


def pytest_terminal_summary(terminalreporter) -> None:  # type: ignore[no-untyped-def]
    for line in _skipped:
        terminalreporter.write_line(f"SKIP {line}")
    terminalreporter.write_line(SKIP_SUMMARY.format(count=len(_skipped)))


# -- loopback ports --------------------------------------------------------------------------------
def reserve_port(host: str = "127.0.0.1"):  # type: ignore[no-untyped-def]
    """Hold an OS-assigned port for a test (close the returned socket when done).

    The socket is bound with SO_REUSEADDR and never listens: connecting to the port is refused
    (a server that is down), no other process can bind it, and a server of ours that also sets
    SO_REUSEADDR (Python's http.server, uvicorn, mosquitto) can listen on it, stop and listen
    again. This replaces bind-close-reuse, where another process may take the port in between.
    """
    import socket

    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    return sock


@pytest.fixture
def reserved_port():  # type: ignore[no-untyped-def]
    """A loopback port that is this test's alone (see :func:`reserve_port`)."""
    sock = reserve_port()
    try:
        yield int(sock.getsockname()[1])
    finally:
        sock.close()
