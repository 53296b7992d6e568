"""Deterministic 25-character cuid-like ids for the demo workspace."""

from __future__ import annotations

from hashlib import blake2b

_ALPHABET = b"0123456789abcdefghijklmnopqrstuvwxyz"
# Each digest byte maps to one base-36 character (bytes.translate runs in C, which matters
# when a million-row demo needs a few million ids).
_TABLE = bytes(_ALPHABET[b % 36] for b in range(256))


def cuid(seed: int, kind: str, n: int | str) -> str:
    """`c` + 24 base-36 characters derived from (seed, kind, n); same inputs, same id."""
    digest = blake2b(f"{seed}|{kind}|{n}".encode(), digest_size=24).digest()
    return "c" + digest.translate(_TABLE).decode()
