"""Home: big tiles for the services this terminal offers."""

from __future__ import annotations

from typing import Any

from kivy.properties import ListProperty

from screens.base import KioskScreen
from screens.widgets import Tile


class HomeScreen(KioskScreen):
    flows = ListProperty()

    def on_flows(self, *_: Any) -> None:
        grid = self.ids.tiles
        grid.clear_widgets()
        for flow in self.flows:
            grid.add_widget(Tile(flow_id=flow.id, icon=flow.icon, title=flow.title,
                                 subtitle=flow.subtitle))
