"""Enrolment as a service layer (no HTTP): tokens, signing, registering, revoking.

Called by the API router (``fleet/enrolment/api.py``) and the ``kiosk-fleet`` commands alike.
Errors are :mod:`fleet.auth`'s: :class:`Forbidden` for a token that is unknown, used or expired
(HTTP 403), :class:`Invalid` for a bad request (HTTP 422).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from fleet.auth import Forbidden, Invalid, NotFound
from fleet.enrolment.broker import BrokerLink
from fleet.enrolment.ca import CsrRefused, EnrolmentCA
from fleet.enrolment.models import EnrolmentToken, TerminalCertificate
from fleet.enrolment.settings import EnrolmentSettings
from fleet.models import Terminal

log = logging.getLogger(__name__)
_TERMINAL = re.compile(r"^[A-Za-z0-9-]{3,40}$")
_REGION = re.compile(r"^\d{6}$")


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _check_ids(terminal: str, region: str) -> None:
    if not _TERMINAL.match(terminal or ""):
        raise Invalid(f"terminal {terminal!r}: 3 to 40 letters, digits or -, e.g. JN-LX-0001")
    if not _REGION.match(region or ""):
        raise Invalid(f"region {region!r}: the 6-digit 行政区划代码, e.g. 370102")


@dataclass
class Enrolment:
    """What enrolment needs besides the database session."""

    settings: EnrolmentSettings
    topic_prefix: str = "kiosk/v1"
    command_public_key: str = ""  # base64 Ed25519, for the terminals' fleet.command_keys

    @property
    def ca(self) -> EnrolmentCA:
        if not self.settings.ca_dir:
            raise Invalid("enrolment is off: set [enrolment] ca_dir in the fleet settings")
        return EnrolmentCA(self.settings.ca_dir, days=self.settings.cert_days)

    @property
    def broker(self) -> BrokerLink:
        return BrokerLink(self.settings.broker_acl_file, self.settings.broker_pid_file,
                          self.settings.fleet_users, self.topic_prefix)

    # -- tokens ---------------------------------------------------------------------------------
    def create_token(self, session: Session, terminal: str, region: str, now_ms: int,
                     ttl_s: int | None = None, created_by: str = "") -> tuple[str, int]:
        """A new token for ``terminal`` in ``region``: (secret shown once, expiry in ms)."""
        _check_ids(terminal, region)
        secret = "enr_" + secrets.token_urlsafe(24)
        expires = now_ms + 1000 * (ttl_s or self.settings.token_ttl_s)
        session.add(EnrolmentToken(token_hash=_hash(secret), terminal=terminal,
                                   region_code=region, created_at=now_ms, expires_at=expires,
                                   created_by=created_by))
        session.flush()
        return secret, expires

    def _take_token(self, session: Session, secret: str, now_ms: int) -> EnrolmentToken:
        row = session.scalar(select(EnrolmentToken).where(
            EnrolmentToken.token_hash == _hash(secret or "")))
        if row is None:
            raise Forbidden("unknown enrolment token: ask the fleet operator for one "
                            "(kiosk-fleet enrol-token create)")
        if row.used_at is not None:
            raise Forbidden("this enrolment token was used already: tokens work once; ask "
                            "for a new one")
        if now_ms >= row.expires_at:
            raise Forbidden("this enrolment token has expired: ask for a new one")
        # one winner even when two requests race with the same token
        taken = session.execute(update(EnrolmentToken).where(
            EnrolmentToken.id == row.id, EnrolmentToken.used_at.is_(None)).values(
            used_at=now_ms))
        if taken.rowcount != 1:  # type: ignore[attr-defined]
            raise Forbidden("this enrolment token was used already")
        return row

    # -- certificates ---------------------------------------------------------------------------
    def redeem(self, session: Session, secret: str, csr_pem: str, now_ms: int) -> dict[str, Any]:
        """Online enrolment: the token's terminal gets its CSR signed and is registered."""
        token = self._take_token(session, secret, now_ms)
        return self._issue(session, csr_pem, token.terminal, token.region_code, now_ms, "token")

    def sign_offline(self, session: Session, csr_pem: str, terminal: str, region: str,
                     now_ms: int) -> dict[str, Any]:
        """``kiosk-fleet ca sign``: an operator signs a CSR brought on a USB stick."""
        _check_ids(terminal, region)
        return self._issue(session, csr_pem, terminal, region, now_ms, "offline")

    def _issue(self, session: Session, csr_pem: str, terminal: str, region: str, now_ms: int,
               via: str) -> dict[str, Any]:
        ca = self.ca
        try:
            csr = ca.check_csr(csr_pem, terminal)
            issued = ca.sign(csr, dt.datetime.fromtimestamp(now_ms / 1000, dt.UTC))
        except CsrRefused as exc:
            raise Invalid(f"csr: {exc}") from None
        # a new key replaces the old one: earlier certificates of this terminal are revoked
        for old in session.scalars(select(TerminalCertificate).where(
                TerminalCertificate.terminal == terminal,
                TerminalCertificate.revoked_at.is_(None))):
            old.revoked_at = now_ms
        session.add(TerminalCertificate(serial=f"{issued.serial:x}", terminal=terminal,
                                        region_code=region, issued_at=now_ms,
                                        not_after=int(issued.not_after.timestamp() * 1000),
                                        via=via))
        row = session.get(Terminal, terminal)
        if row is None:
            session.add(Terminal(id=terminal, region_code=region, first_seen=now_ms))
        else:
            row.region_code = region
        session.flush()
        self.publish(session, now_ms)
        log.info("enrolled %s in %s (%s), certificate %x", terminal, region, via, issued.serial)
        return {"terminal": terminal, "region_code": region,
                "certificate_pem": issued.certificate_pem, "ca_pem": ca.ca_pem(),
                "command_public_key": self.command_public_key,
                "mqtt_url": self.settings.mqtt_url, "topic_prefix": self.topic_prefix}

    def revoke(self, session: Session, terminal: str, now_ms: int) -> int:
        """Revoke every certificate of ``terminal``; the broker refuses it from now on."""
        rows = list(session.scalars(select(TerminalCertificate).where(
            TerminalCertificate.terminal == terminal,
            TerminalCertificate.revoked_at.is_(None))))
        if not rows and session.get(Terminal, terminal) is None:
            raise NotFound(f"no terminal {terminal!r}")
        for row in rows:
            row.revoked_at = now_ms
        session.flush()
        self.publish(session, now_ms)
        log.info("revoked %d certificate(s) of %s", len(rows), terminal)
        return len(rows)

    # -- broker ---------------------------------------------------------------------------------
    def publish(self, session: Session, now_ms: int) -> None:
        """Write the CRL and the ACL from the database and make the broker reload them."""
        certificates = list(session.scalars(select(TerminalCertificate)))
        revoked = [(int(c.serial, 16), dt.datetime.fromtimestamp(c.revoked_at / 1000, dt.UTC))
                   for c in certificates if c.revoked_at is not None]
        self.ca.write_crl(revoked, dt.datetime.fromtimestamp(now_ms / 1000, dt.UTC))
        active = sorted({(c.terminal, c.region_code) for c in certificates
                         if c.revoked_at is None})
        self.broker.apply(active)
