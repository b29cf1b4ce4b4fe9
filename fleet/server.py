"""Running the server: uvicorn for the API, the ingest worker, the timer, the notifiers.

``serve`` binds its socket itself (``--listen 127.0.0.1:0`` takes a free port) and prints
``listening on http://HOST:PORT`` once it accepts connections, so tests read the port back.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
import sys
import threading
import time
from typing import Any

from fleet.app import Services, build_services, create_app
from fleet.clock import local_date, now_ms
from fleet.ingest import BatchResult, Ingestor
from fleet.lease import NameTaken
from fleet.settings import Settings

log = logging.getLogger(__name__)


class Timer:
    """Rules that depend on time passing: offline after the grace, stale health, overdue
    cases, command expiry, health retention and roll-ups, repeated notices.

    However many processes serve one database, one of them runs it: each step first takes
    or renews the ``timer`` lease (``fleet.lease``); the others wait and take over when the
    holder stops (it releases the lease) or dies (the lease expires, ``timer_lease_s``)."""

    def __init__(self, services: Services, holder: str | None = None) -> None:
        from fleet.lease import Lease

        self.services = services
        settings = services.settings
        ttl = settings.timer_lease_s or 3 * settings.timer_s
        self.lease = Lease(services.db, "timer", ttl, holder=holder, clock=services.now)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="fleet-timer", daemon=True)

    def step(self, now: int | None = None) -> list[Any] | None:
        """One round if this process holds the timer lease (``None`` if another does)."""
        now = self.services.now() if now is None else now
        if not self.lease.acquire(now):
            return None
        return self.tick(now)

    def tick(self, now: int | None = None) -> list[Any]:
        from fleet.services import alarms, cases, commands, retention

        now = self.services.now() if now is None else now
        settings = self.services.settings
        with self.services.db.session() as session:
            changes = alarms.evaluate_all(session, now, settings.alarms)
            cases.mark_overdue(session, local_date(now, settings.cases.timezone), now, changes)
            commands.expire(session, now)
            retention.roll_up(session, now, settings.health_raw_days)
            changes += alarms.due_renotify(session, now, settings.alarms)
        notify(self.services, changes)
        return changes

    def _run(self) -> None:
        while not self._stop.wait(self.services.settings.timer_s):
            try:
                self.step()
            except Exception:
                log.exception("timer tick failed")

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(10)
        self.lease.release()


def notify(services: Services, changes: list[Any]) -> None:
    if services.notifier is not None and changes:
        services.notifier.submit(changes)


def after_commit(services: Services, result: BatchResult) -> None:
    """Post-commit hooks of an ingest batch (its records are stored for good): the alarm
    notices. ``result.new_events`` are the events stored for the first time, for hooks that
    answer a terminal."""
    notify(services, result.changes)


def start_ingest(services: Services) -> Any:
    """An ingest worker under this process's claim on its name (``fleet.lease``); raises
    ``fleet.lease.NameTaken`` if another live worker has it."""
    from fleet.lease import Renewer, claim_worker_name
    from fleet.worker import IngestWorker

    settings = services.settings
    claim = Renewer(claim_worker_name(services.db, settings.worker, settings.worker_lease_s))
    claim.start()
    ingestor = Ingestor(services.db, settings, worker=settings.worker)
    worker = IngestWorker(settings, ingestor, on_batch=lambda r: after_commit(services, r))
    worker.name_claim = claim
    try:
        worker.start()
    except BaseException:
        claim.stop()
        raise
    return worker


def stop_ingest(worker: Any) -> None:
    worker.stop()
    claim = getattr(worker, "name_claim", None)
    if claim is not None:
        claim.stop()


def command_publisher(settings: Settings) -> Any:
    """A fleet MQTT client that publishes signed commands (QoS 1)."""
    from fleet.worker import mqtt_client

    client, host, port = mqtt_client(settings, settings.worker + "-cmd", clean=True)
    client.connect_async(host, port, keepalive=30)
    client.loop_start()

    def publish(region: str, terminal: str, payload: bytes) -> None:
        info = client.publish(f"{settings.topic_prefix}/{region}/{terminal}/cmd", payload,
                              qos=1)
        if info.rc not in (0, 4):  # 4 = not connected yet: queued by paho, sent on connect
            raise RuntimeError(f"MQTT publish failed (rc {info.rc})")

    return client, publish


def _bind(listen: str) -> socket.socket:
    host, _, port = listen.rpartition(":")
    if not host or not port.isdigit():
        raise SystemExit(f"kiosk-fleet: --listen {listen!r}: write HOST:PORT, e.g. "
                         "127.0.0.1:8800")
    # IPPROTO_TCP given: asyncio sets TCP_NODELAY only on sockets that say so, and without it
    # every response waited ~40 ms for a delayed ACK (Nagle)
    sock = socket.socket(socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET,
                         socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host.strip("[]"), int(port)))
    sock.listen(512)
    return sock


def serve(settings: Settings) -> int:
    import uvicorn

    from fleet.notify import Notifier

    services = build_services(settings)
    services.notifier = Notifier.from_settings(settings.notify)
    mqtt_client = worker = None
    if settings.ingest:
        try:
            worker = start_ingest(services)
        except NameTaken as exc:
            print(f"kiosk-fleet serve: {exc}", file=sys.stderr)
            services.db.dispose()
            return 2
    if settings.mqtt:
        mqtt_client, services.publish = command_publisher(settings)
    timer = Timer(services)
    timer.start()
    app = create_app(services=services)
    sock = _bind(settings.listen)
    host, port = sock.getsockname()[:2]
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
    server = uvicorn.Server(config)

    async def run() -> None:
        task = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started and not task.done():
            await asyncio.sleep(0.02)
        if server.started:
            print(f"listening on http://{host}:{port}", flush=True)
        await task

    try:
        asyncio.run(run())
    finally:
        timer.stop()
        if worker is not None:
            stop_ingest(worker)
        if mqtt_client is not None:
            mqtt_client.disconnect()
            mqtt_client.loop_stop()
        if services.notifier is not None:
            services.notifier.stop()
        services.db.dispose()
    return 0


def run_ingest(settings: Settings) -> int:
    from fleet.notify import Notifier

    services = build_services(settings)
    services.notifier = Notifier.from_settings(settings.notify)
    done = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: done.set())
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    try:
        worker = start_ingest(services)
    except NameTaken as exc:
        print(f"kiosk-fleet ingest: {exc}", file=sys.stderr)
        services.db.dispose()
        return 2
    warn_at = time.monotonic() + 60
    while not done.is_set():  # a stop signal is obeyed while the broker is still away
        if worker.wait_connected(0.5):
            print(f"ingest worker {settings.worker} subscribed on $share/"
                  f"{settings.share_group}", flush=True)
            break
        if time.monotonic() > warn_at:
            log.warning("ingest worker %s: no broker yet at %s; retrying", settings.worker,
                        settings.mqtt)
            warn_at = float("inf")
    done.wait()
    stop_ingest(worker)
    if services.notifier is not None:
        services.notifier.stop()
    services.db.dispose()
    return 0


__all__ = ["Timer", "after_commit", "now_ms", "run_ingest", "serve", "start_ingest"]
