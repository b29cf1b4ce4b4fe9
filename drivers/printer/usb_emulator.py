"""An ESC/POS printer on USB, emulated behind pyusb's backend interface.

``usb.core.find(backend=EmulatedUsbBackend(...))`` enumerates one USB printer-class device
(class 7, bulk OUT 0x01, bulk IN 0x82) whose bulk endpoints speak to the same parser as the
TCP/pty emulator (:class:`drivers.printer.emulator.PrinterEmulator`): jobs are split at cuts
and recorded, ``DLE EOT n`` is answered on the IN endpoint. So ``UsbTransport`` and the
escpos driver run unchanged over pyusb, python-escpos's ``Usb`` class included; only libusb
and the cable are left out. ``unplug()`` makes every later transfer fail as a pulled cable does.
"""

from __future__ import annotations

import errno
import threading
from dataclasses import dataclass, field
from typing import Any

import usb.backend
import usb.core

from drivers.printer.emulator import PrinterEmulator, _Stream

BULK = 0x02
PRINTER_CLASS = 0x07


@dataclass
class _Descriptor:
    """pyusb reads descriptors as plain attributes."""

    values: dict[str, Any] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        try:
            return self.values[name]
        except KeyError:
            raise AttributeError(name) from None


class EmulatedUsbBackend(usb.backend.IBackend):
    def __init__(self, emulator: PrinterEmulator, vendor: int = 0x0416,
                 product: int = 0x5011, in_ep: int = 0x82, out_ep: int = 0x01) -> None:
        self.emulator = emulator
        self.vendor, self.product, self.in_ep, self.out_ep = vendor, product, in_ep, out_ep
        self._stream = _Stream(emulator, "usb")
        self._replies = bytearray()
        self._lock = threading.Condition()
        self.plugged = True
        self.opened = 0
        self.configured: int | None = None
        self.claimed: set[int] = set()

    # -- what the tests do to the device ----------------------------------------------------------
    def unplug(self) -> None:
        with self._lock:
            self.plugged = False
            self._lock.notify_all()

    def _check(self) -> None:
        if not self.plugged:
            raise usb.core.USBError("No such device (it may have been disconnected)",
                                    errno.ENODEV, -4)

    # -- enumeration and descriptors --------------------------------------------------------------
    def enumerate_devices(self) -> Any:
        if self.plugged:
            yield "emulated-printer"

    def get_device_descriptor(self, dev: Any) -> _Descriptor:
        return _Descriptor({
            "bLength": 18, "bDescriptorType": 1, "bcdUSB": 0x0200, "bDeviceClass": 0,
            "bDeviceSubClass": 0, "bDeviceProtocol": 0, "bMaxPacketSize0": 64,
            "idVendor": self.vendor, "idProduct": self.product, "bcdDevice": 0x0100,
            "iManufacturer": 0, "iProduct": 0, "iSerialNumber": 0, "bNumConfigurations": 1,
            "address": 5, "bus": 1, "port_number": 1, "port_numbers": (1,), "speed": 2})

    def get_configuration_descriptor(self, dev: Any, config: int) -> _Descriptor:
        return _Descriptor({
            "bLength": 9, "bDescriptorType": 2, "wTotalLength": 32, "bNumInterfaces": 1,
            "bConfigurationValue": 1, "iConfiguration": 0, "bmAttributes": 0xC0,
            "bMaxPower": 50, "extra_descriptors": []})

    def get_interface_descriptor(self, dev: Any, intf: int, alt: int, config: int
                                 ) -> _Descriptor:
        return _Descriptor({
            "bLength": 9, "bDescriptorType": 4, "bInterfaceNumber": 0, "bAlternateSetting": 0,
            "bNumEndpoints": 2, "bInterfaceClass": PRINTER_CLASS, "bInterfaceSubClass": 1,
            "bInterfaceProtocol": 2, "iInterface": 0, "extra_descriptors": []})

    def get_endpoint_descriptor(self, dev: Any, ep: int, intf: int, alt: int, config: int
                                ) -> _Descriptor:
        address = (self.out_ep, self.in_ep)[ep]
        return _Descriptor({
            "bLength": 7, "bDescriptorType": 5, "bEndpointAddress": address,
            "bmAttributes": BULK, "wMaxPacketSize": 64, "bInterval": 0, "bRefresh": 0,
            "bSynchAddress": 0, "extra_descriptors": []})

    # -- the device's life ------------------------------------------------------------------------
    def open_device(self, dev: Any) -> str:
        self._check()
        self.opened += 1
        return "handle"

    def close_device(self, dev_handle: Any) -> None:
        self.claimed.clear()

    def set_configuration(self, dev_handle: Any, config_value: int) -> None:
        self._check()
        self.configured = config_value

    def get_configuration(self, dev_handle: Any) -> int:
        self._check()
        return self.configured or 0

    def claim_interface(self, dev_handle: Any, intf: int) -> None:
        self._check()
        self.claimed.add(intf)

    def release_interface(self, dev_handle: Any, intf: int) -> None:
        self.claimed.discard(intf)

    def reset_device(self, dev_handle: Any) -> None:
        self._check()

    def is_kernel_driver_active(self, dev_handle: Any, intf: int) -> bool:
        return False

    def detach_kernel_driver(self, dev_handle: Any, intf: int) -> None:
        return None

    # -- bulk transfers: the printer's two pipes --------------------------------------------------
    def bulk_write(self, dev_handle: Any, ep: int, intf: int, data: Any, timeout: int) -> int:
        self._check()
        if ep != self.out_ep:
            raise usb.core.USBError(f"endpoint {ep:#04x} is not the bulk OUT endpoint",
                                    errno.EPIPE, -9)
        reply = self._stream.feed(bytes(data))
        if reply:
            with self._lock:
                self._replies += reply
                self._lock.notify_all()
        return len(data)

    def bulk_read(self, dev_handle: Any, ep: int, intf: int, buff: Any, timeout: int) -> int:
        with self._lock:
            self._lock.wait_for(lambda: self._replies or not self.plugged,
                                timeout=max(timeout, 1) / 1000)
            self._check()
            if not self._replies:
                raise usb.core.USBTimeoutError("Operation timed out", errno.ETIMEDOUT, -7)
            count = min(len(buff), len(self._replies))
            for i in range(count):  # buff is an array.array
                buff[i] = self._replies[i]
            del self._replies[:count]
            return count
