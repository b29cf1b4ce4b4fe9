"""The mosquitto configuration generator (TLS, client certificates, per-terminal ACL), and a
small process wrapper the tests and the lab use to run a real broker on loopback.

    python -m fleet.broker --out broker --pki pki --port 8883 \
        --terminal JN-LX-0001@370102 --terminal JN-LX-0002@370102 --fleet fleet

A city broker bridged to the province (``--bridge-to``), and the centre that lets it in
(``--bridge-user``)::

    python -m fleet.broker --out city --pki pki --terminal QD-0001@370202 \
        --bridge-to province.example:8883 --bridge-name bridge-qingdao
    python -m fleet.broker --out centre --pki pki --bridge-user bridge-qingdao@370202,370203

writes ``broker/mosquitto.conf`` and ``broker/acl``; run ``mosquitto -c broker/mosquitto.conf``.

ACL rules (docs/mqtt.md): a terminal (certificate CN = terminal id = MQTT username) may write
only its own ``state``, ``birth``, ``health``, ``rating``, ``event`` and ``cmd/result`` topics
and read only its own ``cmd`` topic. A fleet identity reads every terminal's topics and writes
commands. Nobody else may do anything (``allow_anonymous false`` on the TLS listener).
"""

from __future__ import annotations

import argparse
import os
import pwd
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from kiosk.telemetry.topics import DOWN_LEAVES, UP_LEAVES, Topics


@dataclass(frozen=True)
class TerminalEntry:
    id: str
    region: str

    @classmethod
    def parse(cls, text: str) -> TerminalEntry:
        ident, sep, region = text.partition("@")
        if not sep or not ident or not region:
            raise ValueError(f"terminal {text!r}: write it as ID@REGION, e.g. JN-LX-0001@370102")
        Topics("kiosk/v1", region, ident)  # validates both as topic levels
        return cls(ident, region)


@dataclass(frozen=True)
class BridgeEntry:
    """A city broker's bridge to the centre: its identity (certificate CN) and its regions."""

    name: str
    regions: tuple[str, ...]

    @classmethod
    def parse(cls, text: str) -> BridgeEntry:
        name, sep, regions = text.partition("@")
        found = tuple(r for r in regions.split(",") if r)
        if not sep or not name or not found:
            raise ValueError(f"bridge {text!r}: write it as NAME@REGION[,REGION…], e.g. "
                             "bridge-qingdao@370202,370203")
        for region in found:
            Topics("kiosk/v1", region, name)
        return cls(name, found)


@dataclass(frozen=True)
class BridgeTo:
    """This broker forwards its terminals' uplink to a central broker and takes their
    commands from it (one mosquitto per city, bridged to the province)."""

    name: str  # this bridge's identity at the centre (its client certificate's CN)
    host: str
    port: int
    ca_file: Path
    cert_file: Path
    key_file: Path


def bridge_text(bridge: BridgeTo, prefix: str = "kiosk/v1") -> str:
    """The ``connection`` block: uplink leaves out at QoS 1, commands and the catalogue
    notice in; a persistent session so nothing is lost while the link is down."""
    lines = [f"connection {bridge.name}", f"address {bridge.host}:{bridge.port}",
             "bridge_protocol_version mqttv311", f"remote_clientid {bridge.name}",
             "cleansession false", "try_private true", "notifications false",
             "restart_timeout 2 30", f"bridge_cafile {Path(bridge.ca_file).resolve()}",
             f"bridge_certfile {Path(bridge.cert_file).resolve()}",
             f"bridge_keyfile {Path(bridge.key_file).resolve()}"]
    lines += [f"topic {prefix}/+/+/{leaf} out 1" for leaf in UP_LEAVES]
    lines += [f"topic {prefix}/+/+/{leaf} in 1" for leaf in DOWN_LEAVES]
    lines.append(f"topic {prefix}/catalogue/notice in 1")
    return "\n".join(lines) + "\n"


def bridge_acl(entries: Iterable[BridgeEntry], prefix: str = "kiosk/v1") -> str:
    """The centre's ACL blocks for city bridges: each writes its regions' uplink and reads
    their commands (nothing of other regions)."""
    lines: list[str] = []
    for entry in entries:
        lines.append(f"user {entry.name}")
        for region in entry.regions:
            lines += [f"topic write {prefix}/{region}/+/{leaf}" for leaf in UP_LEAVES]
            lines += [f"topic read {prefix}/{region}/+/{leaf}" for leaf in DOWN_LEAVES]
        lines += [f"topic read {prefix}/catalogue/notice", ""]
    return "\n".join(lines)


