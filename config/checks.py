"""Small parsers and checks behind the schema validators (days, times, URLs, hosts).

Each raises ``ValueError`` saying what is wrong; the ``*_WORDS`` constants say what is allowed
and are attached to the schema fields, so error messages and docs show them.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

DAY_NAMES: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAYS_WORDS = ('"daily", day names mon tue wed thu fri sat sun, ranges such as "mon-fri", '
              'or a comma-separated list such as "sat,sun" or "mon-fri,sun"')
TIME_WORDS = '"HH:MM" from 00:00 to 23:59 (close may also be 24:00)'
DEVICE_URL_WORDS = ('"" (driver default), a device path such as /dev/ttyUSB0, or a URL such as '
                    'socket://127.0.0.1:9100, tcp://127.0.0.1:9100, pty:///dev/pts/3, '
                    'usb://0x0416:0x5011 or fake://')

_TIME_RE = re.compile(r"^(\d{2}):(\d{2})$")
_SCHEME_RE = re.compile(r"^([a-z][a-z0-9+.-]*)://(.*)$")
_USB_RE = re.compile(r"^0x[0-9a-fA-F]{4}:0x[0-9a-fA-F]{4}(/.*)?$")


def parse_days(text: str) -> frozenset[int]:
    """``"mon-fri"`` → {0..4}; ``"sat,sun"`` → {5, 6}; ``"daily"`` → all; ranges may wrap."""
    spec = text.strip().lower()
    if spec == "daily":
        return frozenset(range(7))
    days: set[int] = set()
    for part in spec.split(","):
        part = part.strip()
        first, sep, last = part.partition("-")
        if first not in DAY_NAMES or (sep and last not in DAY_NAMES):
            raise ValueError(f"cannot read days {text!r}")
        start = DAY_NAMES.index(first)
        end = DAY_NAMES.index(last) if sep else start
        span = (end - start) % 7
        days.update((start + i) % 7 for i in range(span + 1))
    return frozenset(days)


def parse_hhmm(text: str, allow_24: bool = False) -> int:
    """``"09:30"`` → 570 minutes after midnight; ``"24:00"`` → 1440 when ``allow_24``."""
    match = _TIME_RE.match(text.strip())
    if match:
        hours, minutes = int(match.group(1)), int(match.group(2))
        if hours < 24 and minutes < 60:
            return hours * 60 + minutes
        if allow_24 and hours == 24 and minutes == 0:
            return 24 * 60
    raise ValueError(f"cannot read time {text!r}")


def check_device_url(url: str) -> str:
    """Check the *form* of a device URL; whether the port exists is the driver's business."""
    url = url.strip()
    if url == "" or url.startswith("/") or re.fullmatch(r"COM\d{1,3}", url):
        return url
    match = _SCHEME_RE.match(url)
    if not match:
        raise ValueError(f"cannot read device URL {url!r}")
    scheme, rest = match.groups()
    if scheme in ("socket", "tcp", "rfc2217"):
        parts = urlsplit(url)
        try:
            port = parts.port
        except ValueError:
            port = None
        if not parts.hostname or port is None or port == 0:
            raise ValueError(f"{scheme}:// needs host:port, e.g. {scheme}://127.0.0.1:9100")
    if scheme == "usb" and not _USB_RE.match(rest):
        raise ValueError("usb:// needs vendor and product id, e.g. usb://0x0416:0x5011")
    return url


def is_loopback_host(host: str) -> bool:
    """True for localhost and 127.0.0.0/8 or ::1 literals (the only hosts exempt from TLS)."""
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
