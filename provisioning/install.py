"""``kiosk-provision install``: lay out the service files of ``deploy/`` on this terminal.

    kiosk-provision install [--profile hall] [--user kiosk] [--root /] [--enable]

Writes the systemd unit, the session launcher, the logrotate and journald settings with this
installation's paths filled in, creates the kiosk user and its folders, and (with ``--enable``)
enables the service. ``--root DIR`` writes everything under DIR instead of ``/`` and skips
``useradd`` and ``systemctl`` (to inspect the result, or to build an image).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

SOURCE = Path(__file__).resolve().parents[1] / "deploy"
DOCS = Path(__file__).resolve().parents[1] / "docs"
UNIT = "aishandong-kiosk.service"


@dataclass(frozen=True)
class Target:
    source: str
    destination: str
    mode: int


TARGETS = (
    Target(UNIT, f"etc/systemd/system/{UNIT}", 0o644),
    Target("kiosk-session", "usr/local/libexec/aishandong-kiosk/kiosk-session", 0o755),
    Target("logrotate.conf", "etc/logrotate.d/aishandong-kiosk", 0o644),
    Target("journald.conf", "etc/systemd/journald.conf.d/aishandong-kiosk.conf", 0o644),
)
FOLDERS = (("etc/kiosk", 0o750), ("etc/kiosk/pki", 0o750), ("var/lib/aishandong-kiosk", 0o750),
           ("var/log/aishandong-kiosk", 0o750))


def render(text: str, bin_dir: Path, profile: str, user: str) -> str:
    text = text.replace("@BIN@", str(bin_dir)).replace("@DOCS@", str(DOCS))
    text = text.replace("@LIBEXEC@", "/usr/local/libexec/aishandong-kiosk")
    text = text.replace("Environment=KIOSK_PROFILE=hall", f"Environment=KIOSK_PROFILE={profile}")
    if user != "kiosk":
        text = text.replace("User=kiosk", f"User={user}").replace("Group=kiosk",
                                                                    f"Group={user}")
        text = text.replace("su kiosk kiosk", f"su {user} {user}")
    return text


def _run(command: list[str]) -> None:
    print("+ " + " ".join(command))
    subprocess.run(command, check=True)


def install(root: Path, profile: str, user: str, enable: bool,
            bin_dir: Path | None = None) -> list[Path]:
    """Write the files under ``root``; returns what was written."""
    if not SOURCE.is_dir():
        raise SystemExit(f"kiosk-provision install: {SOURCE} not found; run it from the source "
                         "checkout the kiosk was installed from")
    bin_dir = bin_dir or Path(sys.executable).parent
    real = root == Path("/")
    if real and os.geteuid() != 0:
        raise SystemExit("kiosk-provision install: run it as root (sudo), or with --root DIR")
    if real and shutil.which("useradd"):
        import pwd

        try:
            pwd.getpwnam(user)
        except KeyError:
            _run(["useradd", "--system", "--home-dir", "/var/lib/aishandong-kiosk",
                  "--shell", "/usr/sbin/nologin", "--user-group", user])
    written = []
    for folder, mode in FOLDERS:
        path = root / folder
        path.mkdir(parents=True, exist_ok=True)
        path.chmod(mode)
        if real:
            shutil.chown(path, user, user)
    for target in TARGETS:
        text = render((SOURCE / target.source).read_text(encoding="utf-8"), bin_dir, profile,
                      user)
        path = root / target.destination
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".new")
        tmp.write_text(text, encoding="utf-8")
        tmp.chmod(target.mode)
        tmp.replace(path)
        written.append(path)
        print(f"wrote {path}")
    if real:
        _run(["systemctl", "daemon-reload"])
        if enable:
            _run(["systemctl", "set-default", "graphical.target"])
            _run(["systemctl", "enable", UNIT])
    print("next: write /etc/kiosk/kiosk.toml (kiosk-provision init), enrol "
          "(kiosk-provision enrol), check (kiosk config check --deploy), then "
          f"`systemctl start {UNIT}`")
    return written


def run(root: str, profile: str, user: str, enable: bool) -> int:
    install(Path(root), profile, user, enable)
    return 0