@dataclass
class BrokerSpec:
    """What to generate. Paths are written into the config as they are given (absolute)."""

    directory: Path
    port: int = 8883
    host: str = "127.0.0.1"
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    terminals: Sequence[TerminalEntry] = ()
    fleet_users: Sequence[str] = ("fleet",)
    prefix: str = "kiosk/v1"
    plain_port: int | None = None  # an extra loopback listener without TLS (demo only)
    persistence: bool = True
    max_queued_messages: int = 1_000_000  # a fleet receiver offline for a while loses nothing
    max_inflight_messages: int = 1000  # > 2 × the ingest batch_size (fleet.settings)
    log_types: Sequence[str] = ("error", "warning", "notice")
    extra_lines: Sequence[str] = field(default_factory=list)
    bridge_users: Sequence[BridgeEntry] = ()  # at the centre: city bridges allowed in
    bridge_to: BridgeTo | None = None  # at a city: the centre to forward to


def acl_text(terminals: Iterable[TerminalEntry], fleet_users: Iterable[str] = ("fleet",),
             prefix: str = "kiosk/v1", anonymous_demo: bool = False) -> str:
    lines = ["# generated by fleet.broker: one block per identity (certificate CN)", ""]
    if anonymous_demo:
        lines += ["# anonymous clients exist only on the loopback demo listener",
                  f"topic readwrite {prefix}/#", ""]
    for term in terminals:
        topics = Topics(prefix, term.region, term.id)
        lines.append(f"user {term.id}")
        lines += [f"topic write {topics.leaf(leaf)}" for leaf in UP_LEAVES]
        lines += [f"topic read {topics.leaf(leaf)}" for leaf in DOWN_LEAVES]
        lines.append(f"topic read {prefix}/catalogue/notice")  # shared: a new catalogue exists
        lines.append("")
    for user in fleet_users:
        lines += [f"user {user}", f"topic read {prefix}/#",
                  f"topic write {prefix}/+/+/cmd", f"topic write {prefix}/catalogue/notice", ""]
    return "\n".join(lines)


def config_text(spec: BrokerSpec) -> str:
    directory = spec.directory.resolve()
    run_as = pwd.getpwuid(os.getuid()).pw_name
    lines = [
        "# generated by fleet.broker",
        f"user {run_as}",
        "per_listener_settings true",
        f"persistence {'true' if spec.persistence else 'false'}",
        f"persistence_location {directory}/",
        "autosave_interval 5",
        f"max_queued_messages {spec.max_queued_messages}",
        # unacknowledged QoS 1 messages per client: the ingest workers acknowledge after
        # their batch is committed, so the window must hold more than a batch
        f"max_inflight_messages {spec.max_inflight_messages}",
        f"log_dest file {directory / 'mosquitto.log'}",
        *[f"log_type {t}" for t in spec.log_types],
        "connection_messages true",
        "",
    ]
    if spec.ca_file and spec.cert_file and spec.key_file:
        lines += [
            f"listener {spec.port} {spec.host}",
            f"cafile {Path(spec.ca_file).resolve()}",
            f"certfile {Path(spec.cert_file).resolve()}",
            f"keyfile {Path(spec.key_file).resolve()}",
            "require_certificate true",
            "use_identity_as_username true",
            "allow_anonymous false",
            f"acl_file {directory / 'acl'}",
            "",
        ]
    elif spec.plain_port is None:
        raise ValueError("give the broker's TLS files (ca, cert, key) or a plain loopback port")
    if spec.plain_port is not None:
        lines += [
            "# plain MQTT, loopback only: the demo terminal (mqtt://127.0.0.1)",
            f"listener {spec.plain_port} 127.0.0.1",
            "allow_anonymous true",
            f"acl_file {directory / 'acl-demo'}",
            "",
        ]
    lines += list(spec.extra_lines)
    if spec.bridge_to is not None:
        lines += ["", bridge_text(spec.bridge_to, spec.prefix)]
    return "\n".join(lines) + "\n"


def write_config(spec: BrokerSpec) -> Path:
    """Write ``mosquitto.conf`` and the ACL file(s); returns the config path."""
    spec.directory.mkdir(parents=True, exist_ok=True)
    (spec.directory / "acl").write_text(acl_text(spec.terminals, spec.fleet_users, spec.prefix)
                                        + "\n" + bridge_acl(spec.bridge_users, spec.prefix))
    if spec.plain_port is not None:
        (spec.directory / "acl-demo").write_text(
            acl_text(spec.terminals, spec.fleet_users, spec.prefix, anonymous_demo=True))
    conf = spec.directory / "mosquitto.conf"
    conf.write_text(config_text(spec))
    return conf


#: ports held by :func:`free_port` (port -> its reserving socket) until :func:`release_port`
_RESERVED: dict[int, socket.socket] = {}


