"""帮办: a resident's call for a member of staff, and whether somebody answered.

See :mod:`kiosk.help.service`. No Kivy here.
"""

from config.help import HelpConfig
from kiosk.help.service import (
    FleetHelpChannel,
    HallHelpChannel,
    HelpCall,
    HelpChannel,
    HelpService,
    HelpState,
    HelpUnreachable,
)

__all__ = ["FleetHelpChannel", "HallHelpChannel", "HelpCall", "HelpChannel", "HelpConfig",
           "HelpService", "HelpState", "HelpUnreachable"]
