"""A fleet for terminal-side tests (enrolment, self-test, maintenance re-enrolment): the CA,
a TLS mosquitto with CRL and an ACL the enrolment rewrites, a command-signing key, and
``kiosk-fleet serve`` on a free loopback port (with its ingest worker unless ``ingest=False``).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from fleet.broker import BrokerSpec, MosquittoProcess, free_port
from fleet.commands import new_key, public_b64, save_key
from fleet.enrolment.ca import EnrolmentCA
from fleet.pki import TestCA
from fleet.testing import ServerProcess

BIN = Path(sys.executable).parent
TERMINAL, REGION = "JN-LX-0007", "370102"


@dataclass
class Stack:
    dir: Path
    settings: Path
    url: str
    broker_port: int
    ca: TestCA
    command_public: str
    broker: MosquittoProcess
    server: ServerProcess

    def fleet(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(BIN / "kiosk-fleet"), *args, "--config", str(self.settings)],
                              capture_output=True, text=True, timeout=60)

    def token(self, terminal: str = TERMINAL, *extra: str) -> str:
        result = self.fleet("enrol-token", "create", "--terminal", terminal, "--region", REGION,
                            *extra)
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    @property
    def server_log(self) -> Path:
        return self.dir / "server.log"

    def wait_ingest_subscribed(self, timeout_s: float = 30.0) -> None:
        """Until the server's ingest worker logged its connection (it subscribes there)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if "ingest worker ingest-1 connected" in self.server_log.read_text(errors="replace"):
                return
            time.sleep(0.1)
        raise AssertionError("the fleet's ingest worker did not connect:\n"
                             + self.server_log.read_text(errors="replace")[-2000:])


@contextmanager
def fleet_stack(root: Path, *, ingest: bool = True) -> Iterator[Stack]:
    ca = TestCA(root / "pki")
    ca.init()
    server = ca.server()
    fleet_id = ca.client("fleet")
    EnrolmentCA(root / "pki").write_crl([])
    port = free_port()  # mosquitto cannot take a bound socket; as in fleet.lab
    broker_dir = root / "broker"
    spec = BrokerSpec(broker_dir, port=port, ca_file=ca.ca.cert, cert_file=server.cert,
                      key_file=server.key, terminals=[], fleet_users=["fleet"],
                      extra_lines=[f"crlfile {root / 'pki' / 'crl.pem'}",
                                   f"pid_file {broker_dir / 'mosquitto.pid'}"])
    broker = MosquittoProcess(spec)
    broker.start()
    key = new_key()
    save_key(key, root / "command.pem")
    settings = root / "fleet.toml"
    settings.write_text(
        f'db = "sqlite:///{root / "fleet.db"}"\n'
        f'mqtt = "mqtts://127.0.0.1:{port}"\n'
        f'mqtt_ca = "{ca.ca.cert}"\nmqtt_cert = "{fleet_id.cert}"\nmqtt_key = "{fleet_id.key}"\n'
        f'command_key_file = "{root / "command.pem"}"\n'
        "[enrolment]\n"
        f'ca_dir = "{root / "pki"}"\n'
        f'mqtt_url = "mqtts://127.0.0.1:{port}"\n'
        f'broker_acl_file = "{broker_dir / "acl"}"\n'
        f'broker_pid_file = "{broker_dir / "mosquitto.pid"}"\n')
    server_proc = ServerProcess(["--config", str(settings), *([] if ingest else
                                                              ["--no-ingest"])],
                                log_path=root / "server.log").start()
    try:
        yield Stack(root, settings, server_proc.url, port, ca, public_b64(key), broker,
                    server_proc)
    finally:
        server_proc.stop()
        broker.stop()


def terminal_dir(tmp_path: Path, terminal: str = TERMINAL) -> Path:
    """A deployable terminal config folder (``kiosk.toml``) for ``terminal``, not enrolled."""
    from deploy_helpers import deployable_file

    folder = tmp_path / "etc-kiosk"
    folder.mkdir()
    deployable_file(folder).rename(folder / "kiosk.toml")
    text = (folder / "kiosk.toml").read_text().replace("JN-LX-HALL-0042", terminal)
    (folder / "kiosk.toml").write_text(text)
    return folder


def enrol(folder: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIOSK_")}
    return subprocess.run([str(BIN / "kiosk-provision"), "enrol", "--profile", "hall",
                           "--config", str(folder / "kiosk.toml"), *args],
                          capture_output=True, text=True, timeout=60, env=env)
