"""The voice player built from the ``[voice]`` config section (``config/voice.py``)."""

from __future__ import annotations

from functools import partial
from pathlib import Path

from config.voice import VoiceConfig
from kiosk.voice.player import FileSink, SoxSink, VoicePlayer

__all__ = ["VoiceConfig", "build_voice"]


def build_voice(config: VoiceConfig, data_dir: Path) -> VoicePlayer | None:
    """The player, or None when the terminal is silent."""
    if not config.enabled or config.output == "none":
        return None
    from kiosk.speech import EspeakVoice, synthesize

    voice = EspeakVoice(rate=config.rate)
    synth = partial(synthesize, cache_dir=Path(data_dir) / "speech-cache", voice=voice)
    sink = (SoxSink(config.device) if config.output == "speaker"
            else FileSink(Path(data_dir) / "voice-out"))
    return VoicePlayer(synth, sink, volume=config.volume)
