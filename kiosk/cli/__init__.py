"""The process entry points: the `kiosk` command, the scripted demo, the virtual display and
the one logging set-up every entry point uses."""
