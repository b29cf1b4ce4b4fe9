"""Enrolment end to end: the fleet server and its CA, a one-time token, `kiosk-provision enrol`,
the kiosk on a TLS mosquitto with the issued certificate under its ACL; expired, reused and
wrong tokens refused; a revoked terminal refused by the broker (CRL + ACL, SIGHUP)."""

from __future__ import annotations

import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from fleet_stack import REGION, TERMINAL, Stack, enrol, fleet_stack
from fleet_stack import terminal_dir as _terminal_dir
from paho.mqtt.enums import CallbackAPIVersion

from config import load_config
from fleet.pki import TestCA

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with fleet_stack(tmp_path_factory.mktemp("enrol"), ingest=False) as built:
        yield built


class Mqtt:
    """A paho client with a certificate; records what it receives."""

    def __init__(self, port: int, ca: str, cert: str, key: str, client_id: str) -> None:
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id)
        self.client.tls_set(ca_certs=ca, certfile=cert, keyfile=key,
                            tls_version=ssl.PROTOCOL_TLS_CLIENT)
        self.connected = threading.Event()
        self.failed = threading.Event()
        self.messages: list[tuple[str, bytes]] = []
        self.got = threading.Event()
        self.subscribed = threading.Event()
        self.granted: list[int] = []
        self.client.on_connect = lambda _c, _u, _f, rc, _p: (
            self.connected if not rc.is_failure else self.failed).set()
        self.client.on_message = self._message
        self.client.on_subscribe = self._subscribed
        self.port = port

    def _message(self, _c, _u, message) -> None:
        self.messages.append((message.topic, message.payload))
        self.got.set()

    def _subscribed(self, _c, _u, _mid, codes, _p) -> None:
        self.granted = [c.value for c in codes]
        self.subscribed.set()

    def connect(self) -> bool:
        try:
            self.client.connect("127.0.0.1", self.port, keepalive=10)
        except (ssl.SSLError, OSError):
            return False
        self.client.loop_start()
        self.connected.wait(5)
        return self.connected.is_set()

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def _fleet_listener(stack: Stack) -> Mqtt:
    fleet_files = stack.ca.dir
    listener = Mqtt(stack.broker_port, str(stack.ca.ca.cert), str(fleet_files / "fleet.pem"),
                    str(fleet_files / "fleet.key"), "fleet-test-listener")
    assert listener.connect()
    listener.client.subscribe("kiosk/v1/#", qos=1)
    assert listener.subscribed.wait(5)
    return listener


def test_enrolled_kiosk_reports_under_its_acl_and_revocation_shuts_it_out(
        stack: Stack, tmp_path: Path) -> None:
    terminal_dir = _terminal_dir(tmp_path)
    token = stack.token()
    result = enrol(terminal_dir, "--fleet", stack.url, "--token", token)
    assert result.returncode == 0, result.stdout + result.stderr
    pki = terminal_dir / "pki"
    assert (pki / "terminal.key").stat().st_mode & 0o777 == 0o600
    assert (terminal_dir / "kiosk.toml.bak").is_file()  # the previous config is kept

    config = load_config("hall", terminal_dir / "kiosk.toml", env={})
    assert config.mqtt.url == f"mqtts://127.0.0.1:{stack.broker_port}"
    assert config.mqtt.cert_file == str(pki / "terminal.pem")
    assert config.fleet.command_keys == [stack.command_public]
    assert config.terminal.region_code == REGION

    # the kiosk's own reporter, on the broker, with the issued certificate
    from kiosk.telemetry.reporter import Reporter

    listener = _fleet_listener(stack)
    reporter = Reporter(config, lambda: {}, tmp_path / "outbox.db")
    reporter.check()
    reporter.start()
    try:
        assert listener.got.wait(10)
        assert f"kiosk/v1/{REGION}/{TERMINAL}/state" in {t for t, _ in listener.messages}
    finally:
        reporter.stop()
    listener.messages.clear()
    listener.got.clear()
    kiosk = Mqtt(stack.broker_port, config.mqtt.ca_file, config.mqtt.cert_file,
                 config.mqtt.key_file, TERMINAL)
    try:
        assert kiosk.connect()
        own = f"kiosk/v1/{REGION}/{TERMINAL}/event"
        other = f"kiosk/v1/{REGION}/JN-LX-0008/event"
        kiosk.client.publish(other, b'{"forged": true}', qos=1).wait_for_publish(5)
        kiosk.client.publish(own, b'{"hello": 1}', qos=1).wait_for_publish(5)
        assert listener.got.wait(5)
        assert [t for t, _ in listener.messages] == [own]  # the ACL let through only its own

        revoked = stack.fleet("terminal", "revoke", TERMINAL)
        assert revoked.returncode == 0, revoked.stderr
        assert "revoked 1 certificate" in revoked.stdout
        # a new connection with the revoked certificate fails the TLS handshake (CRL) ...
        again = Mqtt(stack.broker_port, config.mqtt.ca_file, config.mqtt.cert_file,
                     config.mqtt.key_file, TERMINAL + "-again")
        assert not again.connect()
        again.close()
        # ... and the connection it still holds may no longer publish (ACL entry gone)
        listener.messages.clear()
        listener.got.clear()
        kiosk.client.publish(own, b'{"after": 1}', qos=1).wait_for_publish(5)
        marker = Mqtt(stack.broker_port, str(stack.ca.ca.cert), str(stack.ca.dir / "fleet.pem"),
                      str(stack.ca.dir / "fleet.key"), "fleet-marker")
        assert marker.connect()
        marker.client.publish(f"kiosk/v1/{REGION}/MARK-0001/cmd", b"mark", qos=1
                              ).wait_for_publish(5)
        assert listener.got.wait(5)
        assert [t for t, _ in listener.messages] == [f"kiosk/v1/{REGION}/MARK-0001/cmd"]
        marker.close()
    finally:
        kiosk.close()
        listener.close()
    assert "JN-LX-0007" not in (stack.dir / "broker" / "acl").read_text()


