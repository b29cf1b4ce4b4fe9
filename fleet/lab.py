"""A complete fleet on loopback for tests, benchmarks and demos: CA, broker, identities.

    with FleetLab(tmp_path, terminals=[("JN-T1", "370102"), ("JN-T2", "370103")]) as lab:
        config = lab.kiosk_config("JN-T1")          # mqtts:// with JN-T1's certificate
        receiver = lab.receiver()                    # the fleet identity, dedupe by id
        lab.broker.stop(); lab.broker.start()        # a real mosquitto, restartable
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from fleet.broker import BrokerSpec, MosquittoProcess, TerminalEntry, free_port, release_port
from fleet.commands import new_key, public_b64
from fleet.pki import TestCA
from fleet.receiver import FleetReceiver


class FleetLab:
    def __init__(self, directory: str | Path,
                 terminals: Iterable[tuple[str, str]] = (("JN-T1", "370102"),),
                 *, plain: bool = False, fleet_user: str = "fleet") -> None:
        self.dir = Path(directory)
        self.terminals = [TerminalEntry(i, r) for i, r in terminals]
        self.fleet_user = fleet_user
        self.ca = TestCA(self.dir / "pki")
        self.ca.init()
        self.server_files = self.ca.server()
        self.identities = {t.id: self.ca.client(t.id) for t in self.terminals}
        self.identities[fleet_user] = self.ca.client(fleet_user)
        self.command_key = new_key()
        self.port = free_port()
        self.plain_port = free_port() if plain else None
        self.spec = BrokerSpec(self.dir / "broker", port=self.port,
                               ca_file=self.ca.ca.cert, cert_file=self.server_files.cert,
                               key_file=self.server_files.key, terminals=self.terminals,
                               fleet_users=[fleet_user], plain_port=self.plain_port)
        self.broker = MosquittoProcess(self.spec)
        self._receivers: list[FleetReceiver] = []

    @property
    def url(self) -> str:
        return f"mqtts://127.0.0.1:{self.port}"

    def region(self, terminal: str) -> str:
        return next(t.region for t in self.terminals if t.id == terminal)

    def tls(self, identity: str) -> dict[str, str]:
        files = self.identities[identity]
        return {"ca_file": str(self.ca.ca.cert), "cert_file": str(files.cert),
                "key_file": str(files.key)}

    def kiosk_config(self, terminal: str, *, health_interval_s: int = 5,
                     fleet: Mapping[str, Any] | None = None, identity: str | None = None
                     ) -> Any:
        """A ``KioskConfig`` for ``terminal`` reporting to this lab's broker over TLS.

        ``identity`` uses another certificate (to test the ACL); ``fleet`` adds settings for
        the ``fleet`` section once it is mounted (the reporter also takes them directly)."""
        from config.schema import KioskConfig

        data: dict[str, Any] = {
            "terminal": {"id": terminal, "region_code": self.region(terminal)},
            "mqtt": {"enabled": True, "url": self.url, "keepalive_s": 5,
                     "health_interval_s": health_interval_s,
                     **self.tls(identity or terminal)},
        }
        return KioskConfig.model_validate(data)

    def fleet_settings(self, **overrides: Any) -> Any:
        from kiosk.telemetry.settings import FleetSettings

        return FleetSettings(command_keys=[public_b64(self.command_key)], **overrides)

    def receiver(self, db_name: str = "fleet.db", client_id: str = "fleet-receiver",
                 identity: str | None = None) -> FleetReceiver:
        receiver = FleetReceiver(self.url, self.dir / db_name, client_id=client_id,
                                 **self.tls(identity or self.fleet_user))
        self._receivers.append(receiver)
        return receiver

    def start(self) -> FleetLab:
        self.broker.start()
        return self

    def close(self) -> None:
        for receiver in self._receivers:
            try:
                receiver.stop()
            except Exception:
                pass
        self._receivers.clear()
        self.broker.stop()
        release_port(self.port)  # the broker is gone for good: the reservations end
        release_port(self.plain_port)

    def __enter__(self) -> FleetLab:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
