"""The step primitives processes are built from."""
