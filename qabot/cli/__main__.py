"""``python -m qabot.cli``: the ``qabot`` command."""

import sys

from qabot.cli.app import main

sys.exit(main())
