"""Every home tile has its own screen and icon: no placeholder page anywhere (#15)."""

from __future__ import annotations

import ast
from pathlib import Path

from kiosk.session.flows import FLOWS

SCREENS = Path(__file__).resolve().parents[2] / "screens"


def _declared_flow_screens() -> dict[str, str]:
    """flow id → module, from ``FLOW_SCREEN = FlowScreenSpec("<flow>", …)`` (no Kivy import)."""
    found = {}
    for path in SCREENS.glob("*.py"):
        tree = ast.parse(path.read_text("utf-8"))
        constants = {t.id: n.value.value for n in ast.walk(tree) if isinstance(n, ast.Assign)
                     and isinstance(n.value, ast.Constant) for t in n.targets
                     if isinstance(t, ast.Name)}
        for node in ast.walk(tree):
            if (isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "FLOW_SCREEN"
                                                     for t in node.targets)
                    and isinstance(node.value, ast.Call) and node.value.args):
                first = node.value.args[0]
                flow = first.value if isinstance(first, ast.Constant) else constants[first.id]
                found[flow] = path.stem
    return found


def test_every_flow_has_its_own_screen_and_there_is_no_placeholder() -> None:
    declared = _declared_flow_screens()
    assert {flow.id for flow in FLOWS} <= set(declared), "a home tile without its own screen"
    assert not (SCREENS / "flow.py").exists() and not (SCREENS / "flow.kv").exists()
    for path in list(SCREENS.glob("*.kv")) + list(SCREENS.glob("*.py")):
        assert "演示占位" not in path.read_text("utf-8"), path.name


def test_every_tile_names_a_vendored_icon() -> None:
    import json

    icons = json.loads((SCREENS / "assets" / "icons" / "icons.json").read_text("utf-8"))
    from fontTools.ttLib import TTFont

    cmap = TTFont(str(SCREENS / "assets" / "icons" / "mdi-subset.ttf")).getBestCmap()
    for flow in FLOWS:
        assert flow.icon in icons, flow.id
    for name, entry in icons.items():
        assert int(entry["codepoint"], 16) in cmap, name  # the subset has every glyph
    assert "Apache" in (SCREENS / "assets" / "icons" / "LICENSE").read_text("utf-8")
