"""The kiosk's voice (适老化 voice prompts): speak a screen's main instruction and each step's
result in Mandarin, off the UI thread, cut off when the screen changes.

- :mod:`~kiosk.voice.player`: :class:`VoicePlayer` (one worker thread: synthesise with
  :mod:`kiosk.speech`, then play) and its sinks (sox ``play`` on the sound device, or WAV files
  in a folder for sites without a speaker and for tests);
- :mod:`~kiosk.voice.phrases`: what each screen says;
- :mod:`~kiosk.voice.settings`: the player built from the ``[voice]`` section (``config/voice.py``).
"""

from config.voice import VoiceConfig
from kiosk.voice.phrases import SCREEN_PHRASES, screen_phrase
from kiosk.voice.player import FileSink, PlayRecord, SoxSink, VoicePlayer
from kiosk.voice.settings import build_voice

__all__ = ["SCREEN_PHRASES", "FileSink", "PlayRecord", "SoxSink", "VoiceConfig", "VoicePlayer",
           "build_voice", "screen_phrase"]
