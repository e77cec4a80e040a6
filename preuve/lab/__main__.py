"""``python -m preuve.lab up|down|status``."""

import sys

from .cli import main

sys.exit(main())
