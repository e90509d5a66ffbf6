"""Adapters: what talks to the world outside the process (the store, the embedded engine, the
search backends, the rate-limit counters) and the small tools under them (cache, clock,
threads). They import only the core (`app.errors`, `app.schemas`, ...), never a use case."""
