"""``kiosk-fleet simulate``: realistic traffic for N terminals under the real topic contract.

Each simulated terminal is its own MQTT client (client id = terminal id, persistent session,
a Last Will on its retained state topic, with ``--pki`` its own client certificate, so the
broker's per-terminal ACL applies). It publishes a birth record and "online" at connect,
health every ``--health-interval`` (QoS 0, retained), and sessions at ``--rate`` per second:
a ``session`` event, and for most completed sessions a 好差评 rating with a realistic mix
(mostly 非常满意/满意, a few bad ones with a reason). Now and then a printer runs out of
paper (fixed a few minutes later) or a terminal drops off and comes back.

One thread drives every client (paho's external loop on an epoll selector), so a thousand
terminals cost one process. ``--records N`` is the load-test mode: each terminal publishes
exactly N records (ratings and session events alternately) with deterministic ids
(``record_id(seed, terminal, i)``), and the command prints a JSON line with the totals when
every record was acknowledged by the broker.
"""

from __future__ import annotations

import json
import logging
import random
import selectors
import signal
import ssl
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from fleet import testing as payloads

log = logging.getLogger(__name__)

DEFAULT_REGIONS = ("370102", "370103", "370112", "370202", "370203", "370602", "370702")
SITES = {"370102": ("历下区政务服务中心", 36.661, 117.076),
         "370103": ("市中区政务服务中心", 36.651, 116.991),
         "370112": ("历城区政务服务中心", 36.680, 117.065),
         "370202": ("市南区政务服务中心", 36.066, 120.383),
         "370203": ("市北区政务服务中心", 36.087, 120.375),
         "370602": ("芝罘区便民服务中心", 37.540, 121.398),
         "370702": ("潍城区政务服务中心", 36.710, 119.101)}
LEVEL_MIX = (("very_satisfied", 0.62), ("satisfied", 0.24), ("basic", 0.08),
             ("dissatisfied", 0.035), ("very_dissatisfied", 0.015), ("not_rated", 0.01))


def record_id(seed: int, terminal: str, index: int) -> str:
    return uuid.uuid5(uuid.NAMESPACE_URL, f"kiosk-sim:{seed}:{terminal}:{index}").hex


def pick_level(rng: random.Random) -> str:
    x, acc = rng.random(), 0.0
    for level, p in LEVEL_MIX:
        acc += p
        if x < acc:
            return level
    return "satisfied"


@dataclass
class SimTerminal:
    id: str
    region: str
    site: str
    lat: float
    lon: float
    client: mqtt.Client | None = None
    connected: bool = False
    next_health: float = 0.0
    next_session: float = 0.0
    paper_out_until: float = 0.0
    next_try: float = 0.0
    backoff: float = 0.2
    down_until: float = 0.0
    unacked: dict[int, str] = field(default_factory=dict)


