"""`python -m desktop` and the `ai-connector` executable."""

from __future__ import annotations

import sys

from desktop.launcher import main

if __name__ == "__main__":
    sys.exit(main())
