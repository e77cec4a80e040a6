import sys

from preuve.cli import main

sys.exit(main())