class Simulator:
    def __init__(self, url: str, count: int, *, pki: Path | None = None,
                 regions: tuple[str, ...] = DEFAULT_REGIONS, prefix: str = "SIM",
                 topic_prefix: str = "kiosk/v1", seed: int = 1, health_interval: float = 60,
                 rate: float = 0.05, inflight: int = 20) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
            raise ValueError(f"--broker {url!r}: use mqtt://host:port or mqtts://host:port")
        self.tls = parts.scheme == "mqtts"
        if self.tls and pki is None:
            raise ValueError("--broker mqtts:// needs --pki DIR (a CA; terminal certificates "
                             "are issued there when missing)")
        self.host, self.port = parts.hostname, parts.port or (8883 if self.tls else 1883)
        self.pki = pki
        self.topic_prefix = topic_prefix
        self.rng = random.Random(seed)
        self.seed = seed
        self.health_interval = health_interval
        self.rate = rate
        self.inflight = inflight
        self.sel = selectors.DefaultSelector()
        self.published = 0
        self.acked = 0
        self.terminals: list[SimTerminal] = []
        for i in range(count):
            region = regions[i % len(regions)]
            site, lat, lon = SITES.get(region, (f"{region} 政务服务中心", 36.6, 117.0))
            self.terminals.append(SimTerminal(
                f"{prefix}-{i:05d}", region, site, lat + self.rng.uniform(-0.03, 0.03),
                lon + self.rng.uniform(-0.03, 0.03)))

    # -- clients -------------------------------------------------------------------------------
    def _topic(self, term: SimTerminal, leaf: str) -> str:
        return f"{self.topic_prefix}/{term.region}/{term.id}/{leaf}"

    def _client(self, term: SimTerminal) -> mqtt.Client:
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=term.id,
                             clean_session=False, protocol=mqtt.MQTTv311, userdata=term)
        client.max_inflight_messages_set(self.inflight)
        client.max_queued_messages_set(0)
        client.will_set(self._topic(term, "state"), json.dumps(
            payloads.presence(term.id, False, reason="connection lost")), qos=1, retain=True)
        if self.tls:
            assert self.pki is not None
            cert, key = self.pki / f"{term.id}.pem", self.pki / f"{term.id}.key"
            if not cert.exists():
                from fleet.pki import TestCA

                TestCA(self.pki).client(term.id)
            client.tls_set(ca_certs=str(self.pki / "ca.pem"), certfile=str(cert),
                           keyfile=str(key), tls_version=ssl.PROTOCOL_TLS_CLIENT)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_publish = self._on_publish
        client.on_socket_open = lambda c, t, s: self.sel.register(s, selectors.EVENT_READ, c)
        client.on_socket_close = lambda c, t, s: self._unregister(s)
        client.on_socket_register_write = lambda c, t, s: self.sel.modify(
            s, selectors.EVENT_READ | selectors.EVENT_WRITE, c)
        client.on_socket_unregister_write = lambda c, t, s: self.sel.modify(
            s, selectors.EVENT_READ, c)
        return client

    def _unregister(self, sock: Any) -> None:
        try:
            self.sel.unregister(sock)
        except (KeyError, ValueError):
            pass

    def _on_connect(self, client: mqtt.Client, term: SimTerminal, _f: Any, reason: Any,
                    _p: Any) -> None:
        if reason.is_failure:
            log.warning("%s refused: %s", term.id, reason)
            return
        term.connected = True
        term.backoff = 0.2
        now_ms = int(time.time() * 1000)
        client.publish(self._topic(term, "birth"), json.dumps(payloads.birth(
            term.id, term.region, now_ms, site=term.site, lat=round(term.lat, 5),
            lon=round(term.lon, 5))), qos=1, retain=True)
        client.publish(self._topic(term, "state"), json.dumps(
            payloads.presence(term.id, True, now_ms)), qos=1, retain=True)

    def _on_disconnect(self, _c: mqtt.Client, term: SimTerminal, *_a: Any) -> None:
        term.connected = False
        term.next_try = time.monotonic() + term.backoff
        term.backoff = min(term.backoff * 2, 5.0)

    def _on_publish(self, _c: mqtt.Client, term: SimTerminal, mid: int, *_a: Any) -> None:
        if term.unacked.pop(mid, None) is not None:
            self.acked += 1

    def connect_all(self) -> None:
        for term in self.terminals:
            term.client = self._client(term)
            self._try_connect(term)

    def _try_connect(self, term: SimTerminal) -> None:
        assert term.client is not None
        try:
            if term.client.socket() is None:
                if term.next_try == 0.0:
                    term.client.connect(self.host, self.port, keepalive=30)
                else:
                    term.client.reconnect()
        except (OSError, ssl.SSLError, mqtt.WebsocketConnectionError) as exc:
            log.debug("%s: connect failed: %s", term.id, exc)
            term.next_try = time.monotonic() + term.backoff
            term.backoff = min(term.backoff * 2, 5.0)
            return
        term.next_try = -1.0

    # -- publishing ----------------------------------------------------------------------------
    def publish(self, term: SimTerminal, leaf: str, payload: dict[str, Any], qos: int = 1,
                retain: bool = False, track: bool = True) -> None:
        assert term.client is not None
        info = term.client.publish(self._topic(term, leaf), json.dumps(
            payload, ensure_ascii=False, separators=(",", ":")), qos=qos, retain=retain)
        if qos and track:
            term.unacked[info.mid] = payload["id"]
            self.published += 1

    def health_of(self, term: SimTerminal, now: float) -> dict[str, Any]:
        paper = "out" if now < term.paper_out_until else "ok"
        return payloads.health(term.id, paper=paper)

    def load(self, records: int) -> dict[str, int]:
        """Queue exactly ``records`` ratings and session events per terminal (alternating,
        deterministic ids) and a health record every 10. Returns the counts queued."""
        ratings = events = 0
        for term in self.terminals:
            for i in range(records):
                rid = record_id(self.seed, term.id, i)
                if i % 2 == 0:
                    self.publish(term, "event", payloads.session_event(
                        term.id, "completed", record_id=rid))
                    events += 1
                else:
                    self.publish(term, "rating", payloads.rating(
                        term.id, term.region, pick_level(self.rng), record_id=rid))
                    ratings += 1
                if i % 10 == 0:
                    self.publish(term, "health", self.health_of(term, 0), qos=0, retain=True,
                                 track=False)
        return {"ratings": ratings, "events": events}

    def _behave(self, term: SimTerminal, now: float) -> None:
        """The realistic mode: health on time, sessions, the odd fault."""
        if now >= term.next_health:
            term.next_health = now + self.health_interval
            if self.rng.random() < 0.002:
                term.paper_out_until = now + self.rng.uniform(120, 600)
            self.publish(term, "health", self.health_of(term, now), qos=0, retain=True,
                         track=False)
        if self.rate > 0 and now >= term.next_session:
            term.next_session = now + self.rng.expovariate(self.rate)
            r = self.rng.random()
            outcome = "completed" if r < 0.85 else "abandoned" if r < 0.95 else "timeout"
            self.publish(term, "event", payloads.session_event(term.id, outcome))
            if outcome == "completed" and self.rng.random() < 0.75:
                self.publish(term, "rating", payloads.rating(
                    term.id, term.region, pick_level(self.rng),
                    item=f"3701-ITEM-{self.rng.randint(1, 30):03d}"))
        if term.connected and self.rng.random() < 1e-5:  # drop off, back within a minute
            assert term.client is not None
            sock = term.client.socket()
            if sock is not None:
                import socket as _socket

                sock.shutdown(_socket.SHUT_RDWR)  # a dead link: the broker fires the Will
            term.down_until = now + self.rng.uniform(5, 60)

    # -- the loop ------------------------------------------------------------------------------
    def run(self, seconds: float = 0, behave: bool = True,
            until: Callable[[], bool] | None = None, progress: Callable[[], None] | None = None
            ) -> None:
        start = last_misc = time.monotonic()
        stop = [False]
        signal.signal(signal.SIGTERM, lambda *_: stop.__setitem__(0, True))
        signal.signal(signal.SIGINT, lambda *_: stop.__setitem__(0, True))
        for term in self.terminals:
            term.next_health = start + self.rng.uniform(0, self.health_interval)
            term.next_session = start + self.rng.expovariate(self.rate) if self.rate else 0
        while not stop[0]:
            now = time.monotonic()
            if seconds and now - start >= seconds:
                break
            if until is not None and until():
                break
            for key, mask in self.sel.select(timeout=0.05):
                client: mqtt.Client = key.data
                if mask & selectors.EVENT_READ:
                    client.loop_read()
                    sock = client.socket()
                    while sock is not None and getattr(sock, "pending", lambda: 0)():
                        client.loop_read()
                        sock = client.socket()
                if mask & selectors.EVENT_WRITE and client.socket() is not None:
                    client.loop_write()
            if now - last_misc >= 0.5:
                last_misc = now
                for term in self.terminals:
                    assert term.client is not None
                    term.client.loop_misc()
                    if term.client.socket() is None and now >= term.next_try >= 0 and \
                            now >= term.down_until:
                        self._try_connect(term)
                    elif term.client.socket() is None and term.next_try < 0:
                        term.next_try = now + term.backoff
                    if behave and term.connected:
                        self._behave(term, now)
                if progress is not None:
                    progress()

    def close(self) -> None:
        for term in self.terminals:
            if term.client is not None and term.client.socket() is not None:
                term.client.publish(self._topic(term, "state"), json.dumps(
                    payloads.presence(term.id, False, reason="shutdown")), qos=1, retain=True)
                term.client.loop_write()
                term.client.disconnect()
                term.client.loop_write()


def run_from_args(args: Any) -> int:
    sim = Simulator(args.broker, args.terminals, pki=args.pki,
                    regions=tuple(args.region) or DEFAULT_REGIONS, prefix=args.prefix,
                    seed=args.seed, health_interval=args.health_interval, rate=args.rate)
    sim.connect_all()
    records = getattr(args, "records", 0) or 0
    if records:
        counts = sim.load(records)
        began = time.monotonic()
        last = [0.0]

        def report() -> None:
            if time.monotonic() - last[0] >= 2:
                last[0] = time.monotonic()
                print(json.dumps({"published": sim.published, "acked": sim.acked}),
                      flush=True)

        sim.run(seconds=args.seconds, behave=False, until=lambda: sim.acked >= sim.published,
                progress=report)
        print(json.dumps({"done": sim.acked >= sim.published, **counts,
                          "published": sim.published, "acked": sim.acked,
                          "seconds": round(time.monotonic() - began, 2)}), flush=True)
        sim.close()
        return 0 if sim.acked >= sim.published else 1
    print(f"simulating {args.terminals} terminals on {args.broker}", flush=True)
    sim.run(seconds=args.seconds)
    sim.close()
    return 0
