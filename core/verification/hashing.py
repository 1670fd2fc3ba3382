"""File hashes: SHA-256 (exact identity, streamed from disk) and pHash (perceptual, 64 bits).

pHash is imagehash's DCT hash computed on the image's shared 512-pixel reduction: the same input
for every file and bank entry, and a fraction of the cost of resizing full-resolution pixels.
PDQ is not used: no maintained wheel for this Python was available from PyPI at the time.
"""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import BinaryIO

import imagehash

PHASH_VERSION = f"phash-imagehash-{imagehash.__version__}"
_CHUNK = 1024 * 1024


def sha256_stream(fh: BinaryIO) -> str:
    digest = hashlib.sha256()
    for chunk in iter(lambda: fh.read(_CHUNK), b""):
        digest.update(chunk)
    return digest.hexdigest()


def sha256_file(path: Path) -> str:
    with open(path, "rb") as fh:
        return sha256_stream(fh)


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def phash(image) -> str:
    """16 hex digits. `image` is a CanonicalImage (uses its shared reduction) or a PIL image."""
    pil = getattr(image, "small", image)
    return str(imagehash.phash(pil))
