"""A synchronous client for one SAM module on an open pyserial port.

One method per protocol command; every call sends a frame and waits (bounded) for the matching
reply. Used by :class:`drivers.idcard.sam_driver.SamIdCardReader` from its polling thread and by
``provisioning/check_idcard.py`` for a step-by-step check. Not thread-safe: one thread owns a
client and its port.

Errors are typed and carry plain-language messages:

- :class:`LinkError` — the port failed, or the reader does not answer, or only answers with
  corrupted frames (:class:`NoAnswer`, :class:`BadFrames`): the reader is *unavailable*;
- :class:`CardError` — the reader answered with a status about the card (``status``);
- :class:`SamFault` — the reader's security module reports a fault: *unavailable*.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Protocol

from drivers.base import DeviceError
from drivers.idcard import decode
from drivers.idcard.frames import (
    APPENDED_ADDRESS_SIZE,
    PHOTO_SIZE,
    SAM_ID_SIZE,
    TEXT_SIZE,
    ChecksumError,
    Command,
    FrameError,
    FrameParser,
    Reply,
    ReplyDataError,
    Status,
    build_command,
    describe_sw3,
)
from drivers.idcard.interface import IdCardData

_READ_DATA = 4 + TEXT_SIZE + PHOTO_SIZE


class PortLike(Protocol):
    """What the client needs from a pyserial port (``serial_for_url`` returns one)."""

    timeout: float | None

    @property
    def in_waiting(self) -> int: ...
    def write(self, data: bytes) -> int | None: ...
    def read(self, size: int = 1) -> bytes: ...
    def reset_input_buffer(self) -> None: ...
    def close(self) -> None: ...


class ReaderError(DeviceError):
    """Base of the client's errors."""


class LinkError(ReaderError):
    """The port failed or the reader is not answering properly."""


class NoAnswer(LinkError):
    """No reply within the time-out."""


class BadFrames(LinkError):
    """Only corrupted frames came back."""


class Cancelled(ReaderError):
    """The owner asked the client to stop while it was waiting."""


class CardError(ReaderError):
    """The reader answered with a status about the card."""

    def __init__(self, sw3: int, command: Command) -> None:
        super().__init__(describe_sw3(sw3))
        self.sw3 = sw3
        self.command = command

    @property
    def status(self) -> Status | None:
        try:
            return Status(self.sw3)
        except ValueError:
            return None


class SamFault(ReaderError):
    """The security module itself is failing (self-test, authorisation)."""

    def __init__(self, sw3: int) -> None:
        super().__init__(describe_sw3(sw3))
        self.sw3 = sw3


def _answers(command: Command, reply: Reply, fingerprint_size: int | None = None) -> bool:
    """Whether ``reply`` can be the answer to ``command`` (stale replies of other commands are
    told apart by their data size; error replies carry no data and answer anything)."""
    if not reply.ok:
        return len(reply.data) <= 8
    size = len(reply.data)
    if command is Command.FIND:
        return reply.sw3 == Status.FIND_OK and size == 4
    if reply.sw3 != Status.OK:
        return False
    if command is Command.SELECT:
        return size == 8
    if command is Command.READ_TEXT_PHOTO:
        return size == _READ_DATA
    if command is Command.READ_WITH_FINGERPRINT:
        return size >= _READ_DATA + 2 and size != _READ_DATA
    if command is Command.READ_APPENDED_ADDRESS:
        return size == APPENDED_ADDRESS_SIZE
    if command is Command.SAM_ID:
        return size == SAM_ID_SIZE
    return size == 0


