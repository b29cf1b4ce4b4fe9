"""A small certificate authority for the broker and the terminals (tests, labs, pilots).

Production fleets use the province's PKI; the shape is the same: one CA, one server
certificate for the broker (SAN = its host names and addresses), one client certificate per
terminal whose Common Name is the terminal id (mosquitto ``use_identity_as_username``).

    python -m fleet.pki init --dir pki --server-host 127.0.0.1 --server-host localhost
    python -m fleet.pki client --dir pki JN-LX-0001

Keys are ECDSA P-256, written PEM (PKCS#8, unencrypted, mode 0600).
"""

from __future__ import annotations

import argparse
import datetime as dt
import ipaddress
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclass(frozen=True)
class CertFiles:
    cert: Path
    key: Path


def _write_key(key: ec.EllipticCurvePrivateKey, path: Path) -> None:
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                       serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    os.chmod(path, 0o600)


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "aishandong-kiosk fleet"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


class TestCA:
    """A CA kept in a directory: ``ca.pem`` and ``ca.key``, plus issued certificates."""

    __test__ = False  # not a pytest class

    def __init__(self, directory: str | Path, days: int = 825) -> None:
        self.dir = Path(directory)
        self.days = days
        self.ca = CertFiles(self.dir / "ca.pem", self.dir / "ca.key")

    @property
    def exists(self) -> bool:
        return self.ca.cert.is_file() and self.ca.key.is_file()

    def init(self, common_name: str = "aishandong-kiosk test CA") -> CertFiles:
        self.dir.mkdir(parents=True, exist_ok=True)
        key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.UTC)
        cert = (x509.CertificateBuilder().subject_name(_name(common_name))
                .issuer_name(_name(common_name)).public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - dt.timedelta(minutes=5))
                .not_valid_after(now + dt.timedelta(days=self.days))
                .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                .add_extension(x509.KeyUsage(False, False, False, False, False, True, True,
                                             False, False), critical=True)
                .sign(key, hashes.SHA256()))
        _write_key(key, self.ca.key)
        self.ca.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        return self.ca

    def _load(self) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
        if not self.exists:
            raise FileNotFoundError(f"no CA in {self.dir}; create it with "
                                    f"`python -m fleet.pki init --dir {self.dir}`")
        cert = x509.load_pem_x509_certificate(self.ca.cert.read_bytes())
        key = serialization.load_pem_private_key(self.ca.key.read_bytes(), None)
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        return cert, key

    def issue(self, common_name: str, *, server_hosts: tuple[str, ...] = (),
              name: str | None = None, days: int | None = None,
              valid_from: dt.datetime | None = None) -> CertFiles:
        """A server certificate (``server_hosts`` given) or a client certificate."""
        ca_cert, ca_key = self._load()
        key = ec.generate_private_key(ec.SECP256R1())
        now = valid_from or dt.datetime.now(dt.UTC)
        builder = (x509.CertificateBuilder().subject_name(_name(common_name))
                   .issuer_name(ca_cert.subject).public_key(key.public_key())
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(now - dt.timedelta(minutes=5))
                   .not_valid_after(now + dt.timedelta(days=days or self.days))
                   .add_extension(x509.BasicConstraints(ca=False, path_length=None),
                                  critical=True))
        if server_hosts:
            alt: list[x509.GeneralName] = []
            for host in server_hosts:
                try:
                    alt.append(x509.IPAddress(ipaddress.ip_address(host)))
                except ValueError:
                    alt.append(x509.DNSName(host))
            builder = (builder.add_extension(x509.SubjectAlternativeName(alt), critical=False)
                       .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                                      critical=False))
        else:
            builder = builder.add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        cert = builder.sign(ca_key, hashes.SHA256())
        stem = name or common_name
        files = CertFiles(self.dir / f"{stem}.pem", self.dir / f"{stem}.key")
        _write_key(key, files.key)
        files.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        return files

    def server(self, hosts: tuple[str, ...] = ("127.0.0.1", "localhost")) -> CertFiles:
        return self.issue(hosts[0], server_hosts=hosts, name="server")

    def client(self, terminal_id: str) -> CertFiles:
        return self.issue(terminal_id)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fleet.pki", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="action", required=True)
    init = sub.add_parser("init", help="create the CA and the broker's server certificate")
    init.add_argument("--dir", type=Path, required=True)
    init.add_argument("--server-host", action="append", default=[],
                      help="broker host name or address (repeat); default 127.0.0.1, localhost")
    client = sub.add_parser("client", help="issue a terminal's (or the fleet's) certificate")
    client.add_argument("--dir", type=Path, required=True)
    client.add_argument("name", nargs="+", help="terminal id(s), e.g. JN-LX-0001, or fleet")
    args = parser.parse_args(argv)
    ca = TestCA(args.dir)
    try:
        if args.action == "init":
            if ca.exists:
                print(f"fleet.pki: a CA exists in {args.dir} already; remove it first",
                      file=sys.stderr)
                return 2
            ca.init()
            server = ca.server(tuple(args.server_host) or ("127.0.0.1", "localhost"))
            print(f"CA {ca.ca.cert}\nserver {server.cert} {server.key}")
        else:
            for name in args.name:
                files = ca.client(name)
                print(f"{name}: {files.cert} {files.key}")
    except FileNotFoundError as exc:
        print(f"fleet.pki: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
