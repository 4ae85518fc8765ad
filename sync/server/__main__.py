"""``python -m sync.server`` — see :mod:`sync.server.cli`."""

import sys

from sync.server.cli import main

sys.exit(main())
