"""Readable process ids derived from a process's business key."""

from __future__ import annotations

import re

_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def slug(text: str) -> str:
    """Lower-case `text` and join its words with hyphens.

    >>> slug("Acme Analytics 2.0")
    'acme-analytics-2-0'
    """
    return _NOT_SLUG.sub("-", text.lower()).strip("-")


MAX_ID = 190
"""Ids are cut to this length (the store keeps ids of up to 200 characters)."""


def process_id(kind: str, *key: object) -> str:
    """The id of a process of `kind` with the business key `key`.

    >>> process_id("launch", "Acme Analytics 2.0", "2026-12-15")
    'launch-acme-analytics-2-0-2026-12-15'
    """
    return slug(" ".join([kind, *map(str, key)]))[:MAX_ID].rstrip("-")
