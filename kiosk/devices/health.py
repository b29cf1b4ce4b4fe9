"""Decides when the terminal is out of service, from device health (plain Python)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping

from drivers.base import DeviceHealth, DeviceState

KIND_LABELS = {
    "idcard": "身份证阅读器",
    "smartcard": "社保卡读卡器",
    "printer": "打印机",
    "scanner": "扫码器",
    "camera": "摄像头",
    "ratingpad": "评价器",
}

#: device states as shown to the technician (msgids; English in the .po)
STATE_LABELS = {
    DeviceState.READY: "正常",
    DeviceState.STARTING: "启动中",
    DeviceState.UNAVAILABLE: "不可用",
    DeviceState.STOPPED: "已停止",
    DeviceState.DISABLED: "未配置",
}


class HealthMonitor:
    """A required device unavailable for longer than ``grace_s`` puts the terminal out of service.

    The grace period stops a reconnect blip from flashing the out-of-service screen.
    """

    def __init__(self, required: Iterable[str], grace_s: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.required = tuple(required)
        self.grace_s = grace_s
        self._clock = clock
        self._down_since: dict[str, float] = {}

    def evaluate(self, health: Mapping[str, DeviceHealth]) -> tuple[bool, str]:
        """Returns (out_of_service, the failing kinds joined by commas: "printer,idcard")."""
        now = self._clock()
        down: list[str] = []
        for kind in self.required:
            item = health.get(kind)
            bad = item is not None and item.state is DeviceState.UNAVAILABLE
            if not bad:
                self._down_since.pop(kind, None)
                continue
            since = self._down_since.setdefault(kind, now)
            if now - since >= self.grace_s:
                down.append(kind)
        if not down:
            return False, ""
        return True, ",".join(down)
