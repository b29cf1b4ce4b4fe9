"""The ingest core: validate a batch of MQTT messages and store it in one transaction.

No MQTT here (``fleet.worker`` feeds it) and no HTTP. For each message:

1. topic → region, terminal, leaf (a topic outside the contract is quarantined);
2. size (``max_payload_bytes``), JSON, the JSON Schema of the leaf's kind, and the
   ``terminal`` field against the topic: a failure goes to the ``quarantine`` table with the
   reason (``bad_topic``, ``oversized``, ``bad_json``, ``schema``, ``wrong_kind``,
   ``wrong_terminal``), is counted, and raises an ``invalid_data`` alarm for the terminal;
3. ratings, events and command results are inserted once (``ON CONFLICT DO NOTHING`` on the
   record id; a repeat is counted as a duplicate); the per-day roll-ups are updated for new
   ones, and every new bad rating opens a follow-up case;
4. presence, birth and health update the terminal's latest state when newer (payload time),
   health also goes to the history;
5. the alarm rules run for every terminal the batch touched.

Nothing in a payload can make :meth:`Ingestor.process` raise: a database error retries the
whole batch (deadlocks, a locked SQLite file) and only then propagates, so the worker does not
acknowledge what it has not stored.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from sqlalchemy import JSON, BigInteger, bindparam, case, func, insert, select, update
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session

from drivers.privacy import scrub
from fleet.auth import Principal
from fleet.clock import iso, local_date
from fleet.db import Database
from fleet.models import (
    CommandResult,
    Event,
    HealthSample,
    IngestCounter,
    Quarantine,
    Rating,
    RatingCount,
    RatingRegionDay,
    RatingTerminalDay,
    SessionCount,
    SessionRegionDay,
    Terminal,
)
from fleet.redact import redact_payload
from fleet.schemas import errors as schema_errors
from fleet.schemas import schema_path
from fleet.services import Page, alarms, cases, clamp_page
from fleet.services import commands as command_service
from fleet.services import terminals as terminal_service
from fleet.settings import Settings
from kiosk.telemetry.topics import TopicError, parse

log = logging.getLogger(__name__)

KIND_OF_LEAF = {"state": "presence", "birth": "birth", "health": "health", "rating": "rating",
                "event": "event", "cmd/result": "command_result"}
RECORD_KINDS = ("rating", "event", "command_result")
COUNTERS = ("received", "stored", "duplicates", "invalid")
BAD_LEVELS = ("dissatisfied", "very_dissatisfied")


@dataclass
class Message:
    topic: str
    payload: bytes
    received: int  # ms
    retained: bool = False
    qos: int = 0
    mid: int = 0


@dataclass
class Valid:
    message: Message
    region: str
    terminal: str
    kind: str
    payload: dict[str, Any]


@dataclass
class BatchResult:
    received: int = 0
    stored: int = 0
    duplicates: int = 0
    invalid: int = 0
    ignored: int = 0  # empty retained payloads (a topic cleared on purpose)
    stored_ids: dict[str, list[str]] = field(default_factory=dict)
    changes: list[alarms.Change] = field(default_factory=list)
    # events stored for the first time in this batch, for post-commit hooks
    # (``fleet.server.after_commit``): a repeat delivery is not handed on again
    new_events: list[Valid] = field(default_factory=list)


def insert_for(session: Session) -> Any:
    """The dialect's INSERT with ``on_conflict_do_nothing`` / ``do_update``."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


