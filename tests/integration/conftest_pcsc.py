"""Fixtures for end-to-end PC/SC tests: the real pcscd, the vpcd virtual reader, our card.

Import the fixtures into a test module (``from conftest_pcsc import pcsc, card_slot``) or list
this module in ``pytest_plugins``. Modules that import them share one pcscd and one lock.

- ``pcsc`` (session): makes sure a pcscd with the vpcd reader "Virtual PCD 00 00" is running.
  If one already runs it is used as is; otherwise the fixture starts ``pcscd --foreground``
  itself, waits (bounded) for the reader, and stops that process (by its pid) at the end.
  Skips with a clear reason only when the pcscd binary or the vpcd driver is not installed.
  A file lock serialises test sessions that would otherwise fight over vpcd's card port.
- ``card_slot``: an :class:`SsCardEmulator` factory for vpcd slot 0; every card it made is
  removed at the end and the fixture waits until pcscd reports the slot empty again.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pytest

VPCD_DRIVER = Path("/usr/lib/pcsc/drivers/serial/libifdvpcd.so")
VPCD_CONFIG = Path("/etc/reader.conf.d/vpcd")
READER = "Virtual PCD 00 00"
LOCK_FILE = Path("/tmp/aishandong-kiosk-vpcd.lock")
START_TIMEOUT_S = 15.0
LOCK_TIMEOUT_S = 90.0  # below the tests' 120 s time-out, so a busy lock fails cleanly
PCSCD_POLL_S = 0.4  # pcscd polls readers without hot-plug events this often


def list_readers() -> list[str] | None:
    """Reader names, or None when pcscd does not answer."""
    from smartcard import scard

    hr, ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    if hr != scard.SCARD_S_SUCCESS:
        return None
    try:
        hr, readers = scard.SCardListReaders(ctx, [])
        if hr == scard.SCARD_E_NO_READERS_AVAILABLE:
            return []
        return list(readers) if hr == scard.SCARD_S_SUCCESS else None
    finally:
        scard.SCardReleaseContext(ctx)


def slot_state(reader: str = READER) -> int | None:
    """The reader's current PC/SC state bits, or None when it cannot be asked."""
    from smartcard import scard

    hr, ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    if hr != scard.SCARD_S_SUCCESS:
        return None
    try:
        hr, states = scard.SCardGetStatusChange(ctx, 0, [(reader, scard.SCARD_STATE_UNAWARE)])
        return states[0][1] if hr == scard.SCARD_S_SUCCESS else None
    finally:
        scard.SCardReleaseContext(ctx)


