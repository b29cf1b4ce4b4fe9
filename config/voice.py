"""The ``[voice]`` config section (mounted by config/schema.py); the player is built from it by
:func:`kiosk.voice.settings.build_voice`."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


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

