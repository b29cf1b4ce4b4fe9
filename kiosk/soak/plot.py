"""The soak's figures as one PNG (Pillow only: no plotting library on a terminal)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

#: (sample field, panel title, unit)
PANELS = (("rss_mb", "RSS", "MB"), ("heap_mb", "Python heap (tracemalloc)", "MB"),
          ("threads", "threads", ""), ("fds", "open file descriptors", ""),
          ("max_ui_cpu_ms", "max UI-thread CPU per frame", "ms"),
          ("sqlite_total_kb", "SQLite files", "KB"))


def write_plot(report: dict[str, Any], path: Path, size: tuple[int, int] = (1200, 800)) -> Path:
    from PIL import Image, ImageDraw

    samples = report["samples"]
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    title = (f"kiosk soak: {report['sessions']} sessions after {report['warmup_sessions']} "
             f"warm-up; RSS growth {report['rss_growth_mb']} MB, threads "
             f"{report['threads_growth']:+d}, fds {report['fds_growth']:+d}, max UI-thread CPU "
             f"{report['max_ui_cpu_ms']} ms per frame")
    draw.text((20, 10), title, fill="black")
    columns, rows = 3, 2
    width, height = (size[0] - 40) // columns, (size[1] - 50) // rows
    xs = [float(s["sessions"]) for s in samples]
    for index, (key, label, unit) in enumerate(PANELS):
        if key == "sqlite_total_kb":
            ys = [sum(s["sqlite_kb"].values()) for s in samples]
        else:
            ys = [float(s[key]) for s in samples]
        left = 20 + (index % columns) * width
        top = 40 + (index // columns) * height
        _panel(draw, (left, top, left + width - 20, top + height - 20), xs, ys,
               f"{label} ({unit})" if unit else label,
               limit=100.0 if key == "max_ui_cpu_ms" else None)
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)
    return path


def _panel(draw: Any, box: tuple[int, int, int, int], xs: Sequence[float], ys: Sequence[float],
           label: str, limit: float | None = None) -> None:
    left, top, right, bottom = box
    draw.rectangle(box, outline="#888888")
    draw.text((left + 6, top + 4), label, fill="black")
    plot = (left + 50, top + 22, right - 10, bottom - 22)
    if not xs:
        return
    low, high = min(ys), max(ys)
    if limit is not None:
        low, high = min(low, 0.0), max(high, limit * 1.1)
    if high - low < 1e-9:
        low, high = low - 1, high + 1
    pad = (high - low) * 0.1
    low, high = low - pad, high + pad
    x0, x1 = min(xs), max(xs) if max(xs) > min(xs) else min(xs) + 1

    def at(x: float, y: float) -> tuple[float, float]:
        px = plot[0] + (x - x0) / (x1 - x0) * (plot[2] - plot[0])
        py = plot[3] - (y - low) / (high - low) * (plot[3] - plot[1])
        return px, py

    draw.text((left + 4, plot[1]), f"{high:.1f}", fill="#444444")
    draw.text((left + 4, plot[3] - 10), f"{low:.1f}", fill="#444444")
    draw.text((plot[0], bottom - 16), f"{x0:.0f}", fill="#444444")
    draw.text((plot[2] - 40, bottom - 16), f"{x1:.0f} sessions", fill="#444444")
    if limit is not None:
        draw.line([at(x0, limit), at(x1, limit)], fill="#cc3333", width=1)
    points = [at(x, y) for x, y in zip(xs, ys, strict=True)]
    if len(points) > 1:
        draw.line(points, fill="#1f5fbf", width=2)
    for px, py in points:
        draw.ellipse((px - 3, py - 3, px + 3, py + 3), fill="#1f5fbf")


def plot_samples(samples_file: Path, path: Path) -> Path:
    """The plot of a run from its ``--samples`` file (a run stopped before its report)."""
    import json

    lines = samples_file.read_text(encoding="utf-8").splitlines()
    samples = [json.loads(line) for line in lines if line.strip()]
    samples = samples[1:] if len(samples) > 1 and samples[0]["sessions"] == 0 else samples
    first, last = samples[0], samples[-1]
    report = {"samples": samples, "sessions": last["sessions"], "warmup_sessions": "the",
              "rss_growth_mb": round(last["rss_mb"] - first["rss_mb"], 2),
              "threads_growth": last["threads"] - first["threads"],
              "fds_growth": last["fds"] - first["fds"],
              "max_ui_cpu_ms": max(s["max_ui_cpu_ms"] for s in samples)}
    return write_plot(report, path)


if __name__ == "__main__":
    import sys

    print(plot_samples(Path(sys.argv[1]), Path(sys.argv[2])))
