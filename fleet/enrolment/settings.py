"""The ``[enrolment]`` section of the fleet server's settings (``fleet.settings.Settings``)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class EnrolmentSettings(BaseModel):
    """Where the CA is, what terminals are told, how the broker is kept in step."""

    model_config = ConfigDict(extra="forbid")

    ca_dir: str = Field("", description="CA directory (ca.pem, ca.key; crl.pem is written "
                        "there); \"\" = enrolment is off")
    token_ttl_s: int = Field(86400, ge=60, le=30 * 86400,
                             description="Default lifetime of an enrolment token")
    cert_days: int = Field(825, ge=1, le=3650, description="Validity of issued certificates")
    mqtt_url: str = Field("", description="The broker URL terminals are given, "
                          "e.g. mqtts://fleet.jinan-zwfw.example:8883")
    broker_acl_file: str = Field("", description="The broker's acl_file, rewritten on every "
                                 "enrolment and revocation (\"\" = leave the broker alone)")
    broker_pid_file: str = Field("", description="The broker's pid_file: it gets SIGHUP to "
                                 "reload the ACL and the CRL")
    fleet_users: list[str] = Field(default_factory=lambda: ["fleet"],
                                   description="Fleet identities kept in the ACL")