class Ingestor:
    def __init__(self, db: Database, settings: Settings, worker: str = "ingest-1",
                 retries: int = 8) -> None:
        self.db = db
        self.settings = settings
        self.worker = worker
        self.retries = retries

    # -- validation
    def check(self, msg: Message) -> tuple[Valid | None, dict[str, Any] | None]:
        """``(valid, None)`` or ``(None, quarantine row)`` or ``(None, None)`` (ignored)."""
        prefix = self.settings.topic_prefix
        try:
            region, terminal, leaf = parse(msg.topic, prefix)
        except TopicError as exc:
            return None, self._bad(msg, "", "", "bad_topic", str(exc))
        kind = KIND_OF_LEAF.get(leaf)
        if kind is None:  # a downlink topic: not ours to store
            return None, self._bad(msg, terminal, region, "bad_topic", f"{leaf} is downlink")
        if not msg.payload:
            return None, None  # a retained topic cleared on purpose
        if len(msg.payload) > self.settings.max_payload_bytes:
            return None, self._bad(msg, terminal, region, "oversized",
                                   f"{len(msg.payload)} bytes > max_payload_bytes "
                                   f"{self.settings.max_payload_bytes}", keep=False)
        try:
            payload = json.loads(msg.payload)
        except (ValueError, UnicodeDecodeError) as exc:
            return None, self._bad(msg, terminal, region, "bad_json", str(exc)[:300])
        if not isinstance(payload, dict):
            return None, self._bad(msg, terminal, region, "bad_json", "not a JSON object")
        if b"\\u0000" in msg.payload and _has_nul(payload):
            # PostgreSQL text cannot hold NUL: stored, it would fail its batch for ever
            return None, self._bad(msg, terminal, region, "bad_json",
                                   "a string holds \\u0000 (NUL), which text cannot store: "
                                   "remove it at the terminal")
        if payload.get("schema") not in (None, f"kiosk.{kind}"):
            return None, self._bad(msg, terminal, region, "wrong_kind",
                                   f"$.schema is {str(payload.get('schema'))[:60]!r} on a "
                                   f"{leaf} topic (kiosk.{kind} expected)")
        problems = validate(payload, kind)
        if problems:
            return None, self._bad(msg, terminal, region, "schema", "; ".join(problems[:5]))
        if payload["terminal"] != terminal:
            return None, self._bad(msg, terminal, region, "wrong_terminal",
                                   f"$.terminal is {payload['terminal']!r} on {terminal}'s "
                                   "topic")
        return Valid(msg, region, terminal, kind, payload), None

    @staticmethod
    def _bad(msg: Message, terminal: str, region: str, reason: str, detail: str,
             keep: bool = True) -> dict[str, Any]:
        # what a broken terminal sent may hold anything: names, addresses, photos, ID and
        # phone numbers are masked, in the payload and in the validator's message
        if keep:
            text, detail = redact_payload(msg.payload, detail)
        else:
            text, detail = "", scrub(detail)
        return {"received": msg.received, "topic": msg.topic[:300], "terminal": terminal[:64],
                "_region": region[:12], "kind": "", "reason": reason,
                "detail": detail[:2000], "payload": text}

    # -- the batch
    def process(self, messages: Sequence[Message]) -> BatchResult:
        checked = [self.check(m) for m in messages]
        delay = 0.05
        for attempt in range(self.retries + 1):
            try:
                with self.db.ingest_lock(), self.db.session() as session:
                    if self.db.dialect == "sqlite":  # the write lock now, not at the first
                        # write after a read (a snapshot that another commit made stale
                        # cannot be upgraded: "database is locked" without any wait)
                        session.connection().exec_driver_sql("BEGIN IMMEDIATE")
                    result = self._store(session, checked)
                return result
            except (OperationalError, DBAPIError) as exc:
                if attempt == self.retries or not _retryable(exc):
                    raise
                log.warning("ingest batch retried after %s", type(exc.orig).__name__
                            if getattr(exc, "orig", None) else exc)
                time.sleep(delay)
                delay = min(delay * 2, 2.0)
        raise AssertionError("unreachable")

    def _store(self, session: Session, checked: list[tuple[Valid | None, dict[str, Any] | None]]
               ) -> BatchResult:
        """One transaction, in two parts. First what no other worker's batch contends for
        (new records, quarantine, cases, the health history); then, with every touched
        terminal's row locked in id order (PostgreSQL), their state, alarms and the shared
        per-day roll-ups, up to the commit: the part two workers take turns on is short, and
        they always lock in the same order."""
        now = max([v.message.received for v, _ in checked if v]
                  + [q["received"] for _, q in checked if q]
                  or [int(time.time() * 1000)])
        result = BatchResult(received=len(checked))
        valid = [v for v, _ in checked if v is not None]
        bad = [q for _, q in checked if q is not None]
        result.ignored = sum(1 for v, q in checked if v is None and q is None)
        rules = self.settings.alarms
        ids = sorted({v.terminal for v in valid} | {q["terminal"] for q in bad
                                                    if q["terminal"]})
        region_of = {v.terminal: v.region for v in valid}
        # invalid payloads
        for row in bad:
            region = row.pop("_region")
            session.add(Quarantine(**row))
            if row["terminal"]:
                alarms.raise_invalid_data(session, row["terminal"], region, row["reason"], now,
                                          result.changes)
        result.invalid = len(bad)
        # records: once each
        by_kind: dict[str, dict[str, Valid]] = {k: {} for k in RECORD_KINDS}
        states: list[Valid] = []
        for v in valid:
            if v.kind in RECORD_KINDS:
                if v.payload["id"] in by_kind[v.kind]:
                    result.duplicates += 1
                    continue
                by_kind[v.kind][v.payload["id"]] = v
            else:
                states.append(v)
        new_ratings = self._insert(session, Rating, by_kind["rating"], self._rating_row, result)
        new_events = self._insert(session, Event, by_kind["event"], self._event_row, result)
        new_results = self._insert(session, CommandResult, by_kind["command_result"],
                                   self._result_row, result)
        result.new_events = [by_kind["event"][i] for i in new_events]
        bad_rating_terminals: set[str] = set()
        for rid in new_ratings:
            v = by_kind["rating"][rid]
            if v.payload["values"]["level"] in BAD_LEVELS:
                rating = session.get(Rating, rid)
                if rating is not None:
                    cases.open_for_rating(session, rating, self.settings.cases, now)
                    bad_rating_terminals.add(v.terminal)
        for rid in new_results:
            row = session.get(CommandResult, rid)
            if row is not None:
                command_service.record_result(session, row, now)
        samples = [{"terminal": v.terminal, "ts": int(v.payload["ts"]),
                    "values": v.payload["values"]} for v in states if v.kind == "health"]
        if samples:  # the history: one executemany, no ORM objects
            session.connection().execute(insert(HealthSample.__table__), samples)
        session.flush()

        # -- the terminals: locked in id order (PostgreSQL), created on first sight
        existing = self._lock_terminals(session, ids)
        terms: dict[str, Terminal] = {}
        for tid in ids:
            if tid not in existing and tid in region_of:
                terms[tid] = terminal_service.new_terminal(session, tid, region_of[tid], now)
        # the full row (JSON columns and all) only for the terminals whose state or alarms
        # this batch changes, read after the lock; the others only get last_seen
        load = sorted(({v.terminal for v in states} | bad_rating_terminals) - terms.keys())
        for start in range(0, len(load), 500):
            terms.update({t.id: t for t in session.scalars(
                select(Terminal).where(Terminal.id.in_(load[start:start + 500]))
                .execution_options(populate_existing=True))})
        seen: dict[str, int] = {}
        for v in (*by_kind["rating"].values(), *by_kind["event"].values(),
                  *by_kind["command_result"].values()):
            seen[v.terminal] = max(seen.get(v.terminal, 0), int(v.payload["ts"]))
        for tid, ts in seen.items():
            if tid in terms:
                terms[tid].last_seen = max(terms[tid].last_seen or 0, ts)
                terms[tid].last_received = now
        self._mark_seen(session, {t: ts for t, ts in seen.items() if t not in terms}, now)
        touched_health: set[str] = set()
        touched_presence: set[str] = set()
        # latest state, oldest first so the newest wins within the batch
        for v in sorted(states, key=lambda s: int(s.payload["ts"])):
            term = terms[v.terminal]
            if v.kind == "presence":
                if terminal_service.apply_presence(term, v.payload, now, rules):
                    touched_presence.add(term.id)
            elif v.kind == "birth":
                terminal_service.apply_birth(term, v.payload, now)
            elif terminal_service.apply_health(term, v.payload, now):
                touched_health.add(term.id)
                if not v.message.retained:
                    term.clock_skew_ms = int(v.payload["ts"]) - v.message.received
            result.stored += 1
        session.flush()
        alarms.preload(session, touched_presence | touched_health | bad_rating_terminals)
        for tid in sorted(touched_presence | touched_health):
            alarms.evaluate_terminal(session, terms[tid], now, rules, result.changes,
                                     health=tid in touched_health, presence=True)
        for tid in sorted(bad_rating_terminals):
            alarms.evaluate_bad_ratings(session, terms[tid], now, rules, result.changes)
        alarms.forget_preloaded(session)
        # the per-day roll-ups last: their rows (a region's day) are every batch's
        if new_ratings:
            self._rating_rollups(session, [by_kind["rating"][i] for i in new_ratings])
        if new_events:
            self._session_rollups(session, [by_kind["event"][i] for i in new_events])
        self._count(session, result)
        return result

    @staticmethod
    def _lock_terminals(session: Session, ids: list[str]) -> set[str]:
        """The ids of ``ids`` that exist; on PostgreSQL their rows are locked (``FOR
        UPDATE``, in id order) for the rest of the transaction."""
        found: set[str] = set()
        postgres = session.get_bind().dialect.name == "postgresql"
        for start in range(0, len(ids), 500):
            stmt = select(Terminal.id).where(Terminal.id.in_(ids[start:start + 500])
                                             ).order_by(Terminal.id)
            if postgres:
                stmt = stmt.with_for_update()
            found.update(session.scalars(stmt))
        return found

    @staticmethod
    def _mark_seen(session: Session, seen: dict[str, int], now: int) -> None:
        """``last_seen`` (the newest payload time, never moved back) and ``last_received``
        of terminals that sent only records: one executemany in id order."""
        if not seen:
            return
        table = Terminal.__table__
        ts = bindparam("seen_ts", type_=BigInteger)
        stmt = (update(table).where(table.c.id == bindparam("seen_id"))
                .values(last_seen=case((func.coalesce(table.c.last_seen, 0) < ts, ts),
                                       else_=table.c.last_seen),
                        last_received=bindparam("seen_now", type_=BigInteger)))
        session.connection().execute(stmt, [{"seen_id": t, "seen_ts": n, "seen_now": now}
                                            for t, n in sorted(seen.items())])

    def _insert(self, session: Session, model: Any, rows: dict[str, Valid], build: Any,
                result: BatchResult) -> list[str]:
        """Insert the records whose id is new (``ON CONFLICT DO NOTHING``); returns those
        ids (repeats count as duplicates)."""
        if not rows:
            return []
        values = [build(v) for v in rows.values()]
        table = model.__table__
        if session.get_bind().dialect.name == "postgresql":
            new = _insert_new_postgres(session, table, values)
        else:
            # executemany with RETURNING ("insertmanyvalues"): one cached statement, the ids
            # of the rows that were new come back
            stmt = insert_for(session)(table).on_conflict_do_nothing(
                index_elements=["id"]).returning(table.c.id)
            new = [r[0] for r in session.connection().execute(stmt, values)]
        result.duplicates += len(values) - len(new)
        result.stored += len(new)
        result.stored_ids.setdefault(model.__tablename__, []).extend(new)
        return new

    def _rating_row(self, v: Valid) -> dict[str, Any]:
        p, val = v.payload, v.payload["values"]
        ts = int(p["ts"])
        return {"id": p["id"], "terminal": v.terminal,
                "region_code": val.get("region_code") or v.region, "ts": ts,
                "day": local_date(ts, self.settings.cases.timezone),
                "item_code": val["item_code"][:64], "item_name": val["item_name"][:200],
                "handling_number": val["handling_number"][:64], "level": val["level"],
                "gbt39046_code": val["gbt39046_code"], "assess_number": val["assess_number"],
                "reasons": val["reasons"], "text": val["text"], "source": val["source"],
                "user_prop": val["user_prop"], "identified": val["identified"],
                "real_name_sealed": val["real_name_sealed"], "key_id": val["key_id"],
                "received": v.message.received}

    def _event_row(self, v: Valid) -> dict[str, Any]:
        p = v.payload
        return {"id": p["id"], "terminal": v.terminal, "ts": int(p["ts"]),
                "name": p["values"]["name"], "data": p["values"]["data"],
                "received": v.message.received}

    def _result_row(self, v: Valid) -> dict[str, Any]:
        p, val = v.payload, v.payload["values"]
        return {"id": p["id"], "command_id": val["command_id"], "terminal": v.terminal,
                "ts": int(p["ts"]), "name": val["name"], "status": val["status"],
                "reason": val["reason"], "detail": val["detail"], "data": val["data"],
                "received": v.message.received}

    def _rating_rollups(self, session: Session, rows: list[Valid]) -> None:
        counts: dict[tuple[Any, ...], int] = {}
        tz = self.settings.cases.timezone
        for v in rows:
            val = v.payload["values"]
            key = (local_date(int(v.payload["ts"]), tz), v.terminal, val["item_code"][:64],
                   val["level"], val.get("region_code") or v.region)
            counts[key] = counts.get(key, 0) + 1
        self._upsert_counts(session, RatingCount, [
            {"day": k[0], "terminal": k[1], "item_code": k[2], "level": k[3],
             "region_code": k[4], "count": n} for k, n in sorted(counts.items())],
            ["day", "terminal", "item_code", "level"])
        per_terminal: dict[tuple[Any, ...], int] = {}
        per_region: dict[tuple[Any, ...], int] = {}
        for (day, terminal, _item, level, region), n in counts.items():
            per_terminal[(day, terminal, level, region)] = per_terminal.get(
                (day, terminal, level, region), 0) + n
            per_region[(day, region, level)] = per_region.get((day, region, level), 0) + n
        self._upsert_counts(session, RatingTerminalDay, [
            {"day": k[0], "terminal": k[1], "level": k[2], "region_code": k[3], "count": n}
            for k, n in sorted(per_terminal.items())], ["day", "terminal", "level"])
        self._upsert_counts(session, RatingRegionDay, [
            {"day": k[0], "region_code": k[1], "level": k[2], "count": n}
            for k, n in sorted(per_region.items())], ["day", "region_code", "level"])

    def _session_rollups(self, session: Session, rows: list[Valid]) -> None:
        counts: dict[tuple[Any, ...], int] = {}
        tz = self.settings.cases.timezone
        for v in rows:
            if v.payload["values"]["name"] != "session":
                continue
            outcome = str(v.payload["values"]["data"].get("outcome", ""))[:16]
            key = (local_date(int(v.payload["ts"]), tz), v.terminal, outcome, v.region)
            counts[key] = counts.get(key, 0) + 1
        if counts:
            self._upsert_counts(session, SessionCount, [
                {"day": k[0], "terminal": k[1], "outcome": k[2], "region_code": k[3],
                 "count": n} for k, n in sorted(counts.items())],
                ["day", "terminal", "outcome"])
            per_region: dict[tuple[Any, ...], int] = {}
            for (day, _terminal, outcome, region), n in counts.items():
                per_region[(day, region, outcome)] = per_region.get((day, region, outcome),
                                                                    0) + n
            self._upsert_counts(session, SessionRegionDay, [
                {"day": k[0], "region_code": k[1], "outcome": k[2], "count": n}
                for k, n in sorted(per_region.items())], ["day", "region_code", "outcome"])

    def _upsert_counts(self, session: Session, model: Any, rows: list[dict[str, Any]],
                       keys: list[str]) -> None:
        """``count += n`` per key, executemany of one cached statement (rows sorted by key,
        so two workers lock them in the same order)."""
        if not rows:
            return
        table = model.__table__
        stmt = insert_for(session)(table)
        stmt = stmt.on_conflict_do_update(index_elements=keys, set_={
            "count": table.c.count + stmt.excluded.count})
        session.connection().execute(stmt, rows)

    def _count(self, session: Session, result: BatchResult) -> None:
        values = {"received": result.received, "stored": result.stored,
                  "duplicates": result.duplicates, "invalid": result.invalid}
        rows = [{"worker": self.worker, "name": k, "value": n} for k, n in values.items() if n]
        if rows:
            table = IngestCounter.__table__
            stmt = insert_for(session)(table)
            stmt = stmt.on_conflict_do_update(index_elements=["worker", "name"], set_={
                "value": table.c.value + stmt.excluded.value})
            session.connection().execute(stmt, rows)


