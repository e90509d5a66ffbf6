"""Turning config and result values into safe markup: markdown, field formats, the theme."""
