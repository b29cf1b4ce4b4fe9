"""The hall server: the FastAPI app of :mod:`kiosk.queue.app` under uvicorn.

``kiosk queue serve`` runs it; tests start it in a thread with :class:`QueueHttpServer` on a
socket bound to port 0 (the bound socket is handed to uvicorn, never closed and re-bound).
TLS with ``cert``/``key`` (or a reverse proxy in front, docs/queue.md). A background task
runs the retention purge every hour. Nothing in a request body is logged.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path

import uvicorn

from kiosk.queue import lockout
from kiosk.queue.app import build_app
from kiosk.queue.engine import QueueEngine
from kiosk.queue.hall import HallStore
from kiosk.queue.hallservice import HallService

log = logging.getLogger(__name__)
PURGE_EVERY_S = 3600.0


class QueueHttpServer:
    """The engine served over HTTP(S) on ``host:port`` (port 0: any free port)."""

    def __init__(self, engine: QueueEngine, host: str = "127.0.0.1", port: int = 0, *,
                 speech_dir: Path | str | None = None, cert: Path | str | None = None,
                 key: Path | str | None = None, purge_every_s: float = PURGE_EVERY_S,
                 fleet: Callable[..., bool] | None = None, hall_id: str = "hall") -> None:
        self.engine = engine
        settings = engine.settings
        self.hall = HallStore(engine.db_path, engine.tz, synchronous=settings.synchronous,
                              lockout_policy=lockout.Policy(
                                  account_free=settings.login_failures,
                                  address_free=settings.login_address_failures,
                                  base_s=settings.login_lockout_s,
                                  max_s=settings.login_lockout_max_s))
        speech = Path(speech_dir) if speech_dir else engine.db_path.parent / "speech-cache"
        self.service = HallService(engine, self.hall, speech_dir=speech, fleet=fleet,
                                   hall_id=hall_id)
        self.tls = bool(cert and key)
        self.app = build_app(self.service, secure_cookies=self.tls)
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        # IPPROTO_TCP named, so asyncio sets TCP_NODELAY on the accepted connections (it checks
        # sock.proto): without it every answer waits ~40 ms for a delayed ACK (Nagle)
        self._sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((host, port))
        self._sock.listen(512)
        self._sock.setblocking(False)
        self._host = host
        self._purge_every_s = purge_every_s
        # the access log (request lines) only at DEBUG, through the root logger's handlers and
        # their personal-data filter (log_config=None: uvicorn adds no handlers of its own)
        debug = logging.getLogger().isEnabledFor(logging.DEBUG)
        config = uvicorn.Config(self.app, log_level="debug" if debug else "warning",
                                access_log=debug, log_config=None,
                                ssl_certfile=str(cert) if cert else None,
                                ssl_keyfile=str(key) if key else None,
                                timeout_keep_alive=120, lifespan="off",
                                timeout_graceful_shutdown=5)  # open event streams end
        self._server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._sock.getsockname()[1])

    @property
    def url(self) -> str:
        scheme = "https" if self.tls else "http"
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"{scheme}://{host}:{self.port}"

    async def _serve(self) -> None:
        purge = asyncio.create_task(self._purge_loop())
        try:
            await self._server.serve(sockets=[self._sock])
        finally:
            purge.cancel()

    async def _purge_loop(self) -> None:
        while True:
            try:
                await asyncio.to_thread(self.service.report_yesterday)  # before it is purged
                await asyncio.to_thread(self.service.purge)
            except Exception:
                log.exception("retention purge or daily report failed")
            await asyncio.sleep(self._purge_every_s)

    def start(self) -> QueueHttpServer:
        """Serve from a background thread; returns once it accepts connections."""
        self._thread = threading.Thread(target=lambda: asyncio.run(self._serve()),
                                        name="queue-http", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 20
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the queue server did not start")
            time.sleep(0.01)
        return self

    def serve_forever(self) -> None:
        asyncio.run(self._serve())

    def shutdown(self) -> None:
        """Ask a serving server to stop (from another thread or a signal handler)."""
        self._server.should_exit = True

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=15)
            self._thread = None
        self._sock.close()
        self.hall.close()

    def __enter__(self) -> QueueHttpServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
