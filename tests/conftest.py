"""Shared test set-up. Kivy reads its environment at first import, so it is set here first."""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("KIVY_NO_ARGS", "1")
os.environ.setdefault("KIVY_USE_DEFAULTCONFIG", "1")
os.environ.setdefault("KIVY_NO_FILELOG", "1")
os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")
os.environ.setdefault("KIVY_HOME", tempfile.mkdtemp(prefix="kiosk-kivy-test-"))
# Terminals keep their outbox and logs under ~/.local/share: give the tests a home of their own.
os.environ["HOME"] = tempfile.mkdtemp(prefix="kiosk-home-test-")
# Never let a developer's own config overrides (KIOSK_<SECTION>__<KEY>, KIOSK_PROFILE) change
# what the tests load; test switches such as KIOSK_BENCH or KIOSK_SCREENSHOT_DIR stay.
for _name in [n for n in os.environ if n.startswith("KIOSK_") and ("__" in n
                                                                   or n == "KIOSK_PROFILE")]:
    del os.environ[_name]

# Configure Kivy before any test module imports it (the clock reads maxfps when first
# imported): the pilot pumps frames itself and must not be throttled to 60 fps.
from screens.bootstrap import prepare_kivy  # noqa: E402

prepare_kivy(1920, 1080, maxfps=0)
