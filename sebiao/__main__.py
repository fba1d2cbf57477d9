"""``python -m sebiao``: the same as the ``sebiao`` command."""

import sys

from sebiao.cli import main

sys.exit(main())
