"""Kivy must be configured before its first import; everything that does so lives here."""

from __future__ import annotations

import os
import tempfile


def prepare_kivy(width: int, height: int, fullscreen: bool = False, show_cursor: bool = True,
                 maxfps: int = 60, home: str | None = None) -> None:
    """Set Kivy's environment and window config. Call before importing any kivy module."""
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_NO_CONSOLELOG", "0")
    os.environ.setdefault("KIVY_NO_FILELOG", "1")
    os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")
    os.environ.setdefault("KIVY_USE_DEFAULTCONFIG", "1")
    os.environ.setdefault("KIVY_HOME", home or os.path.join(tempfile.gettempdir(), "kiosk-kivy"))
    from kivy.config import Config

    Config.set("graphics", "width", str(width))
    Config.set("graphics", "height", str(height))
    Config.set("graphics", "fullscreen", "auto" if fullscreen else "0")
    Config.set("graphics", "show_cursor", "1" if show_cursor else "0")
    Config.set("graphics", "maxfps", str(maxfps))
    Config.set("graphics", "resizable", "1")
    Config.set("kivy", "exit_on_escape", "0")
    Config.set("input", "mouse", "mouse,disable_multitouch")
