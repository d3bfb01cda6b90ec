"""Text that arrives as bytes or str (old log files, subprocess output) made into str."""

import six


def as_text(value, encoding: str = "utf-8") -> str:
    """b'caf\\xc3\\xa9' -> 'café'; str passes through unchanged."""
    return six.ensure_text(value, encoding=encoding)
