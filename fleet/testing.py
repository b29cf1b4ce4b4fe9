"""Test helpers for the fleet servers (importable by the console's and enrolment's tests).

* :class:`PostgresServer`: a real PostgreSQL 15 from Debian's package, initdb + pg_ctl as an
  unprivileged user (``nobody`` when the tests run as root, since postgres refuses root), on
  a loopback port, data in a fresh temporary directory; ``url`` for ``--db``.
* :class:`ServerProcess`: ``kiosk-fleet serve`` as a subprocess on ``127.0.0.1:0``; the port
  is read back from its ``listening on`` line.
* payload builders (:func:`birth`, :func:`health`, :func:`rating`, :func:`session_event`,
  :func:`presence`) that produce schema-valid payloads for a terminal.
"""

from __future__ import annotations

import os
import pwd
import random
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

PG_BIN = Path("/usr/lib/postgresql/15/bin")
REPO = Path(__file__).resolve().parents[1]


class PostgresServer:
    """``with PostgresServer() as pg: Database(pg.url)``. Every ``database()`` call creates a
    fresh database, so tests stay independent on one server."""

    def __init__(self, user: str | None = None) -> None:
        self.user = user or ("nobody" if os.geteuid() == 0 else pwd.getpwuid(os.getuid())
                             .pw_name)
        self.dir = Path(tempfile.mkdtemp(prefix="fleet-pg-"))
        self.data = self.dir / "data"
        self.port = 0
        self._dbs = 0

    def _run(self, *cmd: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        if os.geteuid() == 0 and self.user != "root":
            cmd = ("runuser", "-u", self.user, "--", *cmd)
        return subprocess.run(cmd, capture_output=True, text=True, check=check, timeout=120)

    def start(self) -> PostgresServer:
        if os.geteuid() == 0:
            entry = pwd.getpwnam(self.user)
            os.chown(self.dir, entry.pw_uid, entry.pw_gid)
        os.chmod(self.dir, 0o700)
        self._run(str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "fleet", "-A", "trust",
                  "-E", "UTF8", "--no-sync", "--locale=C.UTF-8")
        rng = random.Random()
        for _attempt in range(20):  # a port taken by someone else: pick another one
            self.port = rng.randint(20000, 29999)
            log = self.dir / "pg.log"
            result = self._run(
                str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(log), "-w", "-t", "60",
                "-o", f"-c listen_addresses=127.0.0.1 -c port={self.port} "
                      f"-c unix_socket_directories={self.dir} -c fsync=off "
                      "-c synchronous_commit=off -c full_page_writes=off "
                      "-c max_connections=200 -c shared_buffers=128MB",
                "start", check=False)
            if result.returncode == 0:
                return self
            text = log.read_text(errors="replace") if log.exists() else result.stderr
            if "could not bind" not in text and "in use" not in text:
                raise RuntimeError(f"postgres did not start: {result.stderr}\n{text[-2000:]}")
        raise RuntimeError("postgres: no free port after 20 attempts")

    def database(self) -> str:
        """A new empty database; returns its URL."""
        import psycopg

        self._dbs += 1
        name = f"fleet_{self._dbs}_{uuid.uuid4().hex[:6]}"
        with psycopg.connect(f"postgresql://fleet@127.0.0.1:{self.port}/postgres",
                             autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql://fleet@127.0.0.1:{self.port}/{name}"

    @property
    def url(self) -> str:
        return f"postgresql://fleet@127.0.0.1:{self.port}/postgres"

    def stop(self) -> None:
        if self.data.exists():
            self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w",
                      "stop", check=False)
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class ServerProcess:
    """``kiosk-fleet serve`` in a subprocess on a free loopback port."""

    def __init__(self, args: list[str], env: dict[str, str] | None = None,
                 log_path: Path | None = None) -> None:
        self.args = args
        self.env = {**os.environ, **(env or {})}
        self.log_path = log_path
        self.proc: subprocess.Popen[str] | None = None
        self.url = ""

    def start(self, timeout: float = 60.0) -> ServerProcess:
        cmd = [sys.executable, "-m", "fleet.cli", "serve", "--listen", "127.0.0.1:0",
               *self.args]
        stderr = open(self.log_path, "w") if self.log_path else subprocess.DEVNULL
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=stderr, text=True,
                                     cwd=REPO, env=self.env)
        deadline = time.monotonic() + timeout
        assert self.proc.stdout is not None
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"kiosk-fleet serve exited with {self.proc.returncode}")
                continue
            if line.startswith("listening on "):
                self.url = line.split()[-1]
                return self
        self.stop()
        raise RuntimeError("kiosk-fleet serve did not report its port")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if self.proc is not None and self.proc.stdout:
            self.proc.stdout.close()

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# -- schema-valid payloads ---------------------------------------------------------------------
def _env(kind: str, terminal: str, values: dict[str, Any], ts: int | None,
         record_id: str | None = None) -> dict[str, Any]:
    return {"schema": f"kiosk.{kind}", "v": 1, "ts": int(ts or time.time() * 1000),
            "terminal": terminal, "id": record_id or uuid.uuid4().hex, "values": values}


