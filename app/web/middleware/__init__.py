"""Pure ASGI middleware, one module each."""
