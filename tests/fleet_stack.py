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
from typing import Any

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


@contextmanager
def lab_ingest(lab: Any, folder: Path, timeout_s: float = 60.0) -> Iterator[Path]:
    """``kiosk-fleet ingest`` on a :class:`fleet.lab.FleetLab`'s broker as the fleet identity,
    signing with the lab's command key (the key ``lab.fleet_settings()`` gives terminals);
    yields the fleet database file once the worker is subscribed."""
    folder.mkdir(parents=True, exist_ok=True)
    save_key(lab.command_key, folder / "command.pem")
    tls = lab.tls(lab.fleet_user)
    settings = folder / "fleet.toml"
    settings.write_text(
        f'db = "sqlite:///{folder / "fleet.db"}"\nmqtt = "{lab.url}"\n'
        f'mqtt_ca = "{tls["ca_file"]}"\nmqtt_cert = "{tls["cert_file"]}"\n'
        f'mqtt_key = "{tls["key_file"]}"\ncommand_key_file = "{folder / "command.pem"}"\n')
    out, err = folder / "ingest.out", folder / "ingest.log"
    with out.open("w") as stdout, err.open("w") as stderr:
        proc = subprocess.Popen([str(BIN / "kiosk-fleet"), "ingest", "--config", str(settings)],
                                stdout=stdout, stderr=stderr, text=True)
    try:
        deadline = time.monotonic() + timeout_s
        while "subscribed on" not in out.read_text():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("kiosk-fleet ingest did not subscribe:\n"
                                     + err.read_text()[-2000:])
            time.sleep(0.1)
        yield folder / "fleet.db"
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
