"""The processes, as deterministic Temporal workflows.

No I/O, no clock, no randomness here: time is `workflow.now()`, ids are
`workflow.uuid4()`, and every side effect is an activity. The four kinds are
listed in `workflows.registry`; this package imports none of them, so a
workflow's sandbox loads only its own kind.
"""