def presence(terminal: str, online: bool, ts: int | None = None, reason: str = ""
             ) -> dict[str, Any]:
    return _env("presence", terminal, {"online": online, "reason": reason or
                                       ("" if online else "connection lost")}, ts)


def birth(terminal: str, region: str, ts: int | None = None, *, site: str = "历下区政务服务中心",
          lat: float = 36.66, lon: float = 117.02, version: str = "0.1.0",
          services: tuple[str, ...] = ("queue", "guide", "code", "rating"),
          hours: list[dict[str, str]] | None = None) -> dict[str, Any]:
    return _env("birth", terminal, {
        "version": version, "config_hash": "0123456789abcdef", "profile": "hall",
        "started": int(ts or time.time() * 1000),
        "capabilities": {"devices": {"idcard": "sam", "printer": "escpos",
                                     "scanner": "serial"}},
        "location": {"name": f"{terminal} 自助终端", "site": site, "region_code": region,
                     "latitude": lat, "longitude": lon, "timezone": "Asia/Shanghai",
                     "host": "kiosk"},
        "opening_hours": hours if hours is not None else
        [{"days": "Mon-Fri", "open": "08:30", "close": "17:30"}],
        "services": list(services)}, ts)


def device(state: str = "ready", paper: str | None = None, reason: str = "",
           type_: str = "sam") -> dict[str, Any]:
    return {"state": state, "type": type_, "reason": reason, "since": None, "paper": paper,
            "detail": {}}


def health(terminal: str, ts: int | None = None, *, paper: str = "ok",
           idcard: str = "ready", depth: int = 0, outbox_alarm: bool = False,
           free_gb: float = 40.0, used_percent: float = 30.0) -> dict[str, Any]:
    return _env("health", terminal, {
        "devices": {"idcard": device(idcard, reason="" if idcard == "ready" else "no answer"),
                    "printer": device("ready", paper=paper, type_="escpos")},
        "uptime_s": 1000.0, "app_uptime_s": 900.0, "cpu_percent": 12.5, "load1": 0.3,
        "memory": {"total_mb": 4096, "available_mb": 2048, "used_percent": 50.0},
        "disk": {"path": "/", "total_gb": 64.0, "free_gb": free_gb,
                 "used_percent": used_percent},
        "temperature_c": None, "last_error": None,
        "outbox": {"depth": depth, "ratings": 0, "max_records": 100000, "alarm": outbox_alarm,
                   "inflight": 0},
        "version": "0.1.0"}, ts)


LEVEL_CODES = {"very_satisfied": (1, 5), "satisfied": (2, 4), "basic": (3, 3),
               "dissatisfied": (4, 2), "very_dissatisfied": (5, 1)}
LABELS = {"very_satisfied": "非常满意", "satisfied": "满意", "basic": "基本满意",
          "dissatisfied": "不满意", "very_dissatisfied": "非常不满意", "not_rated": "未评价"}


def rating(terminal: str, region: str, level: str = "satisfied", ts: int | None = None, *,
           record_id: str | None = None, item: str = "370100-SB-001",
           sealed: str | None = None, key_id: str | None = None) -> dict[str, Any]:
    """A rating record; ``sealed``/``key_id`` make it identified (real-name part)."""
    ts = int(ts or time.time() * 1000)
    gbt, prov = LEVEL_CODES.get(level, (None, None))
    bad = level in ("dissatisfied", "very_dissatisfied")
    from fleet.clock import iso

    return _env("rating", terminal, {
        "item_code": item, "item_name": "社保缴费证明打印", "handling_number": "H0001",
        "time": iso(ts), "level": level, "label": LABELS[level], "gbt39046_code": gbt,
        "provincial_code": prov, "channel": 5, "assess_number": 1, "first_time": None,
        "reasons": ["等待时间长"] if bad else [], "text": "", "region_code": region,
        "source": "pad" if level != "not_rated" else "timeout",
        "user_prop": 1 if sealed else None, "identified": bool(sealed),
        "real_name_sealed": sealed, "key_id": key_id}, ts, record_id)


def session_event(terminal: str, outcome: str = "completed", ts: int | None = None,
                  record_id: str | None = None) -> dict[str, Any]:
    return _env("event", terminal, {"name": "session", "data": {
        "flow": "proof", "outcome": outcome, "duration_s": 42.0}}, ts, record_id)


def command_result(terminal: str, command_id: str, status: str = "ok", reason: str = "",
                   ts: int | None = None) -> dict[str, Any]:
    return _env("command_result", terminal, {"command_id": command_id, "name": "maintenance",
                                             "status": status, "reason": reason,
                                             "detail": "", "data": {}}, ts)


def topic(region: str, terminal: str, leaf: str, prefix: str = "kiosk/v1") -> str:
    return f"{prefix}/{region}/{terminal}/{leaf}"
