"""Keeping mosquitto in step with enrolment: the ACL file rewritten, then SIGHUP.

mosquitto 2 rereads ``acl_file`` and the listener's ``crlfile`` on SIGHUP: an enrolled terminal
may publish its own topics at once, and a revoked one fails the TLS handshake at its next
connection (and may no longer publish or subscribe on a connection it still holds).
"""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from fleet.broker import TerminalEntry, acl_text

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BrokerLink:
    acl_file: str
    pid_file: str
    fleet_users: Iterable[str] = ("fleet",)
    prefix: str = "kiosk/v1"

    def apply(self, terminals: Iterable[tuple[str, str]]) -> bool:
        """Rewrite the ACL for these (terminal, region) pairs and signal the broker."""
        if not self.acl_file:
            return False
        entries = [TerminalEntry(terminal, region) for terminal, region in terminals]
        path = Path(self.acl_file)
        tmp = path.with_name(path.name + ".new")
        tmp.write_text(acl_text(entries, list(self.fleet_users), self.prefix) + "\n")
        tmp.replace(path)
        return self.reload()

    def reload(self) -> bool:
        if not self.pid_file:
            return False
        try:
            pid = int(Path(self.pid_file).read_text().strip())
            os.kill(pid, signal.SIGHUP)
        except (OSError, ValueError) as exc:
            log.warning("cannot signal the broker (pid file %s): %s; it reloads the ACL and "
                        "CRL at its next restart", self.pid_file, exc)
            return False
        return True
