"""Deterministic 25-character cuid-like ids for the demo workspace."""

from __future__ import annotations

from hashlib import blake2b

_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"


def cuid(seed: int, kind: str, n: int | str) -> str:
    """`c` + 24 base-36 characters derived from (seed, kind, n); same inputs, same id."""
    digest = blake2b(f"{seed}|{kind}|{n}".encode(), digest_size=16).digest()
    value = int.from_bytes(digest, "big")
    chars = []
    for _ in range(24):
        value, rem = divmod(value, 36)
        chars.append(_ALPHABET[rem])
    return "c" + "".join(chars)
