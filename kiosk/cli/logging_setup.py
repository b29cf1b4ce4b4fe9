"""The kiosk's logging set-up: the filtered one in :mod:`drivers.logsetup`.

It lives in ``drivers`` so that every entry point, down to the device emulators, logs through
the same personal-data filter without importing the kiosk.
"""

from drivers.logsetup import FORMAT, PersonalDataFilter, install_filter, setup_logging

__all__ = ["FORMAT", "PersonalDataFilter", "install_filter", "setup_logging"]
