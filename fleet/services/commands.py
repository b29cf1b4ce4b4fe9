"""Remote commands to one terminal, a site, a region or a filtered group.

Each target gets its own message, signed with the fleet's Ed25519 key (``fleet.commands``)
with an expiry, published once at QoS 1 on its ``cmd`` topic (the broker keeps it for a
terminal that is away; the terminal refuses it once expired). The server tracks each target:
``pending`` → ``done`` (ok) | ``failed`` | ``unsupported`` | ``refused`` from ``cmd/result``,
or ``expired`` when the expiry passes without a result. Nothing is ever re-sent.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from fleet.auth import Invalid, NotFound, Principal
from fleet.clock import iso
from fleet.commands import build_command, sign
from fleet.models import Command, CommandResult, CommandTarget, Terminal
from fleet.services import Page, clamp_page
from kiosk.telemetry.commands import COMMANDS

# what an operator may send; ``selftest_echo`` is the ingest's own answer to a terminal's
# self-test (fleet/selftest_echo.py), which an operator sending it would only fake
OPERATOR_COMMANDS = frozenset(COMMANDS) - {"selftest_echo"}

#: publish(region, terminal, payload bytes) -> None; raises on failure
Publisher = Callable[[str, str, bytes], None]
STATUS_OF_RESULT = {"ok": "done", "failed": "failed", "unsupported": "unsupported",
                    "refused": "refused"}
MAX_TARGETS = 10_000


def resolve_targets(session: Session, principal: Principal, target: dict[str, Any]
                    ) -> list[Terminal]:
    """``{"terminal": id}`` | ``{"site": name}`` | ``{"region": prefix}`` | ``{"filter":
    {"region": …, "site": …, "online": …, "version": …, "ids": […]}}``, always within the
    principal's region."""
    keys = [k for k in ("terminal", "site", "region", "filter") if target.get(k) not in
            (None, "")]
    if len(keys) != 1:
        raise Invalid("target: give exactly one of terminal, site, region or filter")
    stmt = select(Terminal).where(principal.scope_column(Terminal.region_code))
    key, value = keys[0], target[keys[0]]
    if key == "terminal":
        stmt = stmt.where(Terminal.id == value)
    elif key == "site":
        stmt = stmt.where(Terminal.site == value)
    elif key == "region":
        stmt = stmt.where(Terminal.region_code.startswith(str(value), autoescape=True))
    else:
        if not isinstance(value, dict):
            raise Invalid("target.filter: an object with region, site, online, version, ids")
        unknown = set(value) - {"region", "site", "online", "version", "ids"}
        if unknown:
            raise Invalid(f"target.filter: unknown keys {sorted(unknown)}")
        if value.get("region"):
            stmt = stmt.where(Terminal.region_code.startswith(str(value["region"]),
                                                              autoescape=True))
        if value.get("site"):
            stmt = stmt.where(Terminal.site == value["site"])
        if value.get("online") is not None:
            stmt = stmt.where(Terminal.online.is_(bool(value["online"])))
        if value.get("version"):
            stmt = stmt.where(Terminal.version == value["version"])
        if value.get("ids"):
            stmt = stmt.where(Terminal.id.in_(list(value["ids"])))
    rows = list(session.scalars(stmt.order_by(Terminal.id).limit(MAX_TARGETS + 1)))
    if not rows:
        raise NotFound("target: no terminal in your region matches")
    if len(rows) > MAX_TARGETS:
        raise Invalid(f"target: more than {MAX_TARGETS} terminals; narrow the filter")
    return rows


