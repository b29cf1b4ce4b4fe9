"""A CJK font the server serves itself, for monitoring desks without Chinese fonts installed.

The stylesheet asks for the system's fonts by name first (``local()``); only a browser that has
none of them downloads ``/static/fonts/cjk``. The file comes from an installed Debian package
(``fonts-droid-fallback``, pulled in by ``fonts-noto-cjk``'s recommends, or
``fonts-wqy-microhei``), or from ``FLEET_CONSOLE_FONT`` when set.
"""

from __future__ import annotations

import os
from pathlib import Path

CANDIDATES = (
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
)


def cjk_font_path() -> Path | None:
    """The first CJK font file that exists, or None."""
    override = os.environ.get("FLEET_CONSOLE_FONT")
    for name in ([override] if override else []) + list(CANDIDATES):
        path = Path(name)
        if path.is_file():
            return path
    return None
