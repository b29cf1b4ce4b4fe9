"""The ``[help]`` config section (mounted by config/schema.py): where the terminal stands as
staff know it, and what the screen offers when nobody can be reached."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class HelpConfig(BaseModel):
    """帮办 (call staff): channels, polling, and the fall-backs shown when none answers."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)

    place: str = Field("", max_length=100, description="Where the terminal stands, as staff "
                       "know it (\"A区入口 2号机\"); \"\" = the terminal's name.")
    phone: str = Field("12345", max_length=40, description="The hall's phone number shown "
                       "when no server can be reached.")
    nearest_window: str = Field("一楼 综合咨询窗口", max_length=100, description="The nearest "
                                "staffed window, shown when no server can be reached.")
    poll_s: float = Field(2.0, ge=0.2, le=60, description="Seconds between two questions to "
                          "the hall server whether someone acknowledged the call.")
    accept_timeout_s: float = Field(5.0, ge=0.5, le=60, description="How long the fleet "
                                    "channel waits for the broker to accept the call.")
    unanswered_alarm_s: int = Field(120, ge=10, le=3600, description="The fleet raises an "
                                    "alarm when nobody acknowledges a call within this many "
                                    "seconds (sent with the call, see docs/mqtt.md).")
