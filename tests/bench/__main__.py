"""`python -m tests.bench --contacts N [--json FILE]`: the benchmark harness (tests.bench.harness)."""

import sys

from tests.bench.harness import main

sys.exit(main())
