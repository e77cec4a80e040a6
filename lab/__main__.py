"""``python -m preuve_lab up|down|status``."""

import sys

from .cli import main

sys.exit(main())
