"""Command-line entry points of pyoco-server (`pyoco-server`)."""
