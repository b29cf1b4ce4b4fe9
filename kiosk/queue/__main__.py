"""``python -m kiosk.queue serve --db PATH --port N`` and the staff commands (see cli.py)."""

from kiosk.queue.cli import main

raise SystemExit(main())
