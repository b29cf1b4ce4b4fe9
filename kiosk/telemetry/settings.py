"""The fleet settings live with the rest of the schema in ``config/fleet.py`` (mounted as the
``fleet`` config section); re-exported here for the telemetry package."""

from config.fleet import FleetSettings, ed25519_public_key

__all__ = ["FleetSettings", "ed25519_public_key"]
