"""Small parsers and checks behind the schema validators (days, times, URLs, hosts).

Each raises ``ValueError`` saying what is wrong; the ``*_WORDS`` constants say what is allowed
and are attached to the schema fields, so error messages and docs show them.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

from config.parts import DAY_NAMES, DAYS_WORDS, parse_days, parse_hhmm

__all__ = ["DAYS_WORDS", "DAY_NAMES", "check_device_url", "is_loopback_host", "parse_days",
           "parse_hhmm"]

TIME_WORDS = '"HH:MM" from 00:00 to 23:59 (close may also be 24:00)'
DEVICE_URL_WORDS = ('"" (driver default), a device path such as /dev/ttyUSB0, or a URL such as '
                    'socket://127.0.0.1:9100, tcp://127.0.0.1:9100, pty:///dev/pts/3, '
                    'usb://0x0416:0x5011 or fake://')

_SCHEME_RE = re.compile(r"^([a-z][a-z0-9+.-]*)://(.*)$")
_USB_RE = re.compile(r"^0x[0-9a-fA-F]{4}:0x[0-9a-fA-F]{4}(/.*)?$")


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
