"""Pydantic models of every request and response, shaped like the Mixpeek SDK's models."""
