"""The web layer, the only code that imports Starlette: the app factory, the routes, request
parsing, JSON and HTML answers (errors included), templates and middleware."""