def wait_until(predicate: Callable[[], bool], timeout: float, step: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


@dataclass
class PcscService:
    """The pcscd the tests talk to; ``owned`` when this session started it."""

    owned: bool
    process: subprocess.Popen | None = None
    log_path: Path | None = None

    def wait_for_reader(self, timeout: float = START_TIMEOUT_S) -> None:
        if not wait_until(lambda: READER in (list_readers() or []), timeout):
            log = self.log_path.read_text(errors="replace")[-2000:] if self.log_path else ""
            raise RuntimeError(
                f"pcscd did not show the reader {READER!r} within {timeout:.0f} s "
                f"(readers: {list_readers()}); is {VPCD_CONFIG} present? pcscd log tail:\n{log}")

    def start(self) -> None:
        """Start our own pcscd (used at set-up, and by tests that restart the service)."""
        assert self.owned, "only a pcscd started by the tests may be restarted"
        assert self.log_path is not None
        log = self.log_path.open("ab")
        try:
            self.process = subprocess.Popen(
                # no --auto-exit: it quits a minute after its last client, and other test
                # modules may need it long after the first one finished
                ["pcscd", "--foreground"], stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True)
        finally:
            log.close()
        self.wait_for_reader()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the pcscd this session started (by its pid) and wait until it is gone."""
        assert self.owned, "never stop a pcscd the tests did not start"
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout)
        wait_until(lambda: list_readers() is None, timeout)


def _require_binaries() -> None:
    if shutil.which("pcscd") is None:
        pytest.fail("pcscd is not installed: `make setup` installs Debian's pcscd")
    if not VPCD_DRIVER.exists() or not VPCD_CONFIG.exists():
        pytest.fail("the vpcd virtual reader is not installed: `make setup` installs "
                    "Debian's vsmartcard-vpcd")


class _Shared:
    """One pcscd and one lock per test process.

    Each test module that imports the ``pcsc`` fixture gets its own copy of it; they all
    share this state, so the lock is taken once and pcscd is stopped after the last user.
    """

    users = 0
    service: PcscService | None = None
    lock: IO[str] | None = None


def _take_lock() -> IO[str]:
    lock = LOCK_FILE.open("a+")
    deadline = time.monotonic() + LOCK_TIMEOUT_S
    while True:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return lock
        except BlockingIOError:
            if time.monotonic() > deadline:
                lock.close()
                pytest.fail(f"another test session holds {LOCK_FILE} for over "
                            f"{LOCK_TIMEOUT_S:.0f} s")
            time.sleep(0.2)


def _acquire(tmp_path_factory: pytest.TempPathFactory) -> PcscService:
    if _Shared.service is not None:
        service = _Shared.service
        if service.owned and (service.process is None or service.process.poll() is not None):
            service.start()  # our pcscd is gone (stopped by a test, or crashed): start it again
        _Shared.users += 1
        return service
    lock = _take_lock()
    try:
        if list_readers() is not None:
            service = PcscService(owned=False)
            service.wait_for_reader()
        else:
            if os.geteuid() != 0 and not os.access("/run/pcscd", os.W_OK):
                pytest.fail("no pcscd is running and this user cannot start one "
                            "(needs write access to /run/pcscd: run the tests as root, or "
                            "start pcscd as a service)")
            service = PcscService(owned=True,
                                  log_path=tmp_path_factory.mktemp("pcscd") / "pcscd.log")
            try:
                service.start()
            except BaseException:
                service.stop()
                raise
    except BaseException:
        fcntl.flock(lock, fcntl.LOCK_UN)
        lock.close()
        raise
    _Shared.service, _Shared.lock, _Shared.users = service, lock, 1
    return service


def _release() -> None:
    _Shared.users -= 1
    if _Shared.users > 0:
        return
    service, lock = _Shared.service, _Shared.lock
    _Shared.service = _Shared.lock = None
    try:
        if service is not None and service.owned:
            service.stop()
    finally:
        if lock is not None:
            fcntl.flock(lock, fcntl.LOCK_UN)
            lock.close()


@pytest.fixture(scope="session")
def pcsc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PcscService]:
    import smartcard  # noqa: F401 (pyscard, extra 'smartcard': installed by `make setup`)
    _require_binaries()
    service = _acquire(tmp_path_factory)
    try:
        yield service
    finally:
        _release()


@pytest.fixture
def card_slot(pcsc: PcscService):
    """Factory: ``card_slot(script)`` → an emulator for vpcd slot 0 (not yet inserted)."""
    from drivers.smartcard.emulator import SsCardEmulator

    made: list[SsCardEmulator] = []

    def make(script) -> SsCardEmulator:
        emulator = SsCardEmulator(script)
        made.append(emulator)
        return emulator

    yield make
    for emulator in made:
        emulator.remove()
    if pcsc.owned and pcsc.process is None:
        return  # the test stopped pcscd and did not start it again
    from smartcard import scard

    def slot_empty() -> bool:
        state = slot_state()
        return state is not None and not state & scard.SCARD_STATE_PRESENT

    assert wait_until(slot_empty, 5.0), "pcscd still sees a card in the virtual slot"
    if any(emulator.vanished for emulator in made):
        # vpcd learns that a card vanished mid-command only at pcscd's next presence poll
        # (400 ms); a card connected before that is taken for the old one and never reported.
        time.sleep(PCSCD_POLL_S * 2.5)
