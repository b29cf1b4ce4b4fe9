"""Enrolment tables: one-time tokens (stored hashed) and the certificates issued.

Added to the fleet database by the Alembic migration ``0004_enrolment``.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from fleet.models import Base


class EnrolmentToken(Base):
    """A one-time, expiring permission for one terminal id in one region to enrol."""

    __tablename__ = "enrolment_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 hex
    terminal: Mapped[str] = mapped_column(String(40), index=True)
    region_code: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[int] = mapped_column(BigInteger)
    used_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created_by: Mapped[str] = mapped_column(String(64), default="")


class TerminalCertificate(Base):
    """A client certificate issued to a terminal; revoked ones go into the CRL."""

    __tablename__ = "terminal_certificates"

    serial: Mapped[str] = mapped_column(String(64), primary_key=True)  # hex
    terminal: Mapped[str] = mapped_column(String(40), index=True)
    region_code: Mapped[str] = mapped_column(String(12))
    issued_at: Mapped[int] = mapped_column(BigInteger)
    not_after: Mapped[int] = mapped_column(BigInteger)
    revoked_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True, index=True)
    via: Mapped[str] = mapped_column(String(16), default="token")  # token | offline
