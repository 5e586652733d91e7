"""`python -m ferbench` runs the command-line interface."""

import sys

from ferbench.cli.main import main

sys.exit(main())
