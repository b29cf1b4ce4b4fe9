"""``kiosk queue ...`` as staff and technicians run it (``python -m kiosk.queue`` until the lead
wires it into ``kiosk``): a full cycle from taking a number to served, and clear errors."""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from kiosk.queue import add_cli

pytestmark = pytest.mark.timeout(120)
ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "KIOSK_QUEUE_PASSWORD": "password-1",
       "KIOSK_QUEUE_USER": "li"}


def kq(*args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kiosk.queue", *args], cwd=ROOT, env=ENV,
                          capture_output=True, text=True, timeout=timeout)


def secret_key(tmp_path: Path) -> Path:
    folder = tmp_path / "secrets"
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder / "id.key"


@pytest.fixture
def server(tmp_path: Path):  # type: ignore[no-untyped-def]
    db = tmp_path / "hall" / "hall.sqlite"
    db.parent.mkdir()
    made = kq("terminal", "add", "K-0001", "--db", str(db), "--out", str(tmp_path / "k.key"))
    assert made.returncode == 0 and "written to" in made.stdout, made.stderr
    assert (tmp_path / "k.key").stat().st_mode & 0o777 == 0o600
    added = kq("staff", "add", "li", "--windows", "1,2", "--admin", "--db", str(db))
    assert added.returncode == 0 and "windows 1,2, role admin" in added.stdout, added.stderr
    proc = subprocess.Popen([sys.executable, "-m", "kiosk.queue", "serve", "--db", str(db),
                             "--port", "0", "--key-file", str(secret_key(tmp_path))],
                            cwd=ROOT, env=ENV,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert "listening on" in line, proc.stderr.read() if proc.stderr else line
    url = line.split("listening on ")[1].split(" ")[0]
    yield url, proc
    if proc.poll() is None:
        proc.terminate()
        proc.wait(timeout=20)


def test_full_cycle_from_the_command_line(server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    url, proc = server
    key = ("--api-key-file", str(tmp_path / "k.key"))
    nokey = kq("issue", "A", "--url", url, "--user", "")
    assert nokey.returncode == 1 and "终端凭证" in nokey.stderr
    issued = kq("issue", "A", "--url", url, "--json", *key)
    assert issued.returncode == 0, issued.stderr
    ticket = json.loads(issued.stdout)
    assert ticket["number"] == "A001" and ticket["state"] == "waiting"
    green = json.loads(kq("issue", "A", "--green", "--url", url, "--json", *key).stdout)
    status = json.loads(kq("status", "--url", url, "--json", *key).stdout)
    assert status[0]["code"] == "A" and status[0]["waiting"] == 2
    called = kq("call", "--url", url, "--window", "1")
    assert called.returncode == 0 and called.stdout.startswith("A002 综合业务 [called at window 1]")
    assert green["id"] in called.stdout
    served = kq("served", green["id"], "--url", url)
    assert "[served" in served.stdout
    again = kq("served", ticket["id"], "--url", url)  # A001 is not called yet
    assert again.returncode == 1 and "A001号等待中，不能办结" in again.stderr
    tide = kq("tide", "--url", url, "--window", "2", "--categories", "B,C")
    assert tide.stdout.strip() == "2 2号窗口 serves B,C [override]"
    windows = kq("windows", "--url", url)
    assert "2 2号窗口 (A区) serves B,C [override]" in windows.stdout
    calls = kq("calls", "--url", url)
    assert calls.stdout.strip() == "A002 → 1 [served]"
    start = (datetime.now().astimezone() + timedelta(minutes=10)).isoformat()
    bookings = tmp_path / "bookings.csv"
    bookings.write_text("ref,category,start,id_number,name,code\n"
                        f"R1,B,{start},370102199001011234,张三,QR-1\n"
                        f"R2,Z,{start},,,\n", encoding="utf-8")
    imported = kq("import-appointments", str(bookings), "--url", url)
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout.splitlines() == ["1 added, 0 updated, 1 skipped",
                                            "  skipped R2: unknown category 'Z'"]
    proc.terminate()
    assert proc.wait(timeout=20) == 0
    assert proc.stdout is not None and "queue server stopped" in proc.stdout.read()


def test_sigterm_ends_the_server_while_a_display_listens(server) -> None:  # type: ignore[no-untyped-def]
    import httpx

    url, proc = server
    with httpx.stream("GET", f"{url}/display/events", timeout=30) as stream:
        lines = stream.iter_lines()
        assert next(lines) == "event: hello"
        proc.terminate()  # a hall TV never disconnects by itself
        assert proc.wait(timeout=30) == 0
    assert proc.stdout is not None and "queue server stopped" in proc.stdout.read()


def test_staff_commands_on_the_database_directly(tmp_path: Path) -> None:
    db = tmp_path / "kiosk.sqlite"
    missing = kq("status", "--db", str(db))
    assert missing.returncode == 2 and "no queue database" in missing.stderr
    from kiosk.queue import QueueEngine

    QueueEngine(db).close()
    for _ in range(2):
        assert kq("issue", "B", "--db", str(db)).returncode == 0
    called = kq("call", "--db", str(db), "--window", "3", "--json")
    assert json.loads(called.stdout)["number"] == "B001"
    empty = kq("call", "--db", str(db), "--window", "2")
    assert empty.stdout.strip() == "no ticket waiting"  # window 2 serves A only


def test_bad_input_is_refused_clearly(tmp_path: Path) -> None:
    settings = tmp_path / "queue.toml"
    settings.write_text('[queue]\nwindows = [{id = "1", categories = ["Q"]}]\n',
                        encoding="utf-8")
    result = kq("serve", "--db", str(tmp_path / "x.sqlite"), "--port", "0", "--settings",
                str(settings))
    assert result.returncode == 2
    assert str(settings) in result.stderr and "unknown category 'Q'" in result.stderr
    key = ("--key-file", str(secret_key(tmp_path)))
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = kq("serve", "--db", str(tmp_path / "x.sqlite"), "--port", str(port), *key)
    assert result.returncode == 2 and f"cannot listen on 127.0.0.1:{port}" in result.stderr
    not_db = tmp_path / "notes.txt"
    not_db.write_text("this is not a database\n" * 100, encoding="utf-8")
    result = kq("serve", "--db", str(not_db), "--port", "0", *key)
    assert result.returncode == 2 and f"cannot open {not_db}" in result.stderr
    assert "Traceback" not in result.stderr
    bad = tmp_path / "bad.csv"
    bad.write_text("ref;category;start\n", encoding="utf-8")
    db = tmp_path / "x.sqlite"
    result = kq("import-appointments", str(bad), "--db", str(db))
    assert result.returncode == 2 and "header lacks ref, category, start" in result.stderr
    assert "got 'ref;category;start'" in result.stderr
    result = kq("status", "--url", "http://127.0.0.1:9", "--timeout", "0.5")
    assert result.returncode == 1 and "暂时无法连接" in result.stderr
    result = kq("status", "--url", "http://127.0.0.1:9", "--profile", "nope")
    assert result.returncode == 2 and "unknown profile 'nope'" in result.stderr


def test_the_server_refuses_the_id_key_beside_the_database(tmp_path: Path) -> None:
    db = tmp_path / "hall.sqlite"
    result = kq("serve", "--db", str(db), "--port", "0")
    assert result.returncode == 2 and "set queue.key_file (or --key-file)" in result.stderr
    result = kq("serve", "--db", str(db), "--port", "0", "--key-file", str(tmp_path / "id.key"))
    assert result.returncode == 2 and "is in the database folder" in result.stderr
    assert "outside it" in result.stderr and "Traceback" not in result.stderr
    loose = secret_key(tmp_path)
    loose.write_bytes(b"k" * 32)
    loose.chmod(0o644)
    result = kq("serve", "--db", str(db), "--port", "0", "--key-file", str(loose))
    assert result.returncode == 2 and "chmod 600" in result.stderr
    assert not db.exists()  # refused before anything was written


def test_openapi_command() -> None:
    result = kq("openapi", "--server-url", "http://hall.example:8480")
    spec = json.loads(result.stdout)
    assert spec["servers"] == [{"url": "http://hall.example:8480"}]
    assert "/api/v1/tickets" in spec["paths"] and "/api/v1/help" in spec["paths"]


def test_add_cli_fits_the_kiosk_parser() -> None:
    """What the lead wires into kiosk/cli/main.py: `kiosk queue ...` with --profile/--config."""
    parser = argparse.ArgumentParser(prog="kiosk")
    sub = parser.add_subparsers(dest="command", required=True)
    add_cli(sub)
    args = parser.parse_args(["queue", "serve", "--db", "/tmp/q.sqlite", "--port", "0"])
    assert args.command == "queue" and args.queue_command == "serve"
    assert args.profile == "demo" and args.config is None and callable(args.handler)
    args = parser.parse_args(["queue", "call", "--url", "http://127.0.0.1:1", "--window", "1"])
    assert args.window == "1" and args.db is None
    for command in ("status", "windows", "calls", "served x", "no-show x", "cancel x", "issue A",
                    "tide --window 1 --clear", "import-appointments f.csv", "call --window 1"):
        args = parser.parse_args(["queue", *command.split(), "--db", "q.sqlite"])
        assert args.profile == "demo" and hasattr(args, "config")
    args = parser.parse_args(["queue", "openapi"])
    assert args.profile == "demo" and hasattr(args, "config")
