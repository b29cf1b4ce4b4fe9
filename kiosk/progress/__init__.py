"""进度查询: look up a person's applications (or one by its handling number) on the service
platform, and the progress slip. No Kivy; the screen is ``screens/progress.py``."""

from kiosk.progress.service import ProgressLookup, lookup_number, lookup_person
from kiosk.progress.slip import PROGRESS_SLIP, progress_slip, timeline

__all__ = ["PROGRESS_SLIP", "ProgressLookup", "lookup_number", "lookup_person",
           "progress_slip", "timeline"]
