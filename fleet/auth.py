"""Roles, principals and region scope (no HTTP here: ``fleet.deps`` adapts it to FastAPI).

Roles are ordered; each includes the ones before it:

=========  =========================================================================
viewer     health, alarms, statistics, service map
operator   + acknowledge alarms, send remote commands
evaluator  + follow-up cases, opening the real-name part of a bad rating (audited)
admin      + users and API tokens
=========  =========================================================================

A principal limited to a region code prefix (``3701`` = Jinan, ``370102`` = Lixia district)
sees only terminals, alarms, ratings and cases whose ``region_code`` starts with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

ROLES = ("viewer", "operator", "evaluator", "admin")


class Forbidden(PermissionError):
    """The principal's role or region does not allow this (HTTP 403)."""


class NotFound(LookupError):
    """No such object, or not in the principal's region (HTTP 404)."""


class Invalid(ValueError):
    """A request that breaks a rule (HTTP 422); the message names the field and the fix."""


def check_role(role: str) -> str:
    if role not in ROLES:
        raise Invalid(f"role {role!r}: use one of {', '.join(ROLES)}")
    return role


def check_region_prefix(prefix: str) -> str:
    if prefix and (not prefix.isdigit() or len(prefix) > 6):
        raise Invalid(f"region prefix {prefix!r}: up to 6 digits of a 行政区划代码, e.g. 3701")
    return prefix


@dataclass(frozen=True)
class Principal:
    """Who is asking: a user (console) or an API token."""

    name: str
    role: str
    region_prefix: str = ""
    kind: str = "token"  # "token" | "user" | "system"

    def allows(self, role: str) -> bool:
        return ROLES.index(self.role) >= ROLES.index(role)

    def require(self, role: str) -> None:
        if not self.allows(role):
            raise Forbidden(f"{self.name} has role {self.role}; this needs {role} or above")

    def sees(self, region_code: str | None) -> bool:
        return (region_code or "").startswith(self.region_prefix)

    def scope_column(self, column: Any) -> Any:
        """A SQL condition limiting ``column`` (a region code) to this principal's region."""
        return region_prefix(column, self.region_prefix)


def region_prefix(column: Any, prefix: str) -> Any:
    """``column`` starts with the digits ``prefix``, as a range (``>= p`` and ``< p + ':'``,
    ':' sorting right after '9') so that an index on the column serves it."""
    from sqlalchemy import and_, true

    if not prefix:
        return true()
    check_region_prefix(prefix)
    return and_(column >= prefix, column < prefix + ":")


SYSTEM = Principal("system", "admin", "", kind="system")
