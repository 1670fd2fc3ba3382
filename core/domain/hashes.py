"""What a hash in a bank looks like, and how far apart two perceptual hashes are."""
from __future__ import annotations

_HEX = frozenset("0123456789abcdef")


def is_sha256(value: str) -> bool:
    return len(value) == 64 and set(value.lower()) <= _HEX


def is_phash(value: str) -> bool:
    return len(value) == 16 and set(value.lower()) <= _HEX


def hamming(a: str, b: str) -> int:
    """Bits that differ between two 64-bit perceptual hashes (hex)."""
    return (int(a, 16) ^ int(b, 16)).bit_count()
