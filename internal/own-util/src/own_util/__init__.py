"""acme's small shared helpers."""

import re

__version__ = "1.2.0"

_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def slugify(text: str) -> str:
    """'Hello, World!' -> 'hello-world'."""
    return _NOT_SLUG.sub("-", text.lower()).strip("-")


def chunks(items, size: int):
    """Consecutive lists of at most `size` items."""
    if size < 1:
        raise ValueError("size must be at least 1")
    items = list(items)
    return [items[i:i + size] for i in range(0, len(items), size)]
