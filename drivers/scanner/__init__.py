"""QR / barcode scanners: interface, fake, serial and keyboard-wedge backends, emulators."""

from drivers.scanner.interface import KIND, SOURCES, CodeScanned, Scanner, mask_payload

BACKENDS: dict[str, str] = {
    "fake": "drivers.scanner.fake:FakeScanner",
    "serial": "drivers.scanner.serial_driver:SerialScanner",
    "wedge": "drivers.scanner.wedge_driver:WedgeScanner",
}

__all__ = ["BACKENDS", "KIND", "SOURCES", "CodeScanned", "Scanner", "mask_payload"]
