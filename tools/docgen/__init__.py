"""Generators of the reference pages docs/config.md and docs/api.md (`python -m tools.docgen`)."""
