"""The pure core of signoff: models, enums, errors and rules.

Nothing here does I/O or reads a clock; it imports the standard library and
pydantic only, so workflows can use all of it inside Temporal's sandbox.
"""
