"""``python -m lawfit``: the same as the ``lawfit`` console script."""

import sys

from lawfit.cli import main

sys.exit(main())
