"""The parts worker.py, the composition root, assembles: the Temporal client and its codec,
the database pool, the agencies' adapters and the staff notifier, logs, traces and metrics,
and the serving of kosh's small ASGI apps. Everything else takes them from worker.py."""
