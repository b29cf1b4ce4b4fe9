"""Flow screens declare themselves; the app finds them.

A module under ``screens/`` that defines ``FLOW_SCREEN = FlowScreenSpec(...)`` gets its screen
built at start-up, its ``.kv`` loaded, and the flow it names shown on it (after the identify
step when the flow needs an identity). Every flow has its own screen (a unit test checks it;
there is no generic placeholder page). Flow-specific actions live on the flow's screen class, so
the shared controller does not grow with every flow.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class FlowScreenSpec:
    flow_id: str  # the service id (kiosk.flows)
    screen_name: str  # ScreenManager name
    screen_class: type[Any]
    kv_file: str  # beside the module, in screens/
    #: further screens of the same flow (e.g. the guide detail page): (name, class)
    extra_screens: tuple[tuple[str, type[Any]], ...] = ()


def discover() -> list[FlowScreenSpec]:
    """Every ``FLOW_SCREEN`` in the screens package, in module-name order."""
    import screens

    specs: list[FlowScreenSpec] = []
    for info in sorted(pkgutil.iter_modules(screens.__path__), key=lambda i: i.name):
        if info.name in ("app", "pilot", "bootstrap"):
            continue
        module = importlib.import_module(f"screens.{info.name}")
        spec = getattr(module, "FLOW_SCREEN", None)
        if isinstance(spec, FlowScreenSpec):
            specs.append(spec)
    return specs
