"""``kiosk queue ...``: the hall server and the window staff's commands.

``add_cli(subparsers)`` registers them on the ``kiosk`` parser; ``run(args, config)`` runs the
chosen one (``python -m kiosk.queue`` does both on its own). Staff commands talk to a hall
server (``--url``) or open a queue database directly (``--db``, e.g. the embedded queue of a
single terminal: SQLite lets the kiosk and this command use the file at the same time).

    kiosk queue serve --db /var/lib/queue/hall.sqlite --host 0.0.0.0 --port 8480 --profile hall
    kiosk queue status --url http://127.0.0.1:8480
    kiosk queue call --url http://127.0.0.1:8480 --window 1
    kiosk queue served --url http://127.0.0.1:8480 TICKET_ID
    kiosk queue import-appointments --url https://queue.example/api/v1 bookings.csv
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sqlite3
import sys
import threading
from pathlib import Path
from typing import Any

from kiosk.queue.errors import QueueError

PORT = 8480


def _config_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--profile", default=os.environ.get("KIOSK_PROFILE", "demo"),
                        help="site profile for the opening hours, time zone and [queue] "
                             "(default: demo)")
    parser.add_argument("--config", type=Path, default=None,
                        help="a TOML file whose keys override the profile")
    parser.add_argument("--settings", type=Path, default=None,
                        help="a TOML file with the [queue] table, overriding the config's")


def _target_args(parser: argparse.ArgumentParser) -> None:
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--url", help="the hall server, e.g. http://127.0.0.1:8480")
    target.add_argument("--db", type=Path, help="a queue database opened directly")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds per request")
    _config_args(parser)


def add_cli(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``queue`` with its commands to the ``kiosk`` sub-parsers; returns its parser."""
    queue = subparsers.add_parser("queue", help="queue: hall server and window staff commands")
    sub = queue.add_subparsers(dest="queue_command", required=True)

    serve = sub.add_parser("serve", help="run the hall queue server on a SQLite database")
    serve.add_argument("--db", type=Path, required=True, help="the queue database file")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=int, default=PORT, help=f"port (default {PORT}; 0 = any)")
    serve.add_argument("--log-level", default="INFO", choices=("DEBUG", "INFO", "WARNING"))
    _config_args(serve)

    for name, text in (("status", "people waiting and estimated wait per category"),
                       ("windows", "what each window serves and who is called there"),
                       ("calls", "latest calls (as the calling display shows them)")):
        _target_args(sub.add_parser(name, help=text))
    call = sub.add_parser("call", help="call the next number at a window")
    call.add_argument("--window", required=True, help="window id")
    _target_args(call)
    for name, text in (("served", "mark a called ticket served"),
                       ("no-show", "mark a called ticket as not present (过号)"),
                       ("cancel", "cancel a waiting ticket")):
        cmd = sub.add_parser(name, help=text)
        cmd.add_argument("ticket", help="ticket id")
        _target_args(cmd)
    issue = sub.add_parser("issue", help="take a number (as a kiosk would)")
    issue.add_argument("category", help="category code, e.g. A")
    issue.add_argument("--green", action="store_true", help="green channel (绿色通道)")
    _target_args(issue)
    tide = sub.add_parser("tide", help="change what a window serves for the rest of today")
    tide.add_argument("--window", required=True)
    group = tide.add_mutually_exclusive_group(required=True)
    group.add_argument("--categories", help="comma-separated codes, e.g. A,B ('' = none)")
    group.add_argument("--clear", action="store_true", help="back to the schedule")
    _target_args(tide)
    imp = sub.add_parser("import-appointments", help="import bookings from a CSV or JSON file")
    imp.add_argument("file", type=Path, help="CSV (ref,category,start,id_number,name,code) "
                                            "or JSON")
    _target_args(imp)
    openapi = sub.add_parser("openapi", help="print the OpenAPI description")
    openapi.add_argument("--server-url", default="")
    _config_args(openapi)  # unused, but `kiosk` loads the config before any command
    queue.set_defaults(handler=run)
    return queue


def _load(args: argparse.Namespace, config: Any | None) -> tuple[Any, Any]:
    """(config, queue settings) for the command."""
    from config.queue import load_settings_file
    from kiosk.queue.factory import queue_settings

    if config is None:
        from config.loader import load_config

        config = load_config(args.profile, args.config)
    settings = (load_settings_file(args.settings) if getattr(args, "settings", None)
                else queue_settings(config))
    return config, settings


def run(args: argparse.Namespace, config: Any | None = None) -> int:
    """Run the ``kiosk queue`` command in ``args``; ``config`` if already loaded."""
    command = args.queue_command
    if command == "openapi":
        from kiosk.queue.openapi import build_spec

        print(json.dumps(build_spec(args.server_url), ensure_ascii=False, indent=1))
        return 0
    from config.errors import ConfigError

    try:
        config, settings = _load(args, config)
    except (ConfigError, ValueError) as exc:
        print(f"kiosk queue: {exc}", file=sys.stderr)
        return 2
    if command == "serve":
        return _serve(args, config, settings)
    try:
        service = _service(args, config, settings)
    except (OSError, ValueError, sqlite3.Error) as exc:
        print(f"kiosk queue: {exc}", file=sys.stderr)
        return 2
    try:
        return _staff(args, service)
    except QueueError as exc:
        if args.json:
            print(json.dumps({"error": exc.to_dict()}, ensure_ascii=False))
        else:
            print(f"kiosk queue: {exc.message}", file=sys.stderr)
        return 1
    finally:
        service.close()