def send(session: Session, principal: Principal, key: Any, publish: Publisher, name: str,
         args: dict[str, Any] | None, target: dict[str, Any], now: int, ttl_s: int = 300,
         max_ttl_s: int = 3600) -> Command:
    """Sign and publish ``name`` for every target (operator+). Rows are committed by the
    caller; a target whose publish fails is marked ``failed`` with the error."""
    principal.require("operator")
    if name not in OPERATOR_COMMANDS:
        raise Invalid(f"name {name!r}: use one of {', '.join(sorted(OPERATOR_COMMANDS))}")
    if key is None:
        raise Invalid("the server has no command key: start it with --command-key FILE "
                      "(python -m fleet.commands new-key)")
    if not 1 <= ttl_s <= max_ttl_s:
        raise Invalid(f"ttl_s: between 1 and {max_ttl_s} seconds")
    terminals = resolve_targets(session, principal, target)
    command = Command(id=uuid.uuid4().hex, name=name, args=dict(args or {}),
                      target=dict(target), created_by=principal.name, created_at=now,
                      expires=now + ttl_s * 1000)
    session.add(command)
    session.flush()
    for term in terminals:
        body = build_command(term.id, name, args or {}, ttl_s=ttl_s, now=now / 1000)
        signed = sign(body, key)
        row = CommandTarget(message_id=body["id"], command_id=command.id, terminal=term.id,
                            status="pending", reason="", detail="", expires=body["expires"],
                            updated_at=now)
        session.add(row)
        try:
            import json

            publish(term.region_code, term.id,
                    json.dumps(signed, ensure_ascii=False).encode("utf-8"))
            row.sent_at = now
        except Exception as exc:  # a broker that is down: say so, never retry later
            row.status = "failed"
            row.detail = f"not published: {exc}"[:500]
    return command


def record_result(session: Session, result: CommandResult, now: int) -> bool:
    """A ``cmd/result`` stored by the ingest: update its target (if we sent it)."""
    row = session.get(CommandTarget, result.command_id)
    if row is None or row.terminal != result.terminal:
        return False
    if row.status not in ("pending", "expired"):
        return False
    row.status = STATUS_OF_RESULT.get(result.status, "failed")
    row.reason = result.reason
    row.detail = result.detail[:500]
    row.updated_at = now
    return True


def expire(session: Session, now: int) -> int:
    """Pending targets past their expiry become ``expired`` (never re-sent)."""
    return session.execute(update(CommandTarget).where(
        CommandTarget.status == "pending", CommandTarget.expires < now)
        .values(status="expired", updated_at=now)).rowcount or 0


def command_view(session: Session, command: Command) -> dict[str, Any]:
    rows = list(session.scalars(select(CommandTarget).where(
        CommandTarget.command_id == command.id).order_by(CommandTarget.terminal)))
    counts: dict[str, int] = {}
    for r in rows:
        counts[r.status] = counts.get(r.status, 0) + 1
    return {"id": command.id, "name": command.name, "args": command.args,
            "target": command.target, "created_by": command.created_by,
            "created_at": iso(command.created_at), "expires": iso(command.expires),
            "counts": counts,
            "targets": [{"terminal": r.terminal, "message_id": r.message_id,
                         "status": r.status, "reason": r.reason, "detail": r.detail,
                         "updated_at": iso(r.updated_at)} for r in rows]}


def get_command(session: Session, principal: Principal, command_id: str) -> dict[str, Any]:
    command = session.get(Command, command_id)
    if command is None:
        raise NotFound(f"no command {command_id}")
    view = command_view(session, command)
    if principal.region_prefix:
        visible = {t.id for t in session.scalars(select(Terminal).where(
            principal.scope_column(Terminal.region_code)))}
        view["targets"] = [t for t in view["targets"] if t["terminal"] in visible]
        if not view["targets"]:
            raise NotFound(f"no command {command_id}")
    return view


def list_commands(session: Session, principal: Principal, *, page: int = 1,
                  per_page: int = 50) -> Page[dict[str, Any]]:
    page, per_page = clamp_page(page, per_page)
    stmt = select(Command)
    if principal.region_prefix:
        stmt = stmt.where(Command.id.in_(select(CommandTarget.command_id).join(
            Terminal, Terminal.id == CommandTarget.terminal).where(
            principal.scope_column(Terminal.region_code))))
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(stmt.order_by(Command.created_at.desc()).offset(
        (page - 1) * per_page).limit(per_page))
    return Page([command_view(session, c) for c in rows], total, page, per_page)
