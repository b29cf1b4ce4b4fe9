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
    parser.add_argument("--api-key-file", type=Path, default=None,
                        help="kiosk key file for issue/status against --url")
    parser.add_argument("--user", default=os.environ.get("KIOSK_QUEUE_USER", ""),
                        help="staff name for window commands against --url (password from "
                             "$KIOSK_QUEUE_PASSWORD)")
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
    serve.add_argument("--key-file", type=Path, default=None,
                       help="HMAC key for ID numbers (default queue.key_file); must be outside "
                            "the database folder, mode 600")
    serve.add_argument("--cert", type=Path, default=None, help="TLS certificate (PEM)")
    serve.add_argument("--key", type=Path, default=None, help="TLS private key (PEM)")
    serve.add_argument("--speech-cache", type=Path, default=None,
                       help="folder of the cached announcements (default <db folder>/speech-cache)")
    _config_args(serve)

    terminal = sub.add_parser("terminal", help="kiosk credentials: add ID (prints its key once)")
    terminal.add_argument("action", choices=("add", "revoke", "list"))
    terminal.add_argument("terminal_id", nargs="?", default="")
    terminal.add_argument("--db", type=Path, required=True, help="the hall server's database")
    terminal.add_argument("--out", type=Path, default=None,
                          help="write the key to this file (mode 600) instead of printing it")
    _config_args(terminal)
    staff = sub.add_parser("staff", help="staff accounts: add NAME --windows 1,2 [--admin]; "
                           "the password from $KIOSK_QUEUE_PASSWORD or a prompt")
    staff.add_argument("action", choices=("add",))
    staff.add_argument("name")
    staff.add_argument("--windows", default="", help="window ids, e.g. 1,2")
    staff.add_argument("--admin", action="store_true", help="categories, windows, imports")
    staff.add_argument("--db", type=Path, required=True, help="the hall server's database")
    _config_args(staff)

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
        from kiosk.queue.app import build_app

        spec = build_app(None).openapi()  # type: ignore[arg-type]
        if args.server_url:
            spec["servers"] = [{"url": args.server_url}]
        print(json.dumps(spec, ensure_ascii=False, indent=1))
        return 0
    from config.errors import ConfigError

    try:
        config, settings = _load(args, config)
    except (ConfigError, ValueError) as exc:
        print(f"kiosk queue: {exc}", file=sys.stderr)
        return 2
    if command == "serve":
        return _serve(args, config, settings)
    if command in ("terminal", "staff"):
        return _accounts(args, config)
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
    from kiosk.queue.hallservice import check_key_location

    key_file = args.key_file or (Path(settings.key_file) if settings.key_file else None)
    if key_file is None:
        print("kiosk queue serve: set queue.key_file (or --key-file) to the ID-number key, "
              "outside the database folder, e.g. /etc/aishandong-queue/id.key", file=sys.stderr)
        return 2
    if bool(args.cert) != bool(args.key):
        print("kiosk queue serve: --cert and --key go together", file=sys.stderr)
        return 2
    try:
        check_key_location(key_file, args.db)
    except ValueError as exc:
        print(f"kiosk queue serve: {exc}", file=sys.stderr)
        return 2
    try:
        engine = QueueEngine(args.db, settings, OpeningHours.from_terminal(config.terminal),
                             key_path=key_file)
    except (OSError, ValueError, sqlite3.Error) as exc:
        print(f"kiosk queue serve: cannot open {args.db}: {exc}", file=sys.stderr)
        return 2
    reporter = _fleet_reporter(config)
    try:
        server = QueueHttpServer(engine, args.host, args.port, cert=args.cert, key=args.key,
                                 speech_dir=args.speech_cache, hall_id=config.terminal.id,
                                 fleet=reporter.record_event if reporter else None)
    except OSError as exc:
        engine.close()
        if reporter is not None:
            reporter.stop()
        print(f"kiosk queue serve: cannot listen on {args.host}:{args.port}: {exc.strerror}",
              file=sys.stderr)
        return 2

    def stop(_signum: int, _frame: Any) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    print(f"queue server listening on {server.url} (database {args.db}, API "
          f"{server.url}/api/v1, description {server.url}/openapi.json, staff page "
          f"{server.url}/staff, display {server.url}/display)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        engine.close()
        if reporter is not None:
            reporter.stop()
    print("queue server stopped", flush=True)
    return 0


def _fleet_reporter(config: Any) -> Any:
    """With ``mqtt.enabled``: the telemetry reporter (durable outbox, MQTT with the hall
    server's own certificate, ``terminal.id`` as its fleet id) for the daily counts."""
    if not config.mqtt.enabled:
        return None
    from kiosk.telemetry import Reporter

    data_dir = Path(config.storage.data_dir).expanduser()
    data_dir.mkdir(parents=True, exist_ok=True)
    reporter = Reporter(config, dict, data_dir / "queue-outbox.db",
                        capabilities={"services": ["queue-server"]})
    reporter.start()
    return reporter


def _service(args: argparse.Namespace, config: Any, settings: Any) -> Any:
    from kiosk.queue.client import HttpQueueService
    from kiosk.queue.engine import QueueEngine
    from kiosk.queue.hours import OpeningHours
    from kiosk.queue.service import EmbeddedQueueService

    if args.url:
        key = args.api_key_file.read_text(encoding="utf-8").strip() if args.api_key_file else ""
        client = HttpQueueService(args.url, timeout_s=args.timeout, retries=settings.retries,
                                  terminal="staff-cli", api_key=key)
        if args.user:
            client.login(args.user, os.environ.get("KIOSK_QUEUE_PASSWORD", ""))
        return client
    if not args.db.exists():
        raise ValueError(f"no queue database at {args.db}")
    engine = QueueEngine(args.db, settings, OpeningHours.from_terminal(config.terminal))
    return EmbeddedQueueService(engine, terminal="staff-cli")


def _accounts(args: argparse.Namespace, config: Any) -> int:
    import getpass

    from kiosk.queue.hall import HallStore
    from kiosk.queue.hours import OpeningHours

    hall = HallStore(args.db, OpeningHours.from_terminal(config.terminal).tz)
    try:
        if args.queue_command == "terminal":
            if args.action == "list":
                print("\n".join(hall.terminals()))
                return 0
            if not args.terminal_id:
                print("kiosk queue terminal: give the terminal id", file=sys.stderr)
                return 2
            if args.action == "revoke":
                if hall.revoke_terminal(args.terminal_id):
                    print(f"{args.terminal_id} revoked: a running server refuses its key from "
                          "the next request")
                    return 0
                print(f"kiosk queue terminal revoke: no terminal {args.terminal_id!r} (see "
                      "`kiosk queue terminal list`)", file=sys.stderr)
                return 1
            key = hall.add_terminal(args.terminal_id)
            if args.out:
                fd = os.open(args.out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    handle.write(key + "\n")
                print(f"key of {args.terminal_id} written to {args.out} (set queue.api_key_file "
                      "on that kiosk)")
            else:
                print(key)
            return 0
        password = os.environ.get("KIOSK_QUEUE_PASSWORD") or getpass.getpass("password: ")
        windows = [w.strip() for w in args.windows.split(",") if w.strip()]
        who = hall.add_staff(args.name, password, windows, "admin" if args.admin else "staff")
        print(f"staff {who.name}: windows {','.join(who.windows) or '-'}, role {who.role}")
        return 0
    except QueueError as exc:
        print(f"kiosk queue {args.queue_command}: {exc.message}", file=sys.stderr)
        return 2
    finally:
        hall.close()


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
