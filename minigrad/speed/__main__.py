"""``python -m minigrad.speed``: see :mod:`minigrad.speed.cli`."""
import sys

from minigrad.speed.cli import main

sys.exit(main())
