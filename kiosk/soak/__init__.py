"""``kiosk soak``: thousands of randomised resident sessions through the real screens, with
the process's resources sampled every 100 sessions (see docs/operations.md)."""
