"""Devices as the app sees them: the manager that starts and watches every configured driver,
the health rules (out of service, labels) and the demo simulator that drives the fakes."""
