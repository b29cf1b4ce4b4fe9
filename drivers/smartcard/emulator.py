"""A social security card emulator for the ``vsmartcard-vpcd`` virtual reader.

``pcscd`` loads the vpcd driver (``/etc/reader.conf.d/vpcd``), which shows the readers
"Virtual PCD 00 00" and "Virtual PCD 00 01" and listens on TCP 35963 and 35964 for a virtual
card. This module is that card: it connects to the port (card inserted), answers vpcd's
messages, and closes the connection (card removed).

vpcd's protocol: every message is a 2-byte big-endian length and a body. A 1-byte body is a
control message: 0x00 power off, 0x01 power on, 0x02 reset (no answer), 0x04 get ATR (answer
the ATR). Any other body is a command APDU, answered with the response APDU.

The card follows the LD/T 32 layout: MF → DF SSSE (``sx1.sh.社会保障``) → EF05 (card
information) and EF06 (holder information), TLV records. :class:`CardScript` scripts the
behaviours a reader has to cope with: FCI through 61xx, data only through GET RESPONSE in
small pieces, strict Le (6Cxx), a card without the SSSE name (6A82), items that need a PSAM
(6982) and a card pulled out in the middle of a read. Every APDU received is recorded.

Run by hand: ``python -m drivers.smartcard.emulator --card v3_partial`` then ``pcsc_scan``.
"""

from __future__ import annotations

import argparse
import logging
import socket
import threading
import time
from dataclasses import dataclass, field, replace

from drivers.smartcard.apdu import (
    INS_GET_RESPONSE,
    INS_READ_RECORD,
    INS_SELECT,
    encode_an,
    encode_bcd,
    encode_tlv,
)
from drivers.smartcard.interface import SsCardData
from drivers.smartcard.sscard import EF05, EF05_ITEMS, EF06, EF06_ITEMS, SSSE_AID, Item

log = logging.getLogger(__name__)

VPCD_HOST = "127.0.0.1"
VPCD_PORT = 35963  # slot 0, "Virtual PCD 00 00"; slot 1 is 35964

CTRL_OFF, CTRL_ON, CTRL_RESET, CTRL_ATR = 0x00, 0x01, 0x02, 0x04

#: T=0 ATR: TS 3B, T0 6C (TB1, TC1, 12 historical bytes), TB1 00, TC1 00, "LDT32-EMU-01"
DEFAULT_ATR = bytes.fromhex("3B6C0000") + b"LDT32-EMU-01"

MF = 0x3F00
SSSE = 0xDDF1  # file id of the SSSE DF (by name is how readers select it)


@dataclass(frozen=True)
class CardScript:
    """What card to serve and how it behaves.

    - ``ssse_by_name``: False → SELECT by the SSSE name answers 6A82 and EF05/EF06 can be
      selected right from the MF (the fallback path);
    - ``select_61``: SELECT of the DF answers ``61 xx`` and hands the FCI out by GET RESPONSE;
    - ``read_via_61``: every READ RECORD answers ``61 xx`` (T=0 style);
    - ``chunk``: GET RESPONSE hands out at most this many bytes, then ``61 rest`` (0: all);
    - ``exact_le``: a READ RECORD whose Le differs from the record's length gets ``6C len``;
    - ``value_lengths``: tag → value length overriding LD/T 32's (to provoke 6Cxx);
    - ``psam_tags``: EF06 tags answering 6982 (a 3.00 card read without a PSAM);
    - ``vanish_after``: drop the connection after that many APDUs (card pulled mid-read);
    - ``applet``: False → a card without the social security application (a bank card).
    """

    data: SsCardData
    atr: bytes = DEFAULT_ATR
    ssse_by_name: bool = True
    select_61: bool = False
    read_via_61: bool = False
    chunk: int = 0
    exact_le: bool = False
    value_lengths: dict[int, int] = field(default_factory=dict)
    psam_tags: frozenset[int] = frozenset()
    vanish_after: int | None = None
    applet: bool = True


def _encode_item(item: Item, text: str, length: int) -> bytes:
    if item.fmt == "b":
        raw = bytes.fromhex(text) if text else b""
        return raw[:length].ljust(length, b"\x00")
    if item.fmt == "cn":
        return encode_bcd(text, length)
    return encode_an(text, length)


def build_records(script: CardScript) -> dict[int, list[bytes]]:
    """EF05 and EF06 as lists of TLV records, in file order."""
    data = script.data
    files: dict[int, list[bytes]] = {EF05: [], EF06: []}
    for item in EF05_ITEMS:
        length = script.value_lengths.get(item.tag, item.length)
        files[EF05].append(
            encode_tlv(item.tag, _encode_item(item, getattr(data, item.field), length)))
    name_len = script.value_lengths.get(0x09, 30)
    head = ""
    for char in data.name:  # split at a character boundary, as issuers do
        if len((head + char).encode("gbk")) > name_len:
            break
        head += char
    name_head, name_rest = head.encode("gbk"), data.name[len(head):].encode("gbk")
    for item in EF06_ITEMS:
        length = script.value_lengths.get(item.tag, item.length)
        if item.tag == 0x09:
            value = name_head.ljust(length, b"\x00")
        elif item.tag == 0x4E:
            if not name_rest:
                continue  # no extension record on cards with a short name
            value = name_rest[:length].ljust(length, b"\x00")
        else:
            value = _encode_item(item, getattr(data, item.field), length)
        files[EF06].append(encode_tlv(item.tag, value))
    return files


