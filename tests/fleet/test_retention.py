"""Health history: raw samples for ``health_raw_days``, then hourly roll-ups (SQLite and
PostgreSQL); and alarm mail through a real SMTP conversation on loopback."""

from __future__ import annotations

import socket
import threading

from sqlalchemy import func, select

from fleet.models import HealthHourly, HealthSample
from fleet.notify import Notifier
from fleet.services import alarms, retention
from fleet.settings import Notifiers
from fleet.testing import health, topic

T, R = "JN-LX-0001", "370102"
HOUR = 3600_000
DAY = 24 * HOUR


def test_old_health_is_rolled_up_by_hour_and_recent_stays_raw(feed, fleet_db):
    t0 = feed.now - feed.now % HOUR
    old = [t0 - 10 * DAY + i * 600_000 for i in range(12)]  # two hours of 10-minute samples
    for i, ts in enumerate(old):
        feed(topic(R, T, "health"), health(T, ts, depth=i, idcard="unavailable" if i == 3
                                           else "ready"), received=t0)
    feed(topic(R, T, "health"), health(T, t0 - HOUR), received=t0)
    with fleet_db.session() as s:
        assert retention.roll_up(s, t0, raw_days=7) == 12
        assert retention.roll_up(s, t0, raw_days=7) == 0
    with fleet_db.session() as s:
        raw = list(s.scalars(select(HealthSample.ts)))
        hours = list(s.scalars(select(HealthHourly).order_by(HealthHourly.hour_ts)))
    assert raw == [t0 - HOUR]
    assert [(h.hour_ts, h.samples, h.outbox_depth_max, h.unavailable_samples) for h in hours] \
        == [(t0 - 10 * DAY, 6, 5, 1), (t0 - 10 * DAY + HOUR, 6, 11, 0)]
    assert hours[0].cpu_avg == 12.5
    with fleet_db.session() as s:
        seen = retention.history(s, T, t0 - 11 * DAY, t0)
        assert len(seen["raw"]) == 1 and len(seen["hourly"]) == 2
        assert s.scalar(select(func.count()).select_from(HealthSample)) == 1


class _Smtp(threading.Thread):
    """Just enough SMTP (RFC 5321) to receive one message over a real socket."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.sock.settimeout(20)
        self.port = self.sock.getsockname()[1]
        self.received: list[tuple[str, list[str], str]] = []

    def run(self) -> None:
        conn, _ = self.sock.accept()
        conn.settimeout(20)
        f = conn.makefile("rwb")

        def say(line: str) -> None:
            f.write((line + "\r\n").encode())
            f.flush()

        say("220 localhost ESMTP test")
        sender, rcpts = "", []
        while True:
            line = f.readline().decode().rstrip("\r\n")
            verb = line.split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                say("250 localhost")
            elif verb == "MAIL":
                sender = line.split(":", 1)[1].strip("<> ")
                say("250 ok")
            elif verb == "RCPT":
                rcpts.append(line.split(":", 1)[1].strip("<> "))
                say("250 ok")
            elif verb == "DATA":
                say("354 go on")
                body = []
                while (data := f.readline().decode()) not in (".\r\n", ""):
                    body.append(data)
                self.received.append((sender, rcpts, "".join(body)))
                say("250 queued")
            elif verb == "QUIT":
                say("221 bye")
                break
            else:
                say("250 ok")
        conn.close()
        self.sock.close()


def test_alarm_mail_goes_out_over_smtp():
    server = _Smtp()
    server.start()
    notifier = Notifier(Notifiers(smtp_host="127.0.0.1", smtp_port=server.port,
                                  mail_from="fleet@example.gov.cn",
                                  mail_to=["desk@example.gov.cn"]))
    alarm = {"id": 7, "terminal": T, "type": "offline", "message": "offline since 10:00"}
    notifier.submit([alarms.Change("raised", alarm)])
    assert notifier.flush(20)
    notifier.stop()
    server.join(20)
    [(sender, rcpts, body)] = server.received
    assert sender == "fleet@example.gov.cn" and rcpts == ["desk@example.gov.cn"]
    assert "Subject: [fleet] raised: offline at JN-LX-0001" in body
    assert "offline since 10:00" in body
