"""Fleet telemetry over MQTT: presence, birth, health, ratings, events and remote commands.

The composition root uses :class:`Reporter`; everything else here is its parts (topics,
payloads, the health collector, command verification). No Kivy.
"""

from kiosk.telemetry.commands import Command, CommandRefused, CommandResult
from kiosk.telemetry.reporter import Reporter, ReporterError
from kiosk.telemetry.settings import FleetSettings
from kiosk.telemetry.topics import Topics

__all__ = ["Command", "CommandRefused", "CommandResult", "FleetSettings", "Reporter",
           "ReporterError", "Topics"]
