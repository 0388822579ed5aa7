"""`python -m bench.seed`: see bench/seed/__init__.py."""

import sys

from bench.seed import main

sys.exit(main())