class SamClient:
    """Commands of one SAM module over ``port``.

    ``timeout_s`` bounds short commands, ``card_timeout_s`` the card reads (a real SAM needs
    up to about a second to read a card). A command whose reply is lost or corrupted is sent
    again up to ``retries`` times. ``cancel`` (an Event) aborts a wait promptly on shutdown.
    """

    def __init__(self, port: PortLike, timeout_s: float = 1.0, card_timeout_s: float = 3.0,
                 retries: int = 1, cancel: threading.Event | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.port = port
        self.timeout_s = timeout_s
        self.card_timeout_s = card_timeout_s
        self.retries = retries
        self.cancel = cancel or threading.Event()
        self.parser = FrameParser()
        self._clock = clock
        #: monotonic time at which the last accepted reply was complete (for timings)
        self.last_reply_at = 0.0
        self.stale_replies = 0

    # -- transport ---------------------------------------------------------------------------
    def transact(self, command: Command, timeout_s: float | None = None) -> Reply:
        """Send ``command`` and return its reply (any status); raise :class:`LinkError`."""
        timeout_s = self.timeout_s if timeout_s is None else timeout_s
        frame = build_command(command)
        bad = 0
        for _attempt in range(self.retries + 1):
            try:
                self.port.reset_input_buffer()
                self.parser.reset()
                self.port.write(frame)
                reply, corrupted = self._await(command, timeout_s)
            except (OSError, ValueError) as exc:  # serial.SerialException is an OSError
                raise LinkError(f"serial port error: {exc}") from exc
            if reply is not None:
                return reply
            bad += corrupted
        if bad:
            raise BadFrames(ChecksumError.advice)
        raise NoAnswer("the reader does not answer: check the cable, the port and the baud rate")

    def _await(self, command: Command, timeout_s: float) -> tuple[Reply | None, int]:
        """Wait for the reply to ``command``: (reply or None, corrupted frames seen).

        A reply is returned once nothing more is arriving right behind it, so that of two
        frames merged in one burst (a late reply to an earlier command, then ours) the last
        one wins; a corrupted frame after a candidate discards it, and a complete corrupted
        frame means the reader has finished talking, so the command is sent again at once.
        """
        deadline = self._clock() + timeout_s
        corrupted = 0
        candidate: Reply | None = None
        parser, port = self.parser, self.port
        while True:
            if self.cancel.is_set():
                raise Cancelled("stopping")
            chunk = port.read(parser.wanted())
            if chunk:
                checksum_failed = False
                for item in parser.feed_items(chunk):
                    if isinstance(item, FrameError):
                        corrupted += 1
                        candidate = None
                        checksum_failed = checksum_failed or isinstance(item, ChecksumError)
                        continue
                    try:
                        reply = item.as_reply()
                    except ValueError:
                        continue
                    if _answers(command, reply):
                        if candidate is not None:
                            self.stale_replies += 1
                        candidate = reply
                    else:
                        self.stale_replies += 1
                if checksum_failed and candidate is None and not parser.pending:
                    return None, corrupted
            if candidate is not None and not parser.pending and not port.in_waiting:
                self.last_reply_at = self._clock()
                return candidate, corrupted
            if self._clock() >= deadline:
                return candidate, corrupted

    def _ok(self, command: Command, timeout_s: float | None = None) -> Reply:
        reply = self.transact(command, timeout_s)
        if reply.ok:
            return reply
        status = reply.status
        if status is not None and status.is_reader_fault:
            raise SamFault(reply.sw3)
        raise CardError(reply.sw3, command)

    # -- commands ----------------------------------------------------------------------------
    def reset(self) -> None:
        """``10 FF``: reset the SAM module."""
        self._ok(Command.RESET)

    def status(self) -> None:
        """``11 FF``: SAM status; raises unless the module reports OK."""
        self._ok(Command.STATUS)

    def sam_id(self) -> str:
        """``12 FF``: the module's id, formatted like the label on the reader."""
        return decode.format_sam_id(self._ok(Command.SAM_ID).data)

    def find(self) -> bool:
        """``20 01``: True when a (new) card is in the field; False for "no card"."""
        reply = self.transact(Command.FIND)
        if reply.sw3 == Status.FIND_OK:
            return True
        if reply.sw3 == Status.NO_CARD:
            return False
        status = reply.status
        if status is not None and status.is_reader_fault:
            raise SamFault(reply.sw3)
        raise CardError(reply.sw3, Command.FIND)

    def select(self) -> None:
        """``20 02``: select the card found by :meth:`find`."""
        self._ok(Command.SELECT)

    def read(self, fingerprint: bool = False) -> decode.ReadBlocks:
        """``30 01`` (text + photo) or ``30 10`` (text + photo + fingerprint)."""
        command = Command.READ_WITH_FINGERPRINT if fingerprint else Command.READ_TEXT_PHOTO
        reply = self._ok(command, self.card_timeout_s)
        return decode.split_read_reply(reply.data, with_fingerprint=fingerprint)

    def read_appended_address(self) -> str:
        """``30 03``: the latest appended address; ``""`` when the card has none."""
        reply = self.transact(Command.READ_APPENDED_ADDRESS, self.card_timeout_s)
        if reply.sw3 == Status.ITEM_EMPTY:
            return ""
        if not reply.ok:
            raise CardError(reply.sw3, Command.READ_APPENDED_ADDRESS)
        return decode.decode_appended_address(reply.data)

    def read_card(self, address: bool = True, fingerprint: bool = False) -> IdCardData:
        """Find, select and read the card on the reader (:class:`CardError` if none)."""
        if not self.find():
            raise CardError(Status.NO_CARD, Command.FIND)
        self.select()
        return self.read_selected(address=address, fingerprint=fingerprint)

    def read_selected(self, address: bool = True, fingerprint: bool = False) -> IdCardData:
        """Read a card already found and selected, and decode it."""
        blocks = self.read(fingerprint=fingerprint)
        appended = ""
        if address:
            try:
                appended = self.read_appended_address()
            except (CardError, ReplyDataError):
                appended = ""  # an optional item: the main data is still good
        return decode.decode_text(blocks.text, blocks.photo, appended)