def _insert_new_postgres(session: Session, table: Any, values: list[dict[str, Any]]
                         ) -> list[str]:
    """psycopg 3's pipelined ``executemany(..., returning=True)``: one prepared statement
    for any number of rows, each row's ``RETURNING id`` (none for a repeat). SQLAlchemy's
    multi-row VALUES would send a new statement text per batch size, which psycopg parses
    anew every time (more than 50 parameters are never cached): a third of the ingest's
    time on PostgreSQL."""
    from psycopg.types.json import Json

    columns = list(values[0])
    json_columns = {c.name for c in table.columns if isinstance(c.type, JSON)}
    names = ", ".join(f'"{c}"' for c in columns)
    marks = ", ".join(["%s"] * len(columns))
    sql = (f'INSERT INTO "{table.name}" ({names}) VALUES ({marks}) '
           'ON CONFLICT ("id") DO NOTHING RETURNING "id"')
    params = [[Json(row[c]) if c in json_columns else row[c] for c in columns]
              for row in values]
    import psycopg

    new: list[str] = []
    raw = session.connection().connection.driver_connection
    try:
        with raw.cursor() as cursor:
            cursor.executemany(sql, params, returning=True)
            while True:
                row = cursor.fetchone()
                if row is not None:
                    new.append(row[0])
                if not cursor.nextset():
                    break
    except psycopg.Error as exc:  # as SQLAlchemy would raise it: the batch retry sees it
        raise DBAPIError(sql, None, exc) from exc
    return new


