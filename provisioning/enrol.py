"""``kiosk-provision enrol``: this terminal's identity with the fleet.

Online::

    kiosk-provision enrol --fleet https://fleet.example --token enr_… [--config FILE]

makes the key pair (private key mode 0600, never leaves the terminal), a CSR whose subject is
the terminal id, has it signed at the fleet's ``POST /enrol/v1`` with the one-time token, checks
what comes back (signed by the CA it names, for this id and this key), installs certificate and
CA next to the key and writes the MQTT URL, the TLS files and the command-signing key into the
config file. Offline, in two steps around ``kiosk-fleet ca sign``::

    kiosk-provision enrol --csr-out JN-LX-0007.csr      # key kept aside, CSR to carry over
    kiosk-provision enrol --install JN-LX-0007.enrol.json
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from provisioning import configfile


class EnrolError(Exception):
    """Enrolment failed; the message says why and what to do."""


@dataclass(frozen=True)
class Paths:
    pki: Path

    @property
    def key(self) -> Path:
        return self.pki / "terminal.key"

    @property
    def pending_key(self) -> Path:
        return self.pki / "terminal.key.pending"

    @property
    def cert(self) -> Path:
        return self.pki / "terminal.pem"

    @property
    def ca(self) -> Path:
        return self.pki / "ca.pem"


def _write(path: Path, data: bytes, mode: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".new")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.chmod(tmp, mode)
    tmp.replace(path)


def new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def make_csr(key: ec.EllipticCurvePrivateKey, terminal_id: str) -> str:
    csr = (x509.CertificateSigningRequestBuilder()
           .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, terminal_id)]))
           .sign(key, hashes.SHA256()))
    return csr.public_bytes(serialization.Encoding.PEM).decode("ascii")


def check_result(result: dict[str, Any], terminal_id: str,
                 key: ec.EllipticCurvePrivateKey) -> None:
    """The certificate is for us (CN, key) and signed by the CA sent with it."""
    from fleet.enrolment.ca import verify_issued

    try:
        cert = x509.load_pem_x509_certificate(result["certificate_pem"].encode())
        ca_ok = verify_issued(result["ca_pem"], result["certificate_pem"])
    except (KeyError, ValueError) as exc:
        raise EnrolError(f"the fleet's answer is not a certificate: {exc}") from None
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if not names or names[0].value != terminal_id:
        raise EnrolError(f"the certificate is not for {terminal_id}")
    ours = key.public_key().public_bytes(serialization.Encoding.DER,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)
    theirs = cert.public_key().public_bytes(serialization.Encoding.DER,
                                            serialization.PublicFormat.SubjectPublicKeyInfo)
    if ours != theirs:
        raise EnrolError("the certificate is for another key than this terminal's")
    if not ca_ok:
        raise EnrolError("the certificate is not signed by the CA the fleet sent")


def install(result: dict[str, Any], key: ec.EllipticCurvePrivateKey, paths: Paths,
            config_file: Path, profile: str | None, fleet_url: str = "") -> Path:
    """Write key, certificate, CA, then the config (validated, with a backup); ``fleet_url``
    (online enrolment) is kept as ``fleet.enrol_url`` for a later re-enrolment."""
    terminal = result["terminal"]
    check_result(result, terminal, key)
    _write(paths.key, key_pem(key), 0o600)
    _write(paths.cert, result["certificate_pem"].encode(), 0o644)
    _write(paths.ca, result["ca_pem"].encode(), 0o644)
    mqtt: dict[str, Any] = {"enabled": True, "ca_file": str(paths.ca),
                            "cert_file": str(paths.cert), "key_file": str(paths.key)}
    if result.get("mqtt_url"):
        mqtt["url"] = result["mqtt_url"]
    if result.get("topic_prefix"):
        mqtt["topic_prefix"] = result["topic_prefix"]
    changes: dict[str, Any] = {"terminal": {"id": terminal,
                                            "region_code": result["region_code"]},
                               "mqtt": mqtt}
    fleet: dict[str, Any] = {}
    if result.get("command_public_key"):
        fleet["command_keys"] = [result["command_public_key"]]
    if fleet_url:
        fleet["enrol_url"] = fleet_url
    if fleet:
        changes["fleet"] = fleet
    return configfile.update(config_file, changes, profile)


def enrol_online(fleet_url: str, token: str, terminal_id: str, paths: Paths, config_file: Path,
                 profile: str | None, fleet_ca: str | None = None,
                 timeout_s: float = 30.0) -> dict[str, Any]:
    import httpx

    key = new_key()
    body = {"token": token, "csr_pem": make_csr(key, terminal_id)}
    url = fleet_url.rstrip("/") + "/enrol/v1"
    try:
        reply = httpx.post(url, json=body, timeout=timeout_s, verify=fleet_ca or True)
    except httpx.HTTPError as exc:
        raise EnrolError(f"cannot reach the fleet at {url}: {exc}") from None
    if reply.status_code != 200:
        try:
            detail = reply.json().get("detail")
        except ValueError:
            detail = reply.text[:200]
        raise EnrolError(f"the fleet refused the enrolment ({reply.status_code}): {detail}")
    result = reply.json()
    if result.get("terminal") != terminal_id:
        raise EnrolError(f"the token is for {result.get('terminal')!r}, this terminal is "
                         f"{terminal_id!r}")
    install(result, key, paths, config_file, profile, fleet_url)
    return result


def write_csr(terminal_id: str, paths: Paths, out: Path) -> Path:
    key = new_key()
    _write(paths.pending_key, key_pem(key), 0o600)
    out.write_text(make_csr(key, terminal_id), encoding="ascii")
    return out


def install_offline(bundle: Path, paths: Paths, config_file: Path,
                    profile: str | None) -> dict[str, Any]:
    if not paths.pending_key.is_file():
        raise EnrolError(f"no pending key in {paths.pki}: run `kiosk-provision enrol --csr-out "
                         "FILE` on this terminal first")
    key = serialization.load_pem_private_key(paths.pending_key.read_bytes(), None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    result = json.loads(bundle.read_text(encoding="utf-8"))
    install(result, key, paths, config_file, profile)
    paths.pending_key.unlink()
    return result


def run(args: Any) -> int:
    from config.errors import ConfigError
    from config.loader import load_config

    config_file = Path(args.config or configfile.DEFAULT_PATH)
    paths = Paths(Path(args.pki_dir) if args.pki_dir else config_file.parent / "pki")
    try:
        terminal = args.terminal or load_config(
            args.profile, config_file if config_file.is_file() else None).terminal.id
        if args.csr_out:
            out = write_csr(terminal, paths, Path(args.csr_out))
            print(f"wrote {out} for {terminal}; sign it with `kiosk-fleet ca sign --csr "
                  f"{out.name} --terminal {terminal} --region CODE --out FILE`, then "
                  "`kiosk-provision enrol --install FILE`")
            return 0
        if args.install:
            result = install_offline(Path(args.install), paths, config_file, args.profile)
        else:
            if not (args.fleet and args.token):
                print("kiosk-provision enrol: give --fleet URL --token TOKEN, or --csr-out / "
                      "--install for the offline way")
                return 3
            result = enrol_online(args.fleet, args.token, terminal, paths, config_file,
                                  args.profile, args.fleet_ca)
    except (EnrolError, ConfigError) as exc:
        print(f"kiosk-provision enrol: {exc}")
        return 1
    print(f"enrolled {result['terminal']} in {result['region_code']}: certificate {paths.cert}, "
          f"broker {result.get('mqtt_url') or '(unchanged)'}; config {config_file} updated "
          f"(previous kept as {config_file.name}.bak)")
    return 0
