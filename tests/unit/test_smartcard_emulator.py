"""The emulator speaks vpcd's wire protocol: tested against a stand-in vpcd on loopback TCP."""

from __future__ import annotations

import socket

import pytest

from drivers.smartcard.emulator import DEFAULT_ATR, CardScript, SsCardEmulator
from drivers.smartcard.samples import SAMPLE_CARD
from drivers.smartcard.sscard import SSSE_AID


class StandInVpcd:
    """The reader side of vpcd: listens, and sends length-prefixed messages to the card."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.server.settimeout(5)
        self.port = self.server.getsockname()[1]
        self.conn: socket.socket | None = None

    def accept(self) -> None:
        self.conn, _ = self.server.accept()
        self.conn.settimeout(5)

    def send(self, body: bytes) -> None:
        assert self.conn is not None
        self.conn.sendall(len(body).to_bytes(2, "big") + body)

    def recv(self) -> bytes:
        assert self.conn is not None
        header = self._exact(2)
        return self._exact(int.from_bytes(header, "big"))

    def _exact(self, n: int) -> bytes:
        assert self.conn is not None
        buf = b""
        while len(buf) < n:
            chunk = self.conn.recv(n - len(buf))
            if not chunk:
                raise EOFError
            buf += chunk
        return buf

    def close(self) -> None:
        if self.conn:
            self.conn.close()
        self.server.close()


@pytest.fixture
def vpcd():
    stand_in = StandInVpcd()
    yield stand_in
    stand_in.close()


def test_control_messages_and_apdus(vpcd: StandInVpcd) -> None:
    emulator = SsCardEmulator(CardScript(SAMPLE_CARD), port=vpcd.port)
    emulator.insert(timeout=5)
    try:
        vpcd.accept()
        vpcd.send(b"\x01")  # power on: no answer
        vpcd.send(b"\x04")  # get ATR
        assert vpcd.recv() == DEFAULT_ATR
        vpcd.send(bytes.fromhex("00A404000F") + SSSE_AID)
        assert vpcd.recv()[-2:] == b"\x90\x00"
        vpcd.send(bytes.fromhex("00A4020002EF05"))
        assert vpcd.recv() == b"\x90\x00"
        vpcd.send(bytes.fromhex("00B2070411"))
        assert vpcd.recv()[:2] == b"\x07\x09"
        vpcd.send(b"\x02")  # reset: the card forgets the selected file
        vpcd.send(bytes.fromhex("00B2070411"))
        assert vpcd.recv() == b"\x69\x86"
        assert emulator.powered
        vpcd.send(b"\x00")  # power off
        vpcd.send(b"\x04")
        assert vpcd.recv() == DEFAULT_ATR  # still answers ATR (vpcd's presence check)
        assert not emulator.powered
        assert [a[:2] for a in emulator.apdus] == [b"\x00\xa4", b"\x00\xa4", b"\x00\xb2",
                                                   b"\x00\xb2"]
    finally:
        emulator.remove()
    assert not emulator.inserted
    with pytest.raises((EOFError, ConnectionResetError)):
        vpcd.recv()  # removal = connection closed


def test_vanishes_mid_read(vpcd: StandInVpcd) -> None:
    emulator = SsCardEmulator(CardScript(SAMPLE_CARD, vanish_after=1), port=vpcd.port)
    emulator.insert(timeout=5)
    try:
        vpcd.accept()
        vpcd.send(bytes.fromhex("00A4020002EF05"))
        assert vpcd.recv() == b"\x6a\x82"  # nothing selected in the MF without the SSSE
        vpcd.send(bytes.fromhex("00B2010412"))
        with pytest.raises((EOFError, ConnectionResetError)):
            vpcd.recv()
        assert len(emulator.apdus) == 2
    finally:
        emulator.remove()


def test_insert_without_vpcd_fails_clearly(reserved_port: int) -> None:
    emulator = SsCardEmulator(CardScript(SAMPLE_CARD), port=reserved_port)  # nobody listens
    with pytest.raises(ConnectionError, match="vpcd is not listening"):
        emulator.insert(timeout=0.3)
    assert not emulator.inserted


def test_swap_card_only_when_removed(vpcd: StandInVpcd) -> None:
    emulator = SsCardEmulator(CardScript(SAMPLE_CARD), port=vpcd.port)
    emulator.insert(timeout=5)
    try:
        with pytest.raises(RuntimeError):
            emulator.use(CardScript(SAMPLE_CARD, applet=False))
    finally:
        emulator.remove()
    emulator.use(CardScript(SAMPLE_CARD, applet=False))
    assert not emulator.script.applet
