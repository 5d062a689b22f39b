"""`python -m desktop` and the `ai-connector` executable."""

from __future__ import annotations

import gc
import sys

# No cycle collections while the imports and start-up build the heap the process keeps
# for good; the embedded server turns the collector on once that heap is frozen
# (`connector.services.container._warm_up`).
gc.disable()

from desktop.launcher import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
