"""Salesforce-style record ids: 3-char key prefix, 15-char case-sensitive body, 3-char checksum suffix."""
from __future__ import annotations

import functools
import itertools
import re

_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_SUFFIX_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_ID_SHAPE = re.compile(r"^[a-zA-Z0-9]{15}(?:[A-Z0-5]{3})?$")
POD = "5g"  # the "instance" characters that follow the key prefix in real ids


def checksum_suffix(id15: str) -> str:
    """The 3 characters Salesforce appends so that a 15-char id survives case-insensitive systems."""
    suffix = ""
    for chunk in range(3):
        bits = 0
        for pos, char in enumerate(id15[chunk * 5:chunk * 5 + 5]):
            if "A" <= char <= "Z":
                bits |= 1 << pos
        suffix += _SUFFIX_ALPHABET[bits]
    return suffix


@functools.lru_cache(maxsize=1 << 16)  # every id comparison in a WHERE clause normalises both sides
def to_18(record_id: str) -> str:
    """Normalise a 15- or 18-char id to 18 chars; raises ValueError for anything else."""
    if not isinstance(record_id, str) or not _ID_SHAPE.match(record_id):
        raise ValueError(f"malformed id {record_id!r}")
    if len(record_id) == 18:
        return record_id[:15] + checksum_suffix(record_id[:15])
    return record_id + checksum_suffix(record_id)


def looks_like_id(value: object) -> bool:
    return isinstance(value, str) and bool(_ID_SHAPE.match(value))


def _base62(number: int, width: int) -> str:
    digits = []
    for _ in range(width):
        number, rem = divmod(number, 62)
        digits.append(_BASE62[rem])
    return "".join(reversed(digits))


class IdFactory:
    """Issues ids that sort (as strings) in creation order, like Salesforce's within one pod."""

    def __init__(self, start: int = 1):
        self._counter = itertools.count(start)

    def next_id(self, key_prefix: str) -> str:
        body = key_prefix + POD + "0" + _base62(next(self._counter), 9)
        return body + checksum_suffix(body)

    def skip_to(self, number: int) -> None:
        self._counter = itertools.count(number)


def sequence_number(record_id: str) -> int:
    """The counter value inside an id made by IdFactory (used to resume after a restart)."""
    value = 0
    for char in record_id[6:15]:
        value = value * 62 + _BASE62.index(char)
    return value
