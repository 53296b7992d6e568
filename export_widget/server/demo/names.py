"""Demo file names: every demo file's content is derived from its name."""

from __future__ import annotations

import re
from hashlib import blake2b


def name_index(name: str) -> int:
    """The number in a demo file name (`street-0042.png` -> 42), or a stable hash."""
    digits = re.findall(r"\d+", name)
    if digits:
        return int(digits[-1])
    return int.from_bytes(blake2b(name.encode(), digest_size=4).digest(), "big")
