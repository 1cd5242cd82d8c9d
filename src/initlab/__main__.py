"""``python -m initlab``."""

import sys

from initlab.cli import main

sys.exit(main())
