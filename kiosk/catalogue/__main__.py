"""``python -m kiosk.catalogue search ylbx``: the catalogue commands without the kiosk CLI."""

from kiosk.catalogue.cli import main

raise SystemExit(main())
