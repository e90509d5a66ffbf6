"""Use cases: the public query, access, limits, publishing, the vault, owner keys,
interactions. They use the adapters and the rendering library, never the web layer."""
