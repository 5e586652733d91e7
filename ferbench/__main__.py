"""`python -m ferbench` runs the command-line interface."""

import sys

from ferbench.cli import main

sys.exit(main())
