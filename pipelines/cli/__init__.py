"""The `mmdial` command."""
