import gc

# No cycle collections while the imports and start-up build the heap the process keeps
# for good: they took about 0.13 s of the 0.7 s of imports. The server turns the
# collector on once that heap is frozen (`connector.services.container._warm_up`).
gc.disable()

from connector.cli import main  # noqa: E402

main()
