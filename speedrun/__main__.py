"""``python -m speedrun``: see ``speedrun.cli``."""

import sys

from speedrun.cli import main

sys.exit(main())
