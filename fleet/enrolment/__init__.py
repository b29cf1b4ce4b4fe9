"""Enrolment of terminals with the fleet (issue #13 item 4).

- :mod:`fleet.enrolment.ca`: sign a CSR (CN = terminal id), write the CRL;
- :mod:`fleet.enrolment.service`: one-time expiring tokens, redeem, offline signing, revoke;
- :mod:`fleet.enrolment.broker`: the broker's ACL rewritten, SIGHUP to reload ACL and CRL;
- :mod:`fleet.enrolment.api`: ``POST /enrol/v1`` (mounted by ``fleet.app.create_app``);
- :mod:`fleet.enrolment.cli`: ``kiosk-fleet enrol-token create``, ``ca sign``,
  ``terminal revoke``.

The terminal side is ``kiosk-provision enrol`` (``provisioning/enrol.py``).
"""

from __future__ import annotations

from typing import Any


def enrolment_for(settings: Any) -> Any:
    """The :class:`~fleet.enrolment.service.Enrolment` for fleet ``settings``."""
    from pathlib import Path

    from fleet.enrolment.service import Enrolment

    public = ""
    if settings.command_key_file:
        from fleet.commands import load_key, public_b64

        public = public_b64(load_key(Path(settings.command_key_file)))
    return Enrolment(settings.enrolment, settings.topic_prefix, public)


def mount(app: Any, services: Any) -> None:
    """Called by ``fleet.app.create_app``: the router, and the enrolment in the services."""
    from fleet.enrolment.api import router

    enrolment = enrolment_for(services.settings)
    if services.command_key is not None and not enrolment.command_public_key:
        from fleet.commands import public_b64

        enrolment.command_public_key = public_b64(services.command_key)
    services.extra["enrolment"] = enrolment
    app.include_router(router)