def test_reused_wrong_and_mismatched_tokens_are_refused(stack: Stack, tmp_path: Path) -> None:
    terminal_dir = _terminal_dir(tmp_path)
    token = stack.token("JN-LX-0009")
    mismatched = enrol(terminal_dir, "--fleet", stack.url, "--token", token)
    assert mismatched.returncode == 1
    assert "the request is for 'JN-LX-0007', not for 'JN-LX-0009'" in mismatched.stdout
    wrong = enrol(terminal_dir, "--fleet", stack.url, "--token", "enr_not-a-real-token-at-all")
    assert wrong.returncode == 1 and "unknown enrolment token" in wrong.stdout
    good = stack.token()
    assert enrol(terminal_dir, "--fleet", stack.url, "--token", good).returncode == 0
    reused = enrol(terminal_dir, "--fleet", stack.url, "--token", good)
    assert reused.returncode == 1 and "used already" in reused.stdout
    assert not (terminal_dir / "pki" / "terminal.key.new").exists()


def test_offline_enrolment_with_ca_sign(stack: Stack, tmp_path: Path) -> None:
    terminal_dir = _terminal_dir(tmp_path)
    csr = tmp_path / "JN-LX-0007.csr"
    assert enrol(terminal_dir, "--csr-out", str(csr)).returncode == 0
    assert (terminal_dir / "pki" / "terminal.key.pending").stat().st_mode & 0o777 == 0o600
    bundle = tmp_path / "JN-LX-0007.enrol.json"
    signed = stack.fleet("ca", "sign", "--csr", str(csr), "--terminal", TERMINAL, "--region",
                         REGION, "--out", str(bundle))
    assert signed.returncode == 0, signed.stderr
    assert enrol(terminal_dir, "--install", str(bundle)).returncode == 0
    config = load_config("hall", terminal_dir / "kiosk.toml", env={})
    kiosk = Mqtt(stack.broker_port, config.mqtt.ca_file, config.mqtt.cert_file,
                 config.mqtt.key_file, TERMINAL + "-offline")
    try:
        assert kiosk.connect()
    finally:
        kiosk.close()
    # a CSR for another id than the one signed for is refused
    wrong = stack.fleet("ca", "sign", "--csr", str(csr), "--terminal", "JN-LX-0099",
                        "--region", REGION, "--out", str(tmp_path / "x.json"))
    assert wrong.returncode == 2
    assert "the request is for 'JN-LX-0007', not for 'JN-LX-0099'" in wrong.stderr


def test_an_expired_token_is_refused(tmp_path: Path) -> None:
    """Through the app itself with the service clock moved past the expiry."""
    from fastapi.testclient import TestClient

    from fleet.app import Services, create_app
    from fleet.db import Database
    from fleet.enrolment.ca import EnrolmentCA
    from fleet.settings import Settings
    from provisioning.enrol import make_csr, new_key

    ca = TestCA(tmp_path / "pki")
    ca.init()
    EnrolmentCA(tmp_path / "pki").write_crl([])
    settings = Settings(db=f"sqlite:///{tmp_path / 'f.db'}",
                        enrolment={"ca_dir": str(tmp_path / "pki"), "token_ttl_s": 60})
    db = Database(settings.db)
    db.upgrade()
    now = [1_800_000_000_000]
    app = create_app(services=Services(settings=settings, db=db, clock=lambda: now[0]))
    enrolment = app.state.services.extra["enrolment"]
    with db.session() as session:
        secret, expires = enrolment.create_token(session, TERMINAL, REGION, now[0])
    assert expires == now[0] + 60_000
    now[0] = expires  # the first millisecond after its lifetime
    with TestClient(app) as client:
        reply = client.post("/enrol/v1", json={"token": secret,
                                               "csr_pem": make_csr(new_key(), TERMINAL)})
        assert reply.status_code == 403 and "expired" in reply.json()["detail"]
        now[0] = expires - 1  # still valid a millisecond earlier
        reply = client.post("/enrol/v1", json={"token": secret,
                                               "csr_pem": make_csr(new_key(), TERMINAL)})
        assert reply.status_code == 200 and reply.json()["terminal"] == TERMINAL
        # making tokens over HTTP needs an admin
        assert client.post("/enrol/v1/tokens", json={"terminal": TERMINAL,
                                                     "region_code": REGION}).status_code == 401
    db.dispose()
