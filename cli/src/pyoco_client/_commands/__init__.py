"""The commands of `pyoco-client`, by what they act on: submitting, runs, operations."""
