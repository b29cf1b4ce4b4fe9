"""QR / barcode scanners: interface and fake (serial backends are added beside them)."""

from drivers.scanner.interface import KIND, SOURCES, CodeScanned, Scanner, mask_payload

BACKENDS: dict[str, str] = {
    "fake": "drivers.scanner.fake:FakeScanner",
}

__all__ = ["BACKENDS", "KIND", "SOURCES", "CodeScanned", "Scanner", "mask_payload"]
