"""Running the server: uvicorn for the API, the ingest worker, the timer, the notifiers.

``serve`` binds its socket itself (``--listen 127.0.0.1:0`` takes a free port) and prints
``listening on http://HOST:PORT`` once it accepts connections, so tests read the port back.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
import threading
from typing import Any

from fleet.app import Services, build_services, create_app
from fleet.clock import local_date, now_ms
from fleet.ingest import BatchResult, Ingestor
from fleet.settings import Settings

log = logging.getLogger(__name__)


class Timer:
    """Rules that depend on time passing: offline after the grace, stale health, overdue
    cases, command expiry, health retention and roll-ups, repeated notices."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="fleet-timer", daemon=True)

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
                self.tick()
            except Exception:
                log.exception("timer tick failed")

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)


def notify(services: Services, changes: list[Any]) -> None:
    if services.notifier is not None and changes:
        services.notifier.submit(changes)


def start_ingest(services: Services) -> Any:
    from fleet.worker import IngestWorker

    settings = services.settings
    ingestor = Ingestor(services.db, settings, worker=settings.worker)

    def on_batch(result: BatchResult) -> None:
        notify(services, result.changes)

    worker = IngestWorker(settings, ingestor, on_batch=on_batch)
    worker.start()
    return worker


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
    sock = socket.socket(socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET)
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
        worker = start_ingest(services)
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
            worker.stop()
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
    worker = start_ingest(services)
    done = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: done.set())
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    if worker.wait_connected(60):
        print(f"ingest worker {settings.worker} subscribed on $share/{settings.share_group}",
              flush=True)
    else:
        log.warning("ingest worker %s: no broker yet at %s; retrying", settings.worker,
                    settings.mqtt)
    done.wait()
    worker.stop()
    if services.notifier is not None:
        services.notifier.stop()
    services.db.dispose()
    return 0


__all__ = ["Timer", "now_ms", "run_ingest", "serve"]
