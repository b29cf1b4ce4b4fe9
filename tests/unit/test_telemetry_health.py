"""The health collector: probes, device values, change signature."""

from __future__ import annotations

from pathlib import Path

from drivers.base import DeviceHealth, DeviceState
from kiosk.telemetry.health import HealthCollector, SystemProbe


def fake_proc(tmp_path: Path, busy: int, idle: int) -> Path:
    proc = tmp_path / "proc"
    proc.mkdir(exist_ok=True)
    (proc / "stat").write_text(f"cpu  {busy} 0 0 {idle} 0 0 0 0 0 0\ncpu0 1 2 3 4\n")
    (proc / "meminfo").write_text("MemTotal:  8000000 kB\nMemAvailable: 2000000 kB\n")
    (proc / "uptime").write_text("1234.56 99.0\n")
    return proc


def test_probe_reads_proc_and_thermal(tmp_path: Path) -> None:
    proc = fake_proc(tmp_path, 100, 900)
    thermal = tmp_path / "thermal"
    for i, milli in enumerate(("41000", "55500", "bogus")):
        (thermal / f"thermal_zone{i}").mkdir(parents=True)
        (thermal / f"thermal_zone{i}" / "temp").write_text(milli)
    probe = SystemProbe(tmp_path, proc=proc, thermal=thermal)
    assert probe.cpu_percent() is None  # needs two samples
    fake_proc(tmp_path, 150, 950)
    assert probe.cpu_percent() == 50.0
    assert probe.memory() == {"total_mb": 7812, "available_mb": 1953, "used_percent": 75.0}
    assert probe.uptime_s() == 1234.6
    assert probe.temperature_c() == 55.5
    assert probe.disk()["total_gb"] > 0


def test_probe_without_sensors_says_null(tmp_path: Path) -> None:
    probe = SystemProbe(tmp_path, proc=tmp_path / "none", thermal=tmp_path / "none")
    assert probe.temperature_c() is None and probe.memory() is None
    assert probe.cpu_percent() is None and probe.uptime_s() is None


def test_signature_changes_with_state_paper_and_errors() -> None:
    devices = {"printer": DeviceHealth("printer", "escpos", DeviceState.READY,
                                       detail={"paper": "ok"})}
    collector = HealthCollector(lambda: dict(devices))
    first = collector.signature()
    assert collector.signature() == first
    devices["printer"] = DeviceHealth("printer", "escpos", DeviceState.READY,
                                      detail={"paper": "near_end"})
    second = collector.signature()
    assert second != first
    collector.note_error("printer", "jam")
    assert collector.signature() != second
    values, sig = collector.collect()
    assert values["last_error"]["message"] == "jam" and sig == collector.signature()


def test_a_failing_provider_is_an_error_not_a_crash() -> None:
    def broken() -> dict:
        raise RuntimeError("device manager gone")

    collector = HealthCollector(broken)
    values, _ = collector.collect()
    assert values["devices"] == {}
    assert "device manager gone" in values["last_error"]["message"]
