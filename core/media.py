"""Image views for reviewers: the stored file's bytes, a detector's explanation image, and an
error-level-analysis (ELA) image computed here as a visual aid.

Only raster formats a browser shows safely are returned (JPEG, PNG, GIF, WebP): never SVG or
anything that could carry markup. ELA decodes the file in this process, so it refuses files over
a size and pixel budget before decoding; the verdict itself always comes from the sandboxed engine."""
from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from core.adapters.db import Database
from core.domain.roles import Action, Actor, require
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
    require(actor, Action.ITEM_READ)
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


def store_upload(media_dir: Path, data: bytes, sha256: str) -> Path:
    """Keep an uploaded file under the media folder, named by its hash (never by its name)."""
    folder = Path(media_dir) / "upload"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{sha256}.bin"
    if not path.exists():
        tmp = path.with_suffix(".part")
        tmp.write_bytes(data)
        tmp.replace(path)
    return path
