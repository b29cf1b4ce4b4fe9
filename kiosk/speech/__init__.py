"""Offline Mandarin speech for the hall: announcements as WAV files, cached per phrase.

No Kivy and no playback here: this package only makes audio. The calling display (``/display``
on the hall server) and the kiosk's elder-mode voice (issue #15) play what it makes.

    from kiosk.speech import synthesize, call_phrase, spell_ticket

    spell_ticket("A004")                 # "A 零 零 四"  (digit by digit, as halls say it)
    text = call_phrase("A004", "3")      # "请 A 零 零 四 号 到 三 号窗口 办理"
    wav = synthesize(text, cache_dir=Path("/var/cache/aishandong-speech"))   # -> Path

``synthesize`` runs espeak-ng (Debian package ``espeak-ng``, voice ``cmn``) once per distinct
phrase and voice setting and returns the cached file afterwards; it is thread-safe and safe
across processes (atomic rename). Errors are :class:`SpeechError` with a plain message.
See docs/speech.md.
"""

from kiosk.speech.phrases import call_phrase, chinese_number, spell_digits, spell_ticket
from kiosk.speech.synth import (
    EspeakVoice,
    SpeechError,
    Voice,
    default_voice,
    synthesize,
    wav_info,
)

__all__ = ["EspeakVoice", "SpeechError", "Voice", "call_phrase", "chinese_number",
           "default_voice", "spell_digits", "spell_ticket", "synthesize", "wav_info"]
