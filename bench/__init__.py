"""Benchmarks of pyoco-server (run with `uv run python -m bench`; see bench/README.md)."""
