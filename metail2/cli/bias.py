"""``metail2 bias``: registered here when its analysis lands."""
from __future__ import annotations


def register(sub) -> None:
    """Add the command's parser (``sub.add_parser``, ``set_defaults(func=…)``)."""
