"""``python -m jitcore``: the ``jitcore`` command (see :mod:`jitcore.cli`)."""

from jitcore.cli import main

raise SystemExit(main())
