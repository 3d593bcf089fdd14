from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from ..extensions import db
from .base import BigIntPK, SealedString, TimestampMixin, UTCDateTime, new_id, sealed_index, utcnow

ROLES = ("admin", "supervisor", "inspector", "enterprise", "security_admin", "audit_admin", "legal")
# 三权分立 (等保三级): system administrator, security administrator, audit administrator — no account holds two
ADMIN_ROLES = ("admin", "security_admin", "audit_admin")


class User(TimestampMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    username: Mapped[str] = mapped_column(String(80), nullable=False, unique=True)
    display_name: Mapped[str | None] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    role: Mapped[str] = mapped_column(String(20), nullable=False)
    # Jurisdiction for supervisors / inspectors (admins: optional)
    region_id: Mapped[str | None] = mapped_column(ForeignKey("regions.id"), index=True)
    # The enterprise an enterprise user belongs to
    enterprise_id: Mapped[str | None] = mapped_column(ForeignKey("enterprises.id"), index=True)
    # 执法证号, required for inspectors
    certificate_no: Mapped[str | None] = mapped_column(String(40), unique=True)
    phone: Mapped[str | None] = mapped_column(SealedString)  # sealed at rest; shown masked
    phone_index: Mapped[str | None] = mapped_column(String(40), index=True)  # keyed index (exact search)
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    must_change_password: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    # when the password was last set (the expiry rule of services/accounts/password_policy.py)
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # second factor (TOTP, RFC 6238): the secret sealed at rest, when it was confirmed, the last time step
    # accepted (a code is never accepted twice)
    totp_secret: Mapped[str | None] = mapped_column(SealedString)
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    region = relationship("Region")
    enterprise = relationship("Enterprise")
    devices: Mapped[list[Device]] = relationship(back_populates="user", foreign_keys="Device.user_id")
    tokens: Mapped[list[ApiToken]] = relationship(back_populates="user")

    @property
    def region_code(self) -> str | None:
        return self.region_id

    @validates("phone")
    def _index_phone(self, key, value):
        self.phone_index = sealed_index(value)
        return value


class Device(TimestampMixin, db.Model):
    """A tablet (or browser) a user signed in from; revoking it kills its tokens."""

    __tablename__ = "devices"
    __table_args__ = (UniqueConstraint("user_id", "client_device_id", name="uq_devices_user_client"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), nullable=False, index=True)
    client_device_id: Mapped[str] = mapped_column(String(128), nullable=False)
    name: Mapped[str | None] = mapped_column(String(120))
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_sync_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_ip: Mapped[str | None] = mapped_column(String(64))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))

    user: Mapped[User] = relationship(back_populates="devices", foreign_keys=[user_id])
    tokens: Mapped[list[ApiToken]] = relationship(back_populates="device")


class ApiToken(db.Model):
    """An opaque bearer token; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), nullable=False, index=True)
    device_id: Mapped[str | None] = mapped_column(ForeignKey("devices.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_ip: Mapped[str | None] = mapped_column(String(64))

    user: Mapped[User] = relationship(back_populates="tokens")
    device: Mapped[Device | None] = relationship(back_populates="tokens")


class PasswordHistory(db.Model):
    """Hashes of a user's previous passwords (the "not one of the last N" rule); trimmed to N."""

    __tablename__ = "password_history"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), nullable=False, index=True)
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)


class RecoveryCode(db.Model):
    """One-time recovery codes of a second factor (only their hash is kept)."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), nullable=False, index=True)
    code_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