class CardLogic:
    """The card's command interpreter (no I/O): feed it APDUs, get response APDUs."""

    def __init__(self, script: CardScript) -> None:
        self.script = script
        self.records = build_records(script)
        self.reset()

    def reset(self) -> None:
        self.df = MF
        self.ef: int | None = None
        self._pending = b""  # data waiting for GET RESPONSE

    def _respond(self, data: bytes, via_61: bool) -> bytes:
        if via_61 and data:
            self._pending = data
            return bytes((0x61, len(data) & 0xFF))
        return data + b"\x90\x00"

    def process(self, apdu: bytes) -> bytes:
        if len(apdu) < 4:
            return b"\x67\x00"
        cla, ins, p1, p2 = apdu[:4]
        body = apdu[4:]
        if cla != 0x00:
            return b"\x6E\x00"
        if ins != INS_GET_RESPONSE:
            self._pending = b""  # any other command discards unread response data
        if ins == INS_SELECT:
            return self._select(p1, body)
        if ins == INS_READ_RECORD:
            le = body[-1] if body else 0
            return self._read_record(p1, p2, le)
        if ins == INS_GET_RESPONSE:
            return self._get_response(body[0] if body else 0)
        return b"\x6D\x00"  # VERIFY and everything else: not supported by this card

    def _select(self, p1: int, body: bytes) -> bytes:
        if not body:
            return b"\x67\x00"
        lc = body[0]
        name = body[1:1 + lc]
        if not self.script.applet:
            return b"\x6A\x82"
        if p1 == 0x04:
            if name == SSSE_AID and self.script.ssse_by_name:
                self.df, self.ef = SSSE, None
                fci = encode_tlv(0x6F, encode_tlv(0x84, SSSE_AID))
                return self._respond(fci, self.script.select_61)
            return b"\x6A\x82"
        if p1 in (0x00, 0x02) and len(name) == 2:
            fid = int.from_bytes(name, "big")
            reachable = self.df == SSSE or not self.script.ssse_by_name
            if fid in self.records and reachable:
                self.ef = fid
                return b"\x90\x00"
            if fid == MF:
                self.df, self.ef = MF, None
                return b"\x90\x00"
            return b"\x6A\x82"
        return b"\x6A\x86"

    def _read_record(self, p1: int, p2: int, le: int) -> bytes:
        sfi = p2 >> 3
        if sfi:
            ef = {5: EF05, 6: EF06}.get(sfi)
            if ef is None:
                return b"\x6A\x82"
        elif self.ef is None:
            return b"\x69\x86"
        else:
            ef = self.ef
        records = self.records[ef]
        mode = p2 & 0x07
        if mode == 0x04:
            if not 1 <= p1 <= len(records):
                return b"\x6A\x83"
            record = records[p1 - 1]
        elif mode == 0x00:
            found = [r for r in records if r[0] == p1]
            if not found:
                return b"\x6A\x83"
            record = found[0]
        else:
            return b"\x6A\x86"
        if ef == EF06 and record[0] in self.script.psam_tags:
            return b"\x69\x82"
        if self.script.exact_le and le != (len(record) & 0xFF):
            return bytes((0x6C, len(record) & 0xFF))
        if le and not self.script.exact_le:
            record = record[:le]
        return self._respond(record, self.script.read_via_61)

    def _get_response(self, le: int) -> bytes:
        if not self._pending:
            return b"\x69\x85"
        want = le or 256
        if self.script.chunk:
            want = min(want, self.script.chunk)
        piece, self._pending = self._pending[:want], self._pending[want:]
        if self._pending:
            return piece + bytes((0x61, len(self._pending) & 0xFF))
        return piece + b"\x90\x00"


def _quickack(sock: socket.socket) -> None:
    """ACK at once. vpcd writes a message's length and body separately; with Nagle on its
    side and delayed ACK on ours every APDU would wait ~40 ms. Linux resets the flag, so it
    is set again before every read."""
    quickack = getattr(socket, "TCP_QUICKACK", None)
    if quickack is not None:
        try:
            sock.setsockopt(socket.IPPROTO_TCP, quickack, 1)
        except OSError:
            pass