def _serve(args: argparse.Namespace, config: Any, settings: Any) -> int:
    from kiosk.cli.logging_setup import setup_logging  # the one set-up, with the filter
    from kiosk.queue.engine import QueueEngine
    from kiosk.queue.hours import OpeningHours
    from kiosk.queue.server import QueueHttpServer

    setup_logging(args.log_level)
    try:
        engine = QueueEngine(args.db, settings, OpeningHours.from_terminal(config.terminal))
    except (OSError, ValueError, sqlite3.Error) as exc:
        print(f"kiosk queue serve: cannot open {args.db}: {exc}", file=sys.stderr)
        return 2
    try:
        server = QueueHttpServer(engine, args.host, args.port)
    except OSError as exc:
        engine.close()
        print(f"kiosk queue serve: cannot listen on {args.host}:{args.port}: {exc.strerror}",
              file=sys.stderr)
        return 2

    def stop(_signum: int, _frame: Any) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    print(f"queue server listening on {server.url} (database {args.db}, API "
          f"{server.url}/api/v1, description {server.url}/openapi.json, staff page "
          f"{server.url}/staff)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        engine.close()
    print("queue server stopped", flush=True)
    return 0


def _service(args: argparse.Namespace, config: Any, settings: Any) -> Any:
    from kiosk.queue.client import HttpQueueService
    from kiosk.queue.engine import QueueEngine
    from kiosk.queue.hours import OpeningHours
    from kiosk.queue.service import EmbeddedQueueService

    if args.url:
        return HttpQueueService(args.url, timeout_s=args.timeout, retries=settings.retries,
                                terminal="staff-cli")
    if not args.db.exists():
        raise ValueError(f"no queue database at {args.db}")
    engine = QueueEngine(args.db, settings, OpeningHours.from_terminal(config.terminal))
    return EmbeddedQueueService(engine, terminal="staff-cli")


def _line(ticket: Any) -> str:
    if ticket is None:
        return "no ticket waiting"
    extra = f" {ticket.holder}" if ticket.holder else ""
    ahead = "" if ticket.people_ahead is None else f", {ticket.people_ahead} ahead"
    wait = "" if ticket.estimated_wait_min is None else f", ~{ticket.estimated_wait_min} min"
    where = f" at window {ticket.window}" if ticket.window else ""
    return (f"{ticket.number} {ticket.category_name} [{ticket.state.value}{where}]{extra}"
            f"{ahead}{wait}  id {ticket.id}")


def _staff(args: argparse.Namespace, service: Any) -> int:
    from kiosk.queue.appointments import parse_file
    from kiosk.queue.models import Priority

    command = args.queue_command
    out: Any
    if command == "status":
        out = service.categories()
        lines = [f"{c.code} {c.name}: {c.waiting} waiting, ~{c.estimated_wait_min} min, "
                 f"{'open' if c.open else 'closed'}, windows {'、'.join(c.windows) or '-'}"
                 for c in out]
    elif command == "windows":
        out = service.windows()
        lines = [f"{w.id} {w.name} ({w.area}) serves {','.join(w.categories) or '-'} "
                 f"[{w.source}] now: {w.current.number if w.current else '-'}" for w in out]
    elif command == "calls":
        out = service.recent_calls(10)
        lines = [f"{t.number} → {t.window} [{t.state.value}]" for t in out]
    elif command == "call":
        out = service.call_next(args.window)
        lines = [_line(out)]
    elif command in ("served", "no-show", "cancel"):
        action = {"served": service.mark_served, "no-show": service.mark_no_show,
                  "cancel": service.cancel}[command]
        out = action(args.ticket)
        lines = [_line(out)]
    elif command == "issue":
        out = service.issue_ticket(args.category,
                                   priority=Priority.GREEN if args.green else Priority.NORMAL)
        lines = [_line(out)]
    elif command == "tide":
        codes = None if args.clear else [c.strip().upper() for c in args.categories.split(",")
                                         if c.strip()]
        out = service.set_window_categories(args.window, codes)
        lines = [f"{out.id} {out.name} serves {','.join(out.categories) or '-'} [{out.source}]"]
    elif command == "import-appointments":
        try:
            items = parse_file(args.file)
        except ValueError as exc:
            print(f"kiosk queue: {exc}", file=sys.stderr)
            return 2
        out = service.import_appointments(items)
        lines = [f"{out.added} added, {out.updated} updated, {len(out.skipped)} skipped"]
        lines += [f"  skipped {ref}: {why}" for ref, why in out.skipped]
    else:  # pragma: no cover - argparse restricts the choices
        raise AssertionError(command)
    if args.json:
        data = [o.to_dict() for o in out] if isinstance(out, list) else (
            out.to_dict() if out is not None else None)
        print(json.dumps(data, ensure_ascii=False))
    else:
        print("\n".join(lines))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kiosk.queue",
                                     description="the queue's hall server and staff commands")
    sub = parser.add_subparsers(dest="command", required=True)
    add_cli(sub)
    args = parser.parse_args(["queue", *(sys.argv[1:] if argv is None else argv)])
    return run(args)