def reserve_port(host: str = "127.0.0.1") -> socket.socket:
    """An OS-assigned loopback port held for a server that cannot take a bound socket
    (mosquitto): a socket bound with ``SO_REUSEADDR`` that never listens. Connecting to the
    port is refused until the server listens, no other program can bind it in between, and
    mosquitto (which sets ``SO_REUSEADDR`` too) binds, stops and binds it again while the
    reservation stays open. Close the socket when the server is gone for good."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    return sock


def free_port(host: str = "127.0.0.1") -> int:
    """A port reserved by :func:`reserve_port` for this process (not bind-close-reuse: the
    reservation stays open until :func:`release_port`)."""
    sock = reserve_port(host)
    port = int(sock.getsockname()[1])
    _RESERVED[port] = sock
    return port


def release_port(port: int | None) -> None:
    sock = _RESERVED.pop(port, None) if port is not None else None
    if sock is not None:
        sock.close()


class BrokerError(RuntimeError):
    pass


class MosquittoProcess:
    """A real mosquitto on loopback with a generated config; stop and restart it at will."""

    def __init__(self, spec: BrokerSpec, binary: str = "mosquitto") -> None:
        self.spec = spec
        self.binary = binary
        self.conf = write_config(spec)
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def log_path(self) -> Path:
        return self.spec.directory / "mosquitto.log"

    def start(self, timeout: float = 10.0) -> None:
        if self.running:
            return
        self._proc = subprocess.Popen([self.binary, "-c", str(self.conf)],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        ports = [p for p in (self.spec.port if self.spec.ca_file else None,
                             self.spec.plain_port) if p]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                err = self._proc.stderr.read().decode(errors="replace") if self._proc.stderr \
                    else ""
                raise BrokerError(f"mosquitto exited with {self._proc.returncode}: {err}"
                                  f"{self.tail_log()}")
            if all(_accepts(self.spec.host if p == self.spec.port else "127.0.0.1", p)
                   for p in ports):
                return
            time.sleep(0.02)
        self.stop()
        raise BrokerError(f"mosquitto did not listen on {ports} within {timeout} s")

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM (mosquitto saves its persistence file), then SIGKILL after ``timeout``."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        if proc.stderr:
            proc.stderr.close()

    def restart(self) -> None:
        self.stop()
        self.start()

    def tail_log(self, lines: int = 20) -> str:
        try:
            return "\n" + "\n".join(self.log_path.read_text(errors="replace")
                                    .splitlines()[-lines:])
        except OSError:
            return ""

    def __enter__(self) -> MosquittoProcess:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _accepts(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.2):
            return True
    except OSError:
        return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fleet.broker", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True, help="directory for the config")
    parser.add_argument("--pki", type=Path, help="directory made by `python -m fleet.pki init`"
                        " (ca.pem, server.pem, server.key)")
    parser.add_argument("--host", default="127.0.0.1", help="address of the TLS listener")
    parser.add_argument("--port", type=int, default=8883)
    parser.add_argument("--plain-port", type=int, help="extra loopback listener without TLS")
    parser.add_argument("--terminal", action="append", default=[], metavar="ID@REGION")
    parser.add_argument("--fleet", action="append", default=[], metavar="CN",
                        help="fleet identities (default: fleet)")
    parser.add_argument("--prefix", default="kiosk/v1")
    parser.add_argument("--bridge-user", action="append", default=[],
                        metavar="NAME@REGION[,REGION]",
                        help="at the centre: a city bridge allowed to forward these regions")
    parser.add_argument("--bridge-to", metavar="HOST:PORT",
                        help="at a city: forward to this central broker (TLS)")
    parser.add_argument("--bridge-name", default="",
                        help="this bridge's identity at the centre (certificate CN; "
                        "--pki holds NAME.pem and NAME.key)")
    args = parser.parse_args(argv)
    try:
        terminals = [TerminalEntry.parse(t) for t in args.terminal]
        bridge_users = [BridgeEntry.parse(b) for b in args.bridge_user]
    except ValueError as exc:
        print(f"fleet.broker: {exc}", file=sys.stderr)
        return 2
    pki = args.pki
    if pki is None and args.plain_port is None:
        print("fleet.broker: give --pki (TLS) and/or --plain-port (loopback demo)",
              file=sys.stderr)
        return 2
    spec = BrokerSpec(args.out, port=args.port, host=args.host,
                      ca_file=pki / "ca.pem" if pki else None,
                      cert_file=pki / "server.pem" if pki else None,
                      key_file=pki / "server.key" if pki else None,
                      terminals=terminals, fleet_users=args.fleet or ["fleet"],
                      prefix=args.prefix, plain_port=args.plain_port,
                      bridge_users=bridge_users)
    if args.bridge_to:
        host, _, port = args.bridge_to.rpartition(":")
        if not pki or not args.bridge_name or not port.isdigit():
            print("fleet.broker: --bridge-to HOST:PORT needs --pki and --bridge-name",
                  file=sys.stderr)
            return 2
        spec.bridge_to = BridgeTo(args.bridge_name, host, int(port), pki / "ca.pem",
                                  pki / f"{args.bridge_name}.pem",
                                  pki / f"{args.bridge_name}.key")
    if pki is not None:
        missing = [str(p) for p in (spec.ca_file, spec.cert_file, spec.key_file)
                   if p is not None and not p.is_file()]
        if missing:
            print(f"fleet.broker: missing {', '.join(missing)}; create them with "
                  f"`python -m fleet.pki init --dir {pki}`", file=sys.stderr)
            return 2
    print(write_config(spec))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
