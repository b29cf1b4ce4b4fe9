"""Render a captured ESC/POS job to PNG (``kiosk-provision preview FILE.bin --out FILE.png``).

Captures come from the emulator (``--out DIR``), from ``socat`` between the kiosk and a real
printer, or from a printer's hex dump. The summary says what a picture can hide: characters
the printer font lacks, text the printer had to wrap, graphics wider than the paper.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from drivers.printer.interpreter import EscposInterpreter


def run(infile: str | Path, outfile: str | Path, paper_width_mm: int = 58,
        encoding: str = "gb18030", font_coverage: str = "gbk", out: Any = None) -> int:
    """Render ``infile`` to ``outfile``; 0 when clean, 1 with warnings, 2 when unreadable."""
    out = out or sys.stdout
    try:
        data = Path(infile).read_bytes()
    except OSError as exc:
        out.write(f"cannot read {infile}: {exc.strerror}\n")
        return 2
    rendering = EscposInterpreter(paper_width_mm, encoding, font_coverage).render(data)
    rendering.save(outfile)
    out.write(f"{outfile}: {rendering.image.width}×{rendering.image.height} dots, "
              f"{len(data)} bytes, {rendering.cuts} cut(s), {len(rendering.qr_codes)} QR, "
              f"{len(rendering.barcodes)} barcode(s), {rendering.rasters} raster(s)\n")
    if rendering.missing_glyphs:
        out.write(f"  {len(rendering.missing_glyphs)} character(s) the printer font lacks "
                  "(drawn as boxes)\n")
    for warning in dict.fromkeys(rendering.warnings):
        out.write(f"  warning: {warning}\n")
    return 1 if rendering.warnings or rendering.missing_glyphs else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m provisioning.preview")
    parser.add_argument("infile")
    parser.add_argument("--out", required=True)
    parser.add_argument("--paper-width-mm", "--paper-width", dest="paper_width", type=int,
                        default=58, choices=(58, 80))
    parser.add_argument("--encoding", default="gb18030",
                        choices=("gb18030", "gbk", "gbk_fs", "utf8"))
    args = parser.parse_args(argv)
    return run(args.infile, args.out, args.paper_width, args.encoding)


if __name__ == "__main__":
    sys.exit(main())
