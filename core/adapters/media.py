"""Image views for reviewers: the stored file's bytes, a detector's explanation image, and an
error-level-analysis (ELA) image computed here as a visual aid.

Only raster formats a browser shows safely are returned (JPEG, PNG, GIF, WebP): never SVG or
anything that could carry markup. ELA decodes the file in this process, so it refuses files over
a size and pixel budget before decoding; the verdict itself always comes from the sandboxed engine.

`MediaStore` keeps the files themselves (uploads, API requests, downloads from Salesforce)."""
from __future__ import annotations

import hashlib
import io
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import select

from core.adapters.db import Database
from core.adapters.files import PRIVATE_DIR, narrow, private_dir
from core.adapters.people import authorize_read
from core.domain.roles import Action, Actor
from core.models import MediaItem

MAX_VIEW_BYTES = 20 * 1024 * 1024
MAX_ELA_PIXELS = 40_000_000
VIEW_EDGE = 1024
MAGIC = {b"\xff\xd8\xff": "image/jpeg", b"\x89PNG\r\n\x1a\n": "image/png", b"GIF87a": "image/gif",
         b"GIF89a": "image/gif"}


@dataclass(frozen=True)
class MediaView:
    data: bytes | None
    mime: str | None
    note: str  # why there is nothing to show, or what is shown


def raster_type(data: bytes) -> str | None:
    for magic, mime in MAGIC.items():
        if data.startswith(magic):
            return mime
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def _read(path: str | Path | None) -> MediaView:
    if not path:
        return MediaView(None, None, "the file's content is not stored")
    path = Path(path)
    try:
        if not path.is_file():
            return MediaView(None, None, "the stored file is missing")
        if path.stat().st_size > MAX_VIEW_BYTES:
            return MediaView(None, None, "the file is too large to preview")
        data = path.read_bytes()
    except OSError as exc:
        return MediaView(None, None, f"the stored file cannot be read ({exc.strerror or exc})")
    mime = raster_type(data)
    if mime is None:
        return MediaView(None, None, "not an image a browser can preview (PDF, HEIC or another format)")
    return MediaView(data, mime, "the file as received")


def item_media(db: Database, *, actor: Actor, item_id: int) -> MediaView:
    authorize_read(db, actor, Action.ITEM_READ)
    with db.reader() as s:
        path = s.execute(select(MediaItem.storage_path).where(MediaItem.id == item_id)).scalar_one_or_none()
    return _read(path)


def explanation(path: str | None) -> MediaView:
    """A detector's saved explanation image (a heat map): already made by the detector, shown as is."""
    view = _read(path)
    return MediaView(view.data, view.mime, "detector explanation" if view.data else view.note)


def error_level(data: bytes, quality: int = 90) -> MediaView:
    """Error level analysis: recompress as JPEG and amplify the difference. Regions edited or
    generated apart from the rest often recompress differently. A visual aid, not a verdict."""
    from PIL import Image, ImageChops, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as img:
            width, height = img.size
            if width * height > MAX_ELA_PIXELS:
                return MediaView(None, None, "too many pixels for an error-level view")
            img.draft("RGB", (VIEW_EDGE, VIEW_EDGE))  # JPEG: decode at a reduced scale
            original = img.convert("RGB")
        original.thumbnail((VIEW_EDGE, VIEW_EDGE))
        buffer = io.BytesIO()
        original.save(buffer, "JPEG", quality=quality)
        recompressed = Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")
        diff = ImageChops.difference(original, recompressed)
        peak = max(high for _, high in diff.getextrema()) or 1
        diff = diff.point(lambda v: min(255, v * 255 // peak))
        out = io.BytesIO()
        diff.save(out, "PNG")
        return MediaView(out.getvalue(), "image/png", f"error level analysis (JPEG q{quality}), a visual aid only")
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        return MediaView(None, None, f"no error-level view: {type(exc).__name__}")


@dataclass(frozen=True)
class StoredFile:
    path: Path
    sha256: str
    size: int


class TooLarge(ValueError):
    """More bytes arrived than the limit allows; nothing was kept."""

    def __init__(self, limit: int):
        super().__init__(f"the file is larger than the {limit // 2**20} MB limit")
        self.limit = limit


class Incoming:
    """A file arriving in the store: written to a private temporary file, hashed and counted as it
    comes, so a stream of any length never sits in memory and stops at the limit."""

    def __init__(self, path: Path, fh: BinaryIO, max_bytes: int | None):
        self.path, self._fh, self.max_bytes = path, fh, max_bytes
        self._digest, self.size = hashlib.sha256(), 0

    def write(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.max_bytes is not None and self.size > self.max_bytes:
            raise TooLarge(self.max_bytes)
        self._digest.update(chunk)
        self._fh.write(chunk)

    @property
    def sha256(self) -> str:
        return self._digest.hexdigest()

    def seal(self) -> None:
        """Flush to disk before the file gets its name: a name always means a whole file."""
        if not self._fh.closed:
            self._fh.flush()
            os.fsync(self._fh.fileno())
            self._fh.close()


class MediaStore:
    """The files Response Desk keeps for reviewers and rescans, named by SHA-256 (never by a name a
    sender chose), so the same bytes are kept once. Readable by this account only: folders 0700,
    files 0600 (mkstemp's mode) from the moment they exist, and a file gets its name only whole."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def path_for(self, sha256: str) -> Path:
        from core.domain.hashes import is_sha256

        if not is_sha256(sha256):
            raise ValueError(f"not a SHA-256: {sha256[:70]!r}")
        return self.root / sha256[:2] / f"{sha256.lower()}.bin"

    def put(self, data: bytes) -> StoredFile:
        with self.receive() as incoming:
            incoming.write(data)
            return self.keep(incoming)

    @contextmanager
    def receive(self, max_bytes: int | None = None) -> Iterator[Incoming]:
        """A private temporary file in the store: write it (or let a downloader write `path`), then
        `keep()` it; whatever is not kept when the block ends is removed."""
        fd, name = tempfile.mkstemp(dir=self._folder(self.root / ".incoming"), suffix=".part")
        path = Path(name)
        try:
            with os.fdopen(fd, "wb") as fh:
                yield Incoming(path, fh, max_bytes)
        finally:
            path.unlink(missing_ok=True)

    def keep(self, incoming: Incoming, sha256: str | None = None) -> StoredFile:
        """Name the received file by its hash. `sha256` is for a file a downloader wrote to
        `incoming.path` and hashed itself. A file already held under that hash is kept as it is."""
        incoming.seal()
        sha256 = (sha256 or incoming.sha256).lower()
        path = self.path_for(sha256)
        self._folder(path.parent)
        try:
            os.link(incoming.path, path)  # a link never replaces: the first copy stays
        except FileExistsError:
            pass
        return StoredFile(path, sha256, path.stat().st_size)

    def _folder(self, folder: Path) -> Path:
        private_dir(folder)
        for level in (self.root, folder):  # an older installation made these with the default umask
            narrow(level, PRIVATE_DIR)
        return folder