class SsCardEmulator:
    """A virtual social security card in vpcd's card slot.

    ``insert()`` connects to vpcd (the reader then sees a card), ``remove()`` disconnects and
    joins the serving thread. ``apdus`` lists every command APDU received since construction
    (or :meth:`clear_log`), across insertions.
    """

    def __init__(self, script: CardScript, host: str = VPCD_HOST, port: int = VPCD_PORT) -> None:
        self.script = script
        self.host, self.port = host, port
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._log_lock = threading.Lock()
        self._apdus: list[bytes] = []
        self._logic = CardLogic(script)
        self.powered = False
        #: the card dropped the connection itself (``vanish_after``). pcscd only notices at its
        #: next presence poll (every 400 ms): a card inserted before that is not seen as new.
        self.vanished = False

    # -- control ---------------------------------------------------------------------------
    @property
    def inserted(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def apdus(self) -> list[bytes]:
        with self._log_lock:
            return list(self._apdus)

    def clear_log(self) -> None:
        with self._log_lock:
            self._apdus.clear()

    def use(self, script: CardScript) -> None:
        """Swap the card (only while removed)."""
        if self.inserted:
            raise RuntimeError("remove the card before swapping it")
        self.script = script
        self._logic = CardLogic(script)

    def insert(self, timeout: float = 5.0) -> None:
        """Connect to vpcd; retries until ``timeout`` while vpcd is not listening yet."""
        if self.inserted:
            return
        deadline = time.monotonic() + timeout
        while True:
            try:
                sock = socket.create_connection((self.host, self.port), timeout=1.0)
                break
            except OSError as exc:
                if time.monotonic() >= deadline:
                    raise ConnectionError(
                        f"vpcd is not listening on {self.host}:{self.port}: {exc}") from exc
                time.sleep(0.1)
        sock.settimeout(0.2)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._sock = sock
        self._stop.clear()
        self.vanished = False
        self._logic.reset()
        self._thread = threading.Thread(target=self._serve, name="sscard-emulator", daemon=True)
        self._thread.start()

    def remove(self, timeout: float = 5.0) -> None:
        """Pull the card out: close the connection and join the serving thread."""
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout)
            if thread.is_alive():
                raise RuntimeError("the emulator thread did not stop")
        self._close_socket()

    close = remove

    def __enter__(self) -> SsCardEmulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()

    # -- serving ---------------------------------------------------------------------------
    def _close_socket(self) -> None:
        sock, self._sock = self._sock, None
        if sock is not None:
            try:
                sock.close()
            except OSError:
                pass

    def _recv_exact(self, sock: socket.socket, n: int) -> bytes | None:
        buf = b""
        while len(buf) < n:
            if self._stop.is_set():
                return None
            _quickack(sock)
            try:
                chunk = sock.recv(n - len(buf))
            except TimeoutError:
                continue
            except OSError:
                return None
            if not chunk:
                return None  # vpcd went away (pcscd stopped)
            buf += chunk
        return buf

    def _send(self, sock: socket.socket, body: bytes) -> bool:
        try:
            sock.sendall(len(body).to_bytes(2, "big") + body)
            return True
        except OSError:
            return False

    def _serve(self) -> None:
        sock = self._sock
        assert sock is not None
        count = 0
        try:
            while not self._stop.is_set():
                header = self._recv_exact(sock, 2)
                if header is None:
                    break
                body = self._recv_exact(sock, int.from_bytes(header, "big"))
                if body is None:
                    break
                if len(body) == 1:
                    self._control(sock, body[0])
                    continue
                with self._log_lock:
                    self._apdus.append(body)
                count += 1
                if self.script.vanish_after is not None and count > self.script.vanish_after:
                    self.vanished = True
                    break  # the card is yanked out before answering
                if not self._send(sock, self._logic.process(body)):
                    break
        finally:
            self._close_socket()

    def _control(self, sock: socket.socket, code: int) -> None:
        if code == CTRL_ATR:
            self._send(sock, self.script.atr)
        elif code in (CTRL_OFF, CTRL_ON, CTRL_RESET):
            self.powered = code != CTRL_OFF
            self._logic.reset()
        else:
            log.debug("unknown vpcd control byte %02X", code)


def main(argv: list[str] | None = None) -> int:
    from drivers.smartcard.samples import SAMPLES

    parser = argparse.ArgumentParser(description="serve a fictitious social security card to vpcd")
    parser.add_argument("--card", choices=sorted(SAMPLES), default="v2")
    parser.add_argument("--port", type=int, default=VPCD_PORT)
    parser.add_argument("--psam", action="store_true",
                        help="3.00 behaviour: the name needs a PSAM (answers 6982)")
    args = parser.parse_args(argv)
    script = CardScript(SAMPLES[args.card])
    if args.psam or args.card == "v3_partial":
        script = replace(script, data=SAMPLES["v3"], psam_tags=frozenset({0x09, 0x4E}))
    emulator = SsCardEmulator(script, port=args.port)
    emulator.insert(timeout=10)
    print(f"card {args.card!r} inserted into vpcd on port {args.port}; Ctrl-C removes it")
    try:
        while emulator.inserted:
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    emulator.remove()
    print(f"removed after {len(emulator.apdus)} APDUs")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
