"""Social security card reader over PC/SC (pcscd + pyscard), ``type = "pcsc"``.

One watcher thread per device. It keeps a PC/SC context, picks the reader whose name contains
the configured substring, and blocks in ``SCardGetStatusChange`` (bounded by the poll interval,
woken at once by ``SCardCancel`` on stop). A card arriving gives :class:`SsCardInserted`, then
the card is read (:mod:`drivers.smartcard.sscard`) and :class:`SsCardRead` or
:class:`SsCardReadFailed` follows; a card leaving gives :class:`SsCardRemoved`.

Device state: READY while the reader is there; UNAVAILABLE with a plain reason when pcscd is
not running or no matching reader is attached (the thread keeps looking, with back-off for the
service). Options:

- ``reader``: substring of the reader name, case-insensitive ("" = the first reader);
- ``poll_interval``: seconds, how often the reader list is checked (default 0.5);
- ``share``: ``"shared"`` (default) or ``"exclusive"`` while reading a card.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import Any, ClassVar

from smartcard import scard

from drivers.base import DeviceState
from drivers.options import opt
from drivers.smartcard.apdu import ApduError, ForbiddenApdu
from drivers.smartcard.interface import (
    SocialSecurityCardReader,
    SsCardData,
    SsCardInserted,
    SsCardRead,
    SsCardReadFailed,
    SsCardRemoved,
)
from drivers.smartcard.sscard import ReadStats, SsCardError, read_sscard

log = logging.getLogger(__name__)

_CARD_GONE = {
    scard.SCARD_W_REMOVED_CARD,
    scard.SCARD_E_NO_SMARTCARD,
    scard.SCARD_W_RESET_CARD,
    scard.SCARD_E_READER_UNAVAILABLE,
}
MAX_BACKOFF_S = 10.0


class PcscError(Exception):
    """A PC/SC call failed; ``code`` is the PC/SC result."""

    def __init__(self, what: str, code: int) -> None:
        self.code = code
        super().__init__(f"{what}: {_err(code)}")


def _err(code: int) -> str:
    try:
        return f"{scard.SCardGetErrorMessage(code)} (0x{code & 0xFFFFFFFF:08X})"
    except Exception:  # pragma: no cover - defensive
        return f"0x{code & 0xFFFFFFFF:08X}"


def _check(what: str, code: int) -> None:
    if code != scard.SCARD_S_SUCCESS:
        raise PcscError(what, code)


def pick_reader(readers: list[str], wanted: str) -> str | None:
    """The first reader whose name contains ``wanted`` (case-insensitive), or None."""
    wanted = wanted.strip().lower()
    for name in readers:
        if wanted in name.lower():
            return name
    return None


class PcscSocialSecurityReader(SocialSecurityCardReader):
    """Reads social security cards put into a PC/SC reader."""

    type_name = "pcsc"
    OPTIONS: ClassVar[Mapping[str, Any]] = {
        "reader": opt("", "part of the reader's name; \"\" = the first reader"),
        "poll_interval": opt(0.5, min=0.05, max=10),
        "share": opt("shared", choices=("shared", "exclusive")),
    }

    def __init__(self, url: str = "", options: Mapping[str, Any] | None = None) -> None:
        super().__init__(url, options)
        self.wanted = str(self.options.get("reader", url or ""))
        self.poll_interval = max(0.05, float(self.options.get("poll_interval", 0.5)))
        share = str(self.options.get("share", "shared")).lower()
        self._share = scard.SCARD_SHARE_EXCLUSIVE if share == "exclusive" \
            else scard.SCARD_SHARE_SHARED
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._ctx: int | None = None
        self._ctx_lock = threading.Lock()
        self.reader_name: str | None = None
        self.last_stats: ReadStats | None = None
        # watcher-thread state
        self._backoff = self.poll_interval
        self._card_present = False
        self._reader_state = scard.SCARD_STATE_UNAWARE

    # -- lifecycle ---------------------------------------------------------------------------
    def _on_start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="sscard-pcsc", daemon=True)
        self._thread.start()

    def _on_stop(self) -> None:
        self._stop.set()
        with self._ctx_lock:
            if self._ctx is not None:
                scard.SCardCancel(self._ctx)  # wakes SCardGetStatusChange at once
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout=max(5.0, 4 * self.poll_interval))
            if thread.is_alive():  # pragma: no cover - would be a bug
                log.error("the PC/SC watcher thread did not stop")

    # -- the watcher thread --------------------------------------------------------------------
    def _run(self) -> None:
        self._backoff = self.poll_interval
        self._card_present = False
        self._reader_state = scard.SCARD_STATE_UNAWARE
        try:
            while not self._stop.is_set():
                try:
                    self._step()
                except Exception:  # never raise out of the thread (drivers.base contract)
                    log.exception("PC/SC watcher failed; retrying")
                    self._set_state(DeviceState.UNAVAILABLE, "internal error in the PC/SC watcher")
                    self._release_context()
                    self._stop.wait(MAX_BACKOFF_S)
        finally:
            self._release_context()

    def _step(self) -> None:
        """One round: make sure of the service and the reader, then wait for a card change."""
        if self._ctx is None:
            self._reader_state = scard.SCARD_STATE_UNAWARE  # a new context knows nothing yet
            try:
                self._establish()
            except PcscError as exc:
                self._card_gone()
                self._unavailable("the PC/SC service (pcscd) is not running", exc)
                self._stop.wait(self._backoff)
                self._backoff = min(self._backoff * 2, MAX_BACKOFF_S)
                return
            self._backoff = self.poll_interval
        try:
            reader = self._find_reader()
        except PcscError as exc:
            self._drop_context(exc)
            return
        if reader is None:
            self._card_gone()
            what = f"matching {self.wanted!r}" if self.wanted else "at all"
            self._set_state(DeviceState.UNAVAILABLE, f"no card reader {what}")
            self.reader_name = None
            self._reader_state = scard.SCARD_STATE_UNAWARE
            self._stop.wait(self.poll_interval)
            return
        if reader != self.reader_name:
            self._card_gone()
            self.reader_name = reader
            self._reader_state = scard.SCARD_STATE_UNAWARE
            self._set_detail(reader=reader)
        self._set_state(DeviceState.READY)
        hr, states = scard.SCardGetStatusChange(
            self._ctx, int(self.poll_interval * 1000), [(reader, self._reader_state)])
        if hr in (scard.SCARD_E_TIMEOUT, scard.SCARD_E_CANCELLED):
            return
        if hr == scard.SCARD_E_UNKNOWN_READER:  # unplugged: the next round finds out
            self._stop.wait(self.poll_interval)
            return
        if hr != scard.SCARD_S_SUCCESS:
            self._drop_context(PcscError("waiting for a card", hr))
            return
        _name, event, _atr = states[0]
        log.debug("reader state %#x -> %#x", self._reader_state, event)
        self._reader_state = event & ~scard.SCARD_STATE_CHANGED
        if event & (scard.SCARD_STATE_UNKNOWN | scard.SCARD_STATE_UNAVAILABLE):
            return
        present = bool(event & scard.SCARD_STATE_PRESENT)
        if present and not self._card_present:
            self._card_present = True
            self._card_arrived(reader, mute=bool(event & scard.SCARD_STATE_MUTE))
        elif not present:
            self._card_gone()

    def _card_gone(self) -> None:
        """Report the card removed, once (also when its reader or pcscd goes away)."""
        if self._card_present:
            self._card_present = False
            self._emit(SsCardRemoved(self.reader_name or ""))

    # -- helpers -----------------------------------------------------------------------------
    def _unavailable(self, reason: str, exc: Exception) -> None:
        if self.state is not DeviceState.UNAVAILABLE or self.health().reason != reason:
            log.warning("%s (%s)", reason, exc)
        self._set_state(DeviceState.UNAVAILABLE, reason)

    def _establish(self) -> None:
        hr, ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
        _check("connecting to pcscd", hr)
        with self._ctx_lock:
            self._ctx = ctx

    def _release_context(self) -> None:
        with self._ctx_lock:
            ctx, self._ctx = self._ctx, None
        if ctx is not None:
            scard.SCardReleaseContext(ctx)

    def _drop_context(self, exc: PcscError) -> None:
        log.info("PC/SC context lost: %s", exc)
        self._release_context()
        self._stop.wait(self.poll_interval)

    def _find_reader(self) -> str | None:
        hr, readers = scard.SCardListReaders(self._ctx, [])
        if hr == scard.SCARD_E_NO_READERS_AVAILABLE:
            return None
        _check("listing readers", hr)
        return pick_reader(list(readers), self.wanted)

    def _card_arrived(self, reader: str, mute: bool) -> None:
        self._emit(SsCardInserted(reader))
        if mute:
            self._emit(SsCardReadFailed("the card does not answer (inserted the wrong way?)"))
            return
        stats = ReadStats()
        try:
            data = self._read_card(reader, stats)
        except SsCardError as exc:
            self._emit(SsCardReadFailed(str(exc)))
        except PcscError as exc:
            reason = ("the card was removed while being read" if exc.code in _CARD_GONE
                      else f"the reader failed: {exc}")
            self._emit(SsCardReadFailed(reason))
        except ApduError as exc:
            if isinstance(exc, ForbiddenApdu):  # a programming error: loud, never sent
                log.error("blocked a forbidden APDU: %s", exc)
                self._emit(SsCardReadFailed("internal error while reading the card"))
            else:
                self._emit(SsCardReadFailed(f"the card gave a malformed answer: {exc}"))
        except Exception:
            log.exception("reading the card failed")
            self._emit(SsCardReadFailed("internal error while reading the card"))
        else:
            self._emit(SsCardRead(data))
        finally:
            self.last_stats = stats
            self._set_detail(last_read_ms=round(stats.seconds * 1000, 1),
                             last_read_apdus=stats.apdus)

    def _read_card(self, reader: str, stats: ReadStats) -> SsCardData:
        hr, hcard, protocol = scard.SCardConnect(
            self._ctx, reader, self._share, scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1)
        _check("connecting to the card", hr)
        try:
            def transmit(apdu: bytes) -> tuple[bytes, int, int]:
                hr, response = scard.SCardTransmit(hcard, protocol, list(apdu))
                _check("talking to the card", hr)
                if not response:  # vpcd and some readers: the card went away mid-command
                    raise PcscError("talking to the card", scard.SCARD_W_REMOVED_CARD)
                if len(response) < 2:
                    raise ApduError("answer shorter than a status word")
                return bytes(response[:-2]), response[-2], response[-1]

            return read_sscard(transmit, stats)
        finally:
            scard.SCardDisconnect(hcard, scard.SCARD_RESET_CARD)
