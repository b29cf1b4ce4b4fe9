"""Walk every console page in Chromium: screenshots at the issue's sizes and an axe-core check.

Used by ``kiosk-fleet demo`` and by the browser tests (tests/console/), so that what the
newcomer sees is what the tests looked at.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fleet.console.stack import SIZES, ConsoleStack

AXE = Path(__file__).resolve().parent / "static" / "vendor" / "axe-core" / "axe.min.js"


@dataclass
class Shot:
    name: str
    url: str
    size: tuple[int, int]
    path: Path
    critical: list[dict[str, Any]] = field(default_factory=list)
    serious: list[dict[str, Any]] = field(default_factory=list)


def axe_check(page: Any) -> list[dict[str, Any]]:
    """Run axe-core (WCAG 2 A/AA rules) on the page; returns its violations."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    result = page.evaluate("""async () => {
        const r = await axe.run(document, {resultTypes: ['violations'],
            runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa',
                                            'best-practice']}});
        return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.slice(0, 5).map(n => n.target.join(' '))}));
    }""")
    return list(result)


def wait_for(predicate: Callable[[], bool], timeout: float, what: str,
             interval: float = 0.5, alive: Callable[[], None] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if alive is not None:
            alive()
        if predicate():
            return
        time.sleep(interval)
    raise TimeoutError(f"waited {timeout:.0f} s for {what}")


def wait_for_data(stack: ConsoleStack, page: Any, *, terminals: int, timeout: float = 90
                  ) -> None:
    """Until the overview lists the terminals and a bad review has opened a case."""
    def tiles() -> bool:
        page.goto(f"{stack.url}/overview.json")
        data = json.loads(page.inner_text("body"))
        return data["counts"]["total"] >= terminals

    def a_case() -> bool:
        page.goto(f"{stack.url}/cases?state=all")
        return page.locator("#case-table tr[data-case]").count() > 0

    wait_for(tiles, timeout, f"{terminals} terminals on the overview", alive=stack.check)
    wait_for(a_case, timeout, "a bad review to open a follow-up case", alive=stack.check)


def wait_for_offline_alarm(stack: ConsoleStack, page: Any, timeout: float = 60) -> None:
    from fleet.console.stack import VICTIM

    def raised() -> bool:
        page.goto(f"{stack.url}/alarms?terminal={VICTIM}&type=offline")
        return page.locator(f'#alarm-table tr[data-terminal="{VICTIM}"]').count() > 0

    wait_for(raised, timeout, f"the offline alarm of {VICTIM}", alive=stack.check)


def pages(stack: ConsoleStack, page: Any) -> list[tuple[str, str]]:
    """(name, path) of every page worth a screenshot, with real ids from the running fleet."""
    page.goto(f"{stack.url}/overview.json")
    data = json.loads(page.inner_text("body"))
    ids = [t["id"] for t in data["tiles"]]
    busy = next((t["id"] for t in data["tiles"] if t["state"] == "online"
                 and t["id"].startswith("SIM-")), ids[0])
    page.goto(f"{stack.url}/cases?state=all")
    first_case = page.locator("#case-table tr[data-case]").first.get_attribute("data-case")
    return [("overview", "/"), ("terminal", f"/terminals/{busy}"), ("alarms", "/alarms?state=all"),
            ("ratings", "/ratings"), ("cases", "/cases?state=all"),
            ("case", f"/cases/{first_case}"), ("map", "/map"), ("admin", "/admin/users")]


def shoot(page: Any, url: str, name: str, out: Path, sizes: Iterable[tuple[int, int]] = SIZES,
          *, check: bool = True) -> list[Shot]:
    shots = []
    for width, height in sizes:
        page.set_viewport_size({"width": width, "height": height})
        page.goto(url)
        page.wait_for_load_state("load")
        # charts draw after their data arrives: each marks itself data-ready
        page.wait_for_function("() => [...document.querySelectorAll('.chart, #coordmap, #map')]"
                               ".every(c => c.hasAttribute('data-ready'))", timeout=30_000)
        page.wait_for_timeout(300)
        path = out / f"{name}-{width}x{height}.png"
        page.screenshot(path=str(path), full_page=True)
        shot = Shot(name, url, (width, height), path)
        if check:
            violations = axe_check(page)
            shot.critical = [v for v in violations if v["impact"] == "critical"]
            shot.serious = [v for v in violations if v["impact"] == "serious"]
        shots.append(shot)
    return shots


def walk(stack: ConsoleStack, page: Any, out: Path, *, sizes: Iterable[tuple[int, int]] = SIZES,
         check: bool = True) -> list[Shot]:
    """Log in as admin (who sees every page) and photograph each page, then the overview in
    English and the log-in page."""
    out.mkdir(parents=True, exist_ok=True)
    shots: list[Shot] = []
    page.context.clear_cookies()
    shots += shoot(page, f"{stack.url}/login", "00-login", out, sizes, check=check)
    stack.login(page, "admin")
    for i, (name, path) in enumerate(pages(stack, page), start=1):
        shots += shoot(page, stack.url + path, f"{i:02d}-{name}", out, sizes, check=check)
    page.goto(f"{stack.url}/lang/en?next=/")
    shots += shoot(page, f"{stack.url}/", "20-overview-en", out, sizes, check=check)
    shots += shoot(page, f"{stack.url}/ratings", "21-ratings-en", out, sizes, check=check)
    page.goto(f"{stack.url}/lang/zh?next=/")
    return shots


def report(shots: list[Shot]) -> str:
    lines = []
    for s in shots:
        flag = "" if not s.critical else "  CRITICAL: " + ", ".join(v["id"] for v in s.critical)
        lines.append(f"{s.path.name}  {s.url}{flag}")
    return "\n".join(lines)

