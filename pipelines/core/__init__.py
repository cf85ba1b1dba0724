"""The build core shared by every data set: see docs/architecture.md for the design."""