@cache
def _compiled(kind: str) -> Callable[[Any], bool] | None:
    """A fast yes/no validator for ``kind``: jsonschema-rs (Rust, ~2 µs a payload), else
    fastjsonschema (generated Python, ~17 µs), else ``None``. Neither checks ``format`` for
    draft 2020-12, like the reference, so all three agree on what is valid."""
    schema = json.loads(schema_path(kind).read_text(encoding="utf-8"))
    try:
        import jsonschema_rs
    except ImportError:
        pass
    else:
        return jsonschema_rs.validator_for(schema).is_valid
    try:
        import fastjsonschema
    except ImportError:
        return None
    check = fastjsonschema.compile(schema)

    def is_valid(payload: Any) -> bool:
        try:
            check(payload)
        except Exception:  # fastjsonschema.JsonSchemaException and friends
            return False
        return True

    return is_valid


def validate(payload: dict[str, Any], kind: str) -> list[str]:
    """Problems of ``payload`` against its kind's schema (empty = valid). The compiled
    validator answers the common case, a valid payload; anything it rejects is judged again
    by ``jsonschema`` (the reference), whose messages name the field."""
    if payload.get("v", 1) == 1:
        fast = _compiled(kind)
        if fast is not None and fast(payload):
            return []
    return schema_errors(payload, kind)


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def _retryable(exc: Exception) -> bool:
    text = str(getattr(exc, "orig", exc)).lower()
    return any(s in text for s in ("locked", "deadlock", "busy", "could not serialize",
                                   "connection", "terminating", "server closed"))


