"""APDU building blocks for reading social security cards (ISO 7816-4, LD/T 32).

Pure functions and one small channel class, no PC/SC: the reader logic is written against a
``transmit(apdu) -> (data, sw1, sw2)`` callable so that it runs the same over pyscard, over
the emulator or against a test double.

Safety rule (PROTOCOLS §2): a kiosk never sends VERIFY. Every APDU this package builds or sends
goes through :func:`check_allowed`, which accepts only read-only instructions and raises
:class:`ForbiddenApdu` for anything else, naming VERIFY (INS 0x20) explicitly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

#: ``transmit(apdu) -> (response data, sw1, sw2)``; raises on transport failure.
Transmit = Callable[[bytes], tuple[bytes, int, int]]

INS_VERIFY = 0x20
INS_SELECT = 0xA4
INS_READ_BINARY = 0xB0
INS_READ_RECORD = 0xB2
INS_GET_RESPONSE = 0xC0
INS_GET_DATA = 0xCA

#: The only instructions a kiosk may send to a citizen's card: all of them read-only.
ALLOWED_INS: frozenset[int] = frozenset(
    {INS_SELECT, INS_READ_BINARY, INS_READ_RECORD, INS_GET_RESPONSE, INS_GET_DATA})

#: Instructions that touch the PIN: each try counts towards locking the citizen's card.
PIN_INS: dict[int, str] = {
    0x20: "VERIFY",
    0x24: "CHANGE REFERENCE DATA",
    0x2C: "RESET RETRY COUNTER",
}

SW_OK = (0x90, 0x00)

#: status words in plain words (for logs and technicians; no personal data in them)
SW_TEXT: dict[int, str] = {
    0x6281: "part of the data may be corrupted",
    0x6700: "wrong length",
    0x6982: "security status not satisfied (needs a PSAM or PIN)",
    0x6983: "authentication method blocked",
    0x6985: "conditions of use not satisfied",
    0x6986: "command not allowed (no current file)",
    0x6A81: "function not supported",
    0x6A82: "file or application not found",
    0x6A83: "record not found",
    0x6A86: "incorrect P1/P2",
    0x6B00: "wrong parameters",
    0x6D00: "instruction not supported",
    0x6E00: "class not supported",
    0x9000: "ok",
}

#: how many GET RESPONSE rounds one command may take before the card is declared broken
MAX_GET_RESPONSE = 16


class ApduError(Exception):
    """A malformed APDU or card answer."""


class ForbiddenApdu(ApduError):
    """Raised whenever code tries to build or send a non-read-only APDU (VERIFY above all)."""


def sw_text(sw1: int, sw2: int) -> str:
    """``6A82`` → ``"6A82 file or application not found"``."""
    sw = (sw1 << 8) | sw2
    if sw1 == 0x61:
        text = f"{sw2} more bytes available"
    elif sw1 == 0x6C:
        text = f"wrong Le, the card has {sw2 or 256} bytes"
    elif sw1 == 0x63 and sw2 & 0xF0 == 0xC0:
        text = f"verification failed, {sw2 & 0x0F} tries left"
    else:
        text = SW_TEXT.get(sw, "unknown status")
    return f"{sw:04X} {text}"


def check_allowed(apdu: bytes) -> None:
    """Raise :class:`ForbiddenApdu` unless ``apdu`` is a read-only command."""
    if len(apdu) < 4:
        raise ApduError(f"an APDU has at least 4 bytes, got {len(apdu)}")
    ins = apdu[1]
    if ins in PIN_INS:
        raise ForbiddenApdu(
            f"refusing to send {PIN_INS[ins]} (INS {ins:02X}): a kiosk never presents a PIN; "
            "a wrong try counts towards locking the citizen's card")
    if ins not in ALLOWED_INS:
        raise ForbiddenApdu(f"refusing INS {ins:02X}: only read-only commands are allowed")


def build_apdu(cla: int, ins: int, p1: int, p2: int, data: bytes = b"",
               le: int | None = None) -> bytes:
    """A short APDU (cases 1-4). ``le`` 1..256 (256 is encoded as 00); ``None`` for no Le."""
    for name, value in (("CLA", cla), ("INS", ins), ("P1", p1), ("P2", p2)):
        if not 0 <= value <= 0xFF:
            raise ApduError(f"{name} out of range: {value}")
    if len(data) > 255:
        raise ApduError("data longer than 255 bytes needs an extended APDU")
    apdu = bytes((cla, ins, p1, p2))
    if data:
        apdu += bytes((len(data),)) + data
    if le is not None:
        if not 1 <= le <= 256:
            raise ApduError(f"Le out of range: {le}")
        apdu += bytes((le & 0xFF,))
    check_allowed(apdu)
    return apdu


def select_by_name(aid: bytes) -> bytes:
    """SELECT a DF by name (``00 A4 04 00 Lc name``)."""
    return build_apdu(0x00, INS_SELECT, 0x04, 0x00, aid)


def select_ef(fid: int) -> bytes:
    """SELECT an EF under the current DF (``00 A4 02 00 02 fid``)."""
    return build_apdu(0x00, INS_SELECT, 0x02, 0x00, fid.to_bytes(2, "big"))


def read_record_by_number(record: int, le: int) -> bytes:
    """READ RECORD ``record`` of the current EF (``00 B2 rr 04 Le``)."""
    return build_apdu(0x00, INS_READ_RECORD, record, 0x04, le=le)


def read_record_by_tag(tag: int, le: int) -> bytes:
    """READ RECORD: first record whose identifier (TLV tag) is ``tag`` (``00 B2 tag 00 Le``)."""
    return build_apdu(0x00, INS_READ_RECORD, tag, 0x00, le=le)


def get_response(le: int) -> bytes:
    """GET RESPONSE (``00 C0 00 00 Le``); ``le`` 0 means 256."""
    return build_apdu(0x00, INS_GET_RESPONSE, 0x00, 0x00, le=le or 256)


def with_le(apdu: bytes, le: int) -> bytes:
    """The same command with its Le replaced (or added) — for a 6Cxx answer."""
    check_allowed(apdu)
    if len(apdu) == 4:
        body = apdu
    elif len(apdu) == 5:  # case 2: the fifth byte is Le
        body = apdu[:4]
    else:
        lc = apdu[4]
        body = apdu[:5 + lc]
    return body + bytes((le & 0xFF,))


# -- TLV ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Tlv:
    tag: int
    value: bytes


def parse_tlv(data: bytes) -> list[Tlv]:
    """Parse simple TLV (1-byte tag, length in 1 byte or ``81 xx``/``82 xx xx``).

    Trailing 00 or FF padding after the last item is ignored.
    """
    items: list[Tlv] = []
    i = 0
    while i < len(data):
        tag = data[i]
        if tag in (0x00, 0xFF) and all(b == tag for b in data[i:]):
            break  # padding
        if i + 1 >= len(data):
            raise ApduError(f"TLV truncated after tag {tag:02X}")
        length = data[i + 1]
        i += 2
        if length == 0x81:
            if i >= len(data):
                raise ApduError("TLV length truncated")
            length = data[i]
            i += 1
        elif length == 0x82:
            if i + 1 >= len(data):
                raise ApduError("TLV length truncated")
            length = int.from_bytes(data[i:i + 2], "big")
            i += 2
        elif length > 0x82:
            raise ApduError(f"unsupported TLV length byte {length:02X}")
        if i + length > len(data):
            raise ApduError(f"TLV {tag:02X} says {length} bytes, only {len(data) - i} left")
        items.append(Tlv(tag, data[i:i + length]))
        i += length
    return items


def tlv_value(data: bytes, tag: int) -> bytes:
    """The value of the first item with ``tag`` (a record read by tag holds exactly one)."""
    for item in parse_tlv(data):
        if item.tag == tag:
            return item.value
    raise ApduError(f"tag {tag:02X} not in the card's answer")


def encode_tlv(tag: int, value: bytes) -> bytes:
    if len(value) < 0x80:
        return bytes((tag, len(value))) + value
    if len(value) <= 0xFF:
        return bytes((tag, 0x81, len(value))) + value
    return bytes((tag, 0x82)) + len(value).to_bytes(2, "big") + value


# -- value encodings ---------------------------------------------------------------------------
def decode_bcd(value: bytes) -> str:
    """``cn`` items: BCD digits, padded with F (``19 85 06 12`` → ``"19850612"``)."""
    digits = value.hex().upper()
    digits = digits.rstrip("F")
    if not digits.isdigit() and digits:
        raise ApduError("not a BCD value")
    return digits


def encode_bcd(digits: str, length: int) -> bytes:
    """Digits into ``length`` bytes of BCD, right-padded with F."""
    if not digits.isdigit() and digits:
        raise ValueError("BCD takes digits only")
    if len(digits) > 2 * length:
        raise ValueError(f"{len(digits)} digits do not fit {length} bytes")
    return bytes.fromhex(digits.ljust(2 * length, "F"))


def decode_an(value: bytes) -> str:
    """``an`` items: GBK text padded with 00 (or spaces); GB18030 decodes rare name characters.

    Undecodable bytes become U+FFFD rather than failing the whole card.
    """
    value = value.rstrip(b"\x00\xff").strip(b" ")
    return value.decode("gb18030", errors="replace").strip()


def encode_an(text: str, length: int) -> bytes:
    """Text into ``length`` bytes of GBK, right-padded with 00."""
    raw = text.encode("gbk")
    if len(raw) > length:
        raise ValueError(f"{len(raw)} bytes do not fit {length}")
    return raw.ljust(length, b"\x00")


# -- the channel ---------------------------------------------------------------------------------
class CardChannel:
    """Sends commands through ``transmit`` and handles the transport-level status words.

    - every APDU is checked by :func:`check_allowed` right before it leaves (so VERIFY cannot
      be sent even as hand-made bytes);
    - ``61xx`` → GET RESPONSE with Le = xx, repeated while the card says more is available,
      the pieces joined;
    - ``6Cxx`` → the same command again with Le = xx (once).

    ``sent`` counts every APDU that went out (for timings in the provisioning check).
    """

    def __init__(self, transmit: Transmit) -> None:
        self._transmit = transmit
        self.sent = 0

    def _raw(self, apdu: bytes) -> tuple[bytes, int, int]:
        check_allowed(apdu)
        self.sent += 1
        data, sw1, sw2 = self._transmit(apdu)
        return bytes(data), sw1, sw2

    def send(self, apdu: bytes) -> tuple[bytes, int, int]:
        data, sw1, sw2 = self._raw(apdu)
        if sw1 == 0x6C:
            data, sw1, sw2 = self._raw(with_le(apdu, sw2))
        rounds = 0
        while sw1 == 0x61:
            rounds += 1
            if rounds > MAX_GET_RESPONSE:
                raise ApduError("the card keeps answering 61xx: giving up")
            more, sw1, sw2 = self._raw(get_response(sw2))
            if sw1 == 0x6C:  # some cards want the GET RESPONSE Le corrected too
                more, sw1, sw2 = self._raw(get_response(sw2))
            data += more
        return data, sw1, sw2
