"""Is this configuration fit for a terminal in the field? (``kiosk config check --deploy``)

The schema accepts everything a demo needs: simulated devices, the demo PIN, the demo catalogue
key, the embedded sample platform. A terminal in a hall, bank or village must have none of
those. :func:`deploy_refusals` lists each one as a :class:`Refusal`, one line with the key and
how to fix it. ``kiosk run`` refuses to start with any profile but ``demo`` while the list is
not empty; ``kiosk config check --deploy`` prints it for any profile.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from urllib.parse import urlsplit

from config.checks import is_loopback_host
from config.schema import KioskConfig, device_types

#: services that show a resident's own data, which only a real platform has
PLATFORM_SERVICES = ("code", "proof", "progress")
#: the one profile allowed to run with simulated parts and demo keys
DEMO_PROFILE = "demo"


@dataclass(frozen=True)
class Refusal:
    """One reason this config must not run in the field, and the fix."""

    key: str
    problem: str
    fix: str

    def __str__(self) -> str:
        return f"{self.key}: {self.problem} — fix: {self.fix}"


def _real_types(kind: str) -> str:
    try:
        types = [t for t in device_types(kind) if t != "fake"]
    except ValueError:
        types = []
    return " or ".join(f'"{t}"' for t in types) or "the real backend"


def _plain_http_to_remote(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme == "http" and not is_loopback_host(parts.hostname or "")


def deploy_refusals(config: KioskConfig) -> list[Refusal]:
    """Everything that keeps ``config`` from running on a terminal in the field."""
    found: list[Refusal] = []
    add = found.append
    for kind in config.devices.enabled_kinds():
        device = config.devices.get(kind)
        if device.type == "fake":
            add(Refusal(f"devices.{kind}.type", '"fake" is the in-process simulator',
                        f"set the real backend ({_real_types(kind)}) and its url; "
                        "`kiosk-provision discover` finds the devices, or set "
                        f"devices.{kind}.enabled = false"))
    if config.ui.simulator:
        add(Refusal("ui.simulator", "the device simulator panel is on",
                    "set ui.simulator = false"))
    if config.maintenance.uses_demo_pin:
        add(Refusal("maintenance.pin_hash", "is the demo PIN 246810, printed in the README",
                    "run `kiosk-provision hash-pin` and put the hash in maintenance.pin_hash"))
    if config.catalogue.uses_demo_key:
        add(Refusal("catalogue.public_keys", "trusts the demo catalogue key, whose private "
                    "half is in the source repository",
                    "list only the platform's catalogue signing key (\"ed25519:…\")"))
    if config.catalogue.url and _plain_http_to_remote(config.catalogue.url):
        add(Refusal("catalogue.url", f"{config.catalogue.url} is plain http to a remote host",
                    "use the https:// URL of the catalogue"))
    for name in ("queue", "platform"):
        backend = getattr(config.backends, name)
        if backend.type == "http" and _plain_http_to_remote(backend.url):
            add(Refusal(f"backends.{name}.url", f"{backend.url} is plain http to a remote host",
                        "use https://"))
    needs_platform = [s for s in config.services.enabled if s in PLATFORM_SERVICES]
    if needs_platform and config.backends.platform.type == "embedded":
        add(Refusal("backends.platform.type", '"embedded" serves sample data, but the '
                    f"services {', '.join(needs_platform)} show a resident's own records",
                    'set backends.platform.type = "http" and its url, or remove those '
                    "services from services.enabled"))
    mqtt = config.mqtt
    if mqtt.enabled and not mqtt.tls and not is_loopback_host(mqtt.host):
        add(Refusal("mqtt.url", f"plain mqtt:// to the remote host {mqtt.host} "
                    "(allow_insecure is for lab networks)",
                    "use mqtts:// with the certificates from `kiosk-provision enrol`, and "
                    "remove mqtt.allow_insecure"))
    elif mqtt.enabled and mqtt.tls and not mqtt.cert_file:
        add(Refusal("mqtt.cert_file", "no client certificate: the broker cannot tell which "
                    "terminal this is", "enrol the terminal: `kiosk-provision enrol --fleet URL "
                    "--token TOKEN`"))
    ratings_on = "rating" in config.services.enabled or config.devices.ratingpad.enabled
    if (ratings_on and not config.ratings.evaluation_public_key
            and not config.ratings.without_real_name_followup):
        add(Refusal("ratings.evaluation_public_key", "is empty, so the real-name part of bad "
                    "reviews would be dropped and nobody could call the resident back",
                    "set the evaluation system's key (`python -m fleet.keys new-evaluation-key`"
                    " prints one), or set ratings.without_real_name_followup = true"))
    return found


def startup_refusals(config: KioskConfig) -> list[Refusal]:
    """What ``kiosk run`` refuses: the deploy refusals, for every profile but the demo."""
    if config.profile == DEMO_PROFILE:
        return []
    return deploy_refusals(config)


def check_command(config: KioskConfig, deploy: bool, prog: str = "kiosk") -> int:
    """``config check [--deploy]``: 0 when fine, 2 with one line per refusal on stderr."""
    if deploy:
        refusals = deploy_refusals(config)
        if refusals:
            print(f"{prog}: not fit for a terminal in the field (profile {config.profile}):",
                  file=sys.stderr)
            for refusal in refusals:
                print(f"  {refusal}", file=sys.stderr)
            return 2
    fit = ", fit for deployment" if deploy else ""
    print(f"configuration OK (profile {config.profile}, hash {config.config_hash()}{fit})")
    return 0