# -- statistics and the quarantine (services the API calls)
def stats(session: Session) -> dict[str, Any]:
    by_worker: dict[str, dict[str, int]] = {}
    totals = dict.fromkeys(COUNTERS, 0)
    for worker, name, value in session.execute(select(
            IngestCounter.worker, IngestCounter.name, IngestCounter.value)):
        by_worker.setdefault(worker, dict.fromkeys(COUNTERS, 0))[name] = int(value)
        totals[name] = totals.get(name, 0) + int(value)
    reasons = {r: int(n) for r, n in session.execute(select(
        Quarantine.reason, func.count()).group_by(Quarantine.reason))}
    return {**totals, "by_worker": by_worker, "quarantine_by_reason": reasons}


def quarantine_list(session: Session, principal: Principal, *, terminal: str = "",
                    page: int = 1, per_page: int = 100) -> Page[dict[str, Any]]:
    """Quarantined payloads, newest first (the payload text itself is not listed: it may
    hold anything a broken terminal sent)."""
    principal.require("operator")
    page, per_page = clamp_page(page, per_page)
    stmt = select(Quarantine)
    if terminal:
        stmt = stmt.where(Quarantine.terminal == terminal)
    if principal.region_prefix:
        stmt = stmt.where(Quarantine.terminal.in_(select(Terminal.id).where(
            principal.scope_column(Terminal.region_code))))
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(stmt.order_by(Quarantine.id.desc()).offset((page - 1) * per_page)
                           .limit(per_page))
    return Page([{"id": q.id, "received": iso(q.received), "topic": q.topic,
                  "terminal": q.terminal, "kind": q.kind, "reason": q.reason,
                  "detail": q.detail} for q in rows], total, page, per_page)
