"""The ``[voice]`` config section (mounted by config/schema.py) and the player factory."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from kiosk.voice.player import FileSink, SoxSink, VoicePlayer


class VoiceConfig(BaseModel):
    """Voice prompts (适老化): screens' instructions and step results spoken in Mandarin."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)

    enabled: bool = Field(True, description="Whether the terminal speaks at all (elder mode "
                          "and the speaker button).")
    elder_auto: bool = Field(True, description="In elder mode, speak each screen's instruction "
                             "by itself (otherwise only when the speaker button is pressed).")
    volume: float = Field(0.8, ge=0.0, le=1.0, description="Playback volume, 0.0 to 1.0.")
    rate: int = Field(120, ge=80, le=300, description="Speaking rate in words per minute "
                      "(slower than the hall's announcements, for elders).")
    output: Literal["speaker", "files", "none"] = Field(
        "speaker", description="\"speaker\": sox `play` on the sound device; \"files\": WAV "
        "files in <data_dir>/voice-out (terminals without a speaker, tests); \"none\": silent.")
    device: str = Field("", description="ALSA device for \"speaker\" (e.g. \"hw:0\"); \"\" = "
                        "the default device.", json_schema_extra={"allowed": "\"\" or an ALSA "
                                                                  "device name"})


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
