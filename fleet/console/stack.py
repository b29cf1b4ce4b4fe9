"""A whole fleet on loopback for the console's browser tests and ``kiosk-fleet demo``.

Real parts only: a mosquitto broker, ``kiosk-fleet serve`` (API, console, ingest, alarm timer)
on a port the OS chose, ``kiosk-fleet simulate`` publishing terminals' traffic, and users of
every role created through the service layer. Chromium is Debian's, driven by Playwright.

    with ConsoleStack(tmp_path, terminals=12) as stack:
        stack.url                                   # http://127.0.0.1:PORT
        stack.kill_terminal()                       # the "victim" terminal drops off the network
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CHROMIUM = os.environ.get("FLEET_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
PASSWORD = "demo-password-1"  # the demo's users only (created in a throw-away database)
USERS = {"viewer": "viewer", "operator": "operator", "evaluator": "evaluator", "admin": "admin"}
SIZES = ((1920, 1080), (1280, 800))
# the one terminal of the "victim" simulator (kiosk-fleet simulate names them PREFIX-NNNNN)
VICTIM = "OFF-00000"


@dataclass
class StackOptions:
    terminals: int = 12
    regions: tuple[str, ...] = ("370102", "370103", "370112", "370202")
    health_interval_s: float = 2.0
    offline_grace_s: float = 5.0
    rate: float = 0.3  # sessions per terminal per second: ratings and bad reviews soon
    seed: int = 7


class StackError(RuntimeError):
    pass


def _cli() -> list[str]:
    return [sys.executable, "-m", "fleet.cli"]


class ConsoleStack:
    def __init__(self, directory: str | Path, options: StackOptions | None = None) -> None:
        self.dir = Path(directory)
        self.opts = options or StackOptions()
        self.procs: dict[str, subprocess.Popen[str]] = {}
        self.url = ""
        self.broker_port = 0
        self._broker: subprocess.Popen[str] | None = None

    # -- lifecycle ---------------------------------------------------------------------------
    def __enter__(self) -> ConsoleStack:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        self._start_broker()
        self._write_settings()
        self._keys()
        self._users()
        self._start_server()
        self._start_simulators()

    def stop(self) -> None:
        for name in list(self.procs)[::-1]:
            self._end(self.procs.pop(name))
        if self._broker is not None:
            from fleet.broker import release_port

            self._end(self._broker)
            self._broker = None
            release_port(self.broker_port)

    @staticmethod
    def _end(proc: subprocess.Popen[str]) -> None:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)

    # -- parts -----------------------------------------------------------------------------------
    def _start_broker(self) -> None:
        """mosquitto on a loopback port. mosquitto cannot report a port it chose nor take a
        bound socket, so the port is reserved (``fleet.broker.free_port``: bound, never
        listening, held while the broker runs) and the start retried on a clash (bounded)."""
        from fleet.broker import free_port, release_port

        conf_dir = self.dir / "broker"
        conf_dir.mkdir(exist_ok=True)
        for _attempt in range(5):
            port = free_port()
            conf = conf_dir / "mosquitto.conf"
            conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\n"
                            "persistence false\nlog_dest stderr\n")
            log = open(conf_dir / "mosquitto.log", "w")
            proc = subprocess.Popen(["mosquitto", "-c", str(conf)], stdout=log, stderr=log,
                                    text=True)
            if _wait_port(port, proc, 10):
                self._broker = proc
                self.broker_port = port
                return
            self._end(proc)
            release_port(port)
        raise StackError("mosquitto did not start; see broker/mosquitto.log")

    @property
    def mqtt_url(self) -> str:
        return f"mqtt://127.0.0.1:{self.broker_port}"

    def _write_settings(self) -> None:
        o = self.opts
        self.db_url = f"sqlite:///{self.dir / 'fleet.db'}"
        self.settings_file = self.dir / "fleet.toml"
        self.settings_file.write_text(
            f'db = "{self.db_url}"\nmqtt = "{self.mqtt_url}"\ntimer_s = 1.0\n'
            f"[alarms]\noffline_grace_s = {o.offline_grace_s}\n"
            f"health_interval_s = {o.health_interval_s}\nstale_intervals = 5\n",
            encoding="utf-8")

    def _keys(self) -> None:
        """The fleet's command-signing key and the evaluation system's key pair."""
        from fleet import keys
        from fleet.commands import new_key, public_b64, save_key

        self.command_key_file = self.dir / "command.pem"
        key = new_key()
        save_key(key, self.command_key_file)
        self.command_public = public_b64(key)
        evaluation = keys.new_evaluation_key()
        self.evaluation_private = self.dir / "eval.x25519"
        keys.save(evaluation, self.evaluation_private)
        self.evaluation_public = keys.public_b64(evaluation)

    def _users(self) -> None:
        from fleet.db import Database
        from fleet.services import users

        db = Database(self.db_url)
        db.upgrade()
        with db.session() as s:
            for name, role in USERS.items():
                users.create_user(s, name, PASSWORD, role)
        db.dispose()

    def _start_server(self) -> None:
        cmd = [*_cli(), "serve", "--config", str(self.settings_file), "--listen", "127.0.0.1:0",
               "--command-key", str(self.command_key_file),
               "--evaluation-key", str(self.evaluation_private)]
        log = open(self.dir / "serve.log", "w")
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=log, text=True,
                                cwd=self.dir)
        self.procs["serve"] = proc
        line = _read_line(proc, "listening on ", 60)
        if not line:
            raise StackError(f"kiosk-fleet serve did not start: {self.dir / 'serve.log'}")
        self.url = line.split("listening on ", 1)[1].strip()

    def _simulate(self, name: str, terminals: int, prefix: str, seed: int) -> None:
        o = self.opts
        cmd = [*_cli(), "simulate", "--broker", self.mqtt_url, "--terminals", str(terminals),
               "--health-interval", str(o.health_interval_s), "--rate", str(o.rate),
               "--prefix", prefix, "--seed", str(seed)]
        for region in o.regions:
            cmd += ["--region", region]
        log = open(self.dir / f"{name}.log", "w")
        self.procs[name] = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                            text=True, cwd=self.dir)

    def _start_simulators(self) -> None:
        self._simulate("simulate", self.opts.terminals, "SIM", self.opts.seed)
        self._simulate("victim", 1, "OFF", self.opts.seed + 1)

    def check(self) -> None:
        """Raise if a part of the fleet has stopped by itself (with the log to read)."""
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                raise StackError(f"{name} exited with {proc.returncode}: see "
                                 f"{self.dir / (name + '.log')}")
        if self._broker is not None and self._broker.poll() is not None:
            raise StackError(f"mosquitto exited: see {self.dir / 'broker' / 'mosquitto.log'}")

    def kill_terminal(self) -> None:
        """The victim terminal's process dies (SIGKILL): its connection drops, the broker
        publishes its Last Will."""
        proc = self.procs.pop("victim")
        proc.kill()
        proc.wait(timeout=10)

    # -- the browser ----------------------------------------------------------------------------
    def login(self, page: Any, username: str, password: str = PASSWORD) -> None:
        page.goto(f"{self.url}/login")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", password)
        page.click("button[type=submit]")
        page.wait_for_url(lambda u: "/login" not in u, timeout=15_000)


def launch_chromium(playwright: Any) -> Any:
    if not Path(CHROMIUM).exists():
        raise StackError(f"{CHROMIUM} is missing: make setup installs Debian's chromium")
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def _wait_port(port: int, proc: subprocess.Popen[str], timeout: float) -> bool:
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        with socket.socket() as sock:
            sock.settimeout(0.5)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return True
        time.sleep(0.05)
    return False


def _read_line(proc: subprocess.Popen[str], marker: str, timeout: float) -> str:
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return ""
        ready, _, _ = select.select([proc.stdout], [], [], 0.2)
        if ready:
            line = proc.stdout.readline()
            if marker in line:
                return line
    return ""
