"""The fleet's enrolment CA: sign a terminal's CSR, keep the revocation list.

The CA is a directory with ``ca.pem`` and ``ca.key`` (``python -m fleet.pki init`` makes one for
labs and tests; a province uses its own intermediate CA the same way). A terminal's certificate
has the terminal id as Common Name: mosquitto's ``use_identity_as_username`` turns it into the
MQTT user the ACL knows. The CRL (``crl.pem``, mosquitto ``crlfile``) lists revoked serials.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

TERMINAL_ID = re.compile(r"^[A-Za-z0-9-]{3,40}$")


class CsrRefused(ValueError):
    """The CSR cannot be signed; the message says why."""


@dataclass(frozen=True)
class Issued:
    serial: int
    certificate_pem: str
    not_after: dt.datetime


def csr_common_name(csr: x509.CertificateSigningRequest) -> str:
    names = csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(names[0].value) if names else ""


class EnrolmentCA:
    """Sign CSRs and publish the CRL from a CA directory."""

    def __init__(self, directory: str | Path, days: int = 825) -> None:
        self.dir = Path(directory)
        self.days = days

    @property
    def cert_path(self) -> Path:
        return self.dir / "ca.pem"

    @property
    def crl_path(self) -> Path:
        return self.dir / "crl.pem"

    def ca_pem(self) -> str:
        return self.cert_path.read_text(encoding="ascii")

    def _load(self) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
        if not (self.cert_path.is_file() and (self.dir / "ca.key").is_file()):
            raise FileNotFoundError(f"no CA in {self.dir}: create it with `python -m fleet.pki "
                                    f"init --dir {self.dir}` or copy the province's CA there")
        cert = x509.load_pem_x509_certificate(self.cert_path.read_bytes())
        key = serialization.load_pem_private_key((self.dir / "ca.key").read_bytes(), None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise ValueError(f"{self.dir}/ca.key is not an EC private key")
        return cert, key

    def check_csr(self, csr_pem: str | bytes, terminal_id: str) -> x509.CertificateSigningRequest:
        """The parsed CSR when it is well-formed, self-signed and names ``terminal_id``."""
        data = csr_pem.encode("ascii") if isinstance(csr_pem, str) else csr_pem
        try:
            csr = x509.load_pem_x509_csr(data)
        except ValueError as exc:
            raise CsrRefused(f"not a PEM certificate request: {exc}") from None
        if not csr.is_signature_valid:
            raise CsrRefused("the request's signature does not match its key")
        key = csr.public_key()
        if isinstance(key, rsa.RSAPublicKey) and key.key_size < 2048:
            raise CsrRefused("RSA keys need at least 2048 bits")
        if not isinstance(key, ec.EllipticCurvePublicKey | rsa.RSAPublicKey
                          | ed25519.Ed25519PublicKey):
            raise CsrRefused("use an EC (P-256), Ed25519 or RSA key")
        name = csr_common_name(csr)
        if name != terminal_id:
            raise CsrRefused(f"the request is for {name!r}, not for {terminal_id!r}")
        return csr

    def sign(self, csr: x509.CertificateSigningRequest, now: dt.datetime | None = None,
             ) -> Issued:
        ca_cert, ca_key = self._load()
        name = csr_common_name(csr)
        if not TERMINAL_ID.match(name):
            raise CsrRefused(f"{name!r} is not a terminal id (3 to 40 letters, digits, -)")
        now = now or dt.datetime.now(dt.UTC)
        not_after = now + dt.timedelta(days=self.days)
        cert = (x509.CertificateBuilder()
                .subject_name(x509.Name([
                    x509.NameAttribute(NameOID.ORGANIZATION_NAME, "aishandong-kiosk fleet"),
                    x509.NameAttribute(NameOID.COMMON_NAME, name)]))
                .issuer_name(ca_cert.subject).public_key(csr.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(not_after)
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]),
                               critical=False)
                .sign(ca_key, hashes.SHA256()))
        return Issued(cert.serial_number, cert.public_bytes(serialization.Encoding.PEM).decode(),
                      not_after)

    def write_crl(self, revoked: list[tuple[int, dt.datetime]],
                  now: dt.datetime | None = None) -> Path:
        """Write ``crl.pem`` listing ``(serial, revoked at)``; atomically (mosquitto reads it)."""
        ca_cert, ca_key = self._load()
        now = now or dt.datetime.now(dt.UTC)
        builder = (x509.CertificateRevocationListBuilder().issuer_name(ca_cert.subject)
                   .last_update(now - dt.timedelta(minutes=5))
                   .next_update(now + dt.timedelta(days=30)))
        for serial, when in revoked:
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(when)
                .build())
        crl = builder.sign(ca_key, hashes.SHA256())
        tmp = self.crl_path.with_name("crl.pem.new")
        tmp.write_bytes(crl.public_bytes(serialization.Encoding.PEM))
        os.chmod(tmp, 0o644)
        tmp.replace(self.crl_path)
        return self.crl_path


def verify_issued(ca_pem: str, cert_pem: str) -> bool:
    """Whether ``cert_pem`` was signed by the CA in ``ca_pem`` (for the terminal's install)."""
    ca = x509.load_pem_x509_certificate(ca_pem.encode())
    cert = x509.load_pem_x509_certificate(cert_pem.encode())
    try:
        cert.verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True
