"""`python -m dmf_core`: the command line (`dmf_core.cli`)."""

import sys

from .cli import main

sys.exit(main())
