"""`python -m dmf_core`: the command line (`dmf_core.cli.main`)."""

import sys

from .cli.main import main

sys.exit(main())
