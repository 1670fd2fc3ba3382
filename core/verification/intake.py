"""Safe intake of untrusted bytes: refuse what is not what it claims to be, then decode once.

Order of checks (each failure raises `Unscannable` with a sentence a reviewer understands):
size limit -> sniffed magic bytes on the allow-list -> agreement with the declared MIME type and
the file name's extension -> no payload hidden after the image -> header dimensions under the
pixel limit and frame count under the frame limit (before any pixel is decoded) -> decode with
Pillow restricted to the sniffed format -> EXIF orientation applied -> canonical RGB.

PDFs are scanned through the images embedded in them (pypdf), each held to the same limits.
This module does no isolation itself: `sandbox.py` runs it in a child process with memory and
CPU limits, so a decoder bug or an allocation storm costs a child, never the scanner.
"""
from __future__ import annotations

import io
import os
import re
import struct
import warnings
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from core.verification.config import EngineConfig

try:  # HEIC/HEIF through the maintained pillow-heif plugin
    from pillow_heif import register_heif_opener

    register_heif_opener()
    HEIC_SUPPORTED = True
except ImportError:  # pragma: no cover - the plugin is a pinned dependency
    HEIC_SUPPORTED = False
Image.init()  # register every plugin now, so Image.open(formats=...) finds MPO and HEIF


class Unscannable(Exception):
    """The file cannot be scanned safely; `reason` says why in plain words."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Kind:
    label: str                      # "a PNG image": used in reasons
    pil_formats: tuple[str, ...] = ()  # empty: not decoded by Pillow (or not accepted)
    mimes: tuple[str, ...] = ()
    extensions: tuple[str, ...] = ()
    accepted: bool = False


KINDS: dict[str, Kind] = {
    "jpeg": Kind("a JPEG image", ("JPEG", "MPO"), ("image/jpeg", "image/jpg", "image/pjpeg"),
                 (".jpg", ".jpeg", ".jpe", ".jfif"), True),
    "png": Kind("a PNG image", ("PNG",), ("image/png", "image/x-png"), (".png",), True),
    "gif": Kind("a GIF image", ("GIF",), ("image/gif",), (".gif",), True),
    "webp": Kind("a WebP image", ("WEBP",), ("image/webp",), (".webp",), True),
    "tiff": Kind("a TIFF image", ("TIFF",), ("image/tiff", "image/tif"), (".tif", ".tiff"), True),
    "heic": Kind("a HEIC image", ("HEIF",), ("image/heic", "image/heif", "image/heic-sequence",
                                             "image/heif-sequence"), (".heic", ".heif", ".hif"),
                 HEIC_SUPPORTED),
    "pdf": Kind("a PDF document", (), ("application/pdf", "application/x-pdf"), (".pdf",), True),
    "zip": Kind("a ZIP archive", (), ("application/zip",), (".zip", ".docx", ".xlsx", ".pptx", ".jar")),
    "gzip": Kind("a gzip archive", (), ("application/gzip",), (".gz", ".tgz")),
    "7z": Kind("a 7-Zip archive", (), (), (".7z",)),
    "rar": Kind("a RAR archive", (), (), (".rar",)),
    "exe": Kind("a Windows program", (), (), (".exe", ".dll")),
    "elf": Kind("a Linux program", (), (), (".so",)),
    "bmp": Kind("a BMP image, a format this scanner does not accept", (), ("image/bmp",), (".bmp",)),
    "psd": Kind("a Photoshop document", (), (), (".psd",)),
    "ico": Kind("an icon file", (), (), (".ico",)),
    "ole": Kind("an old-style Office document", (), (), (".doc", ".xls", ".ppt", ".msg")),
    "jp2": Kind("a JPEG 2000 image, a format this scanner does not accept", (), (), (".jp2", ".j2k")),
    "avif": Kind("an AVIF image, a format this scanner does not accept", (), ("image/avif",), (".avif",)),
    "video": Kind("an MP4 or MOV video", (), ("video/mp4", "video/quicktime"), (".mp4", ".mov", ".m4v"), True),
    "webm": Kind("a WebM video", (), ("video/webm",), (".webm",), True),
    "riff": Kind("a RIFF media file (audio or video)", (), (), (".avi", ".wav")),
    "svg": Kind("an SVG drawing, which can carry scripts and is not accepted", (), ("image/svg+xml",),
                (".svg",)),
    "html": Kind("an HTML page", (), ("text/html",), (".html", ".htm")),
    "xml": Kind("an XML document", (), ("text/xml", "application/xml"), (".xml",)),
    "text": Kind("plain text", (), ("text/plain",), (".txt", ".csv")),
    "unknown": Kind("unrecognised binary data"),
}
GENERIC_MIMES = {"", "application/octet-stream", "binary/octet-stream", "application/unknown"}
GENERIC_EXTENSIONS = {"", ".bin", ".dat", ".tmp", ".upload"}
_HEIC_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"}
_MAGIC = (
    (b"\xff\xd8\xff", "jpeg"), (b"\x89PNG\r\n\x1a\n", "png"), (b"GIF87a", "gif"), (b"GIF89a", "gif"),
    (b"II*\x00", "tiff"), (b"MM\x00*", "tiff"), (b"%PDF-", "pdf"), (b"PK\x03\x04", "zip"),
    (b"PK\x05\x06", "zip"), (b"\x1f\x8b", "gzip"), (b"7z\xbc\xaf\x27\x1c", "7z"), (b"Rar!", "rar"),
    (b"MZ", "exe"), (b"\x7fELF", "elf"), (b"BM", "bmp"), (b"8BPS", "psd"), (b"\x00\x00\x01\x00", "ico"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "ole"), (b"\x00\x00\x00\x0cjP  ", "jp2"),
    (b"\xff\x4f\xff\x51", "jp2"), (b"\x1a\x45\xdf\xa3", "webm"),
)


def sniff(data: bytes) -> str:
    """The kind of content, from its first bytes only (never from its name)."""
    for magic, kind in _MAGIC:
        if data.startswith(magic):
            return kind
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data[:4] == b"RIFF":
        return "riff"
    if data[4:8] == b"ftyp":
        brand = data[8:12]
        if brand in _HEIC_BRANDS:
            return "heic"
        return "avif" if brand in (b"avif", b"avis") else "video"
    head = data[:1024].lstrip().lower()
    if head.startswith(b"<"):
        if b"<svg" in head:
            return "svg"
        return "html" if (b"<html" in head or b"<!doctype html" in head) else "xml"
    if head and all(32 <= b < 127 or b in b"\r\n\t" for b in head[:512]):
        return "text"
    return "unknown"


def _kind_of_mime(mime: str) -> str | None:
    mime = mime.split(";")[0].strip().lower()
    return next((k for k, spec in KINDS.items() if mime in spec.mimes), None)


def check_declared(kind: str, *, file_name: str, declared_type: str | None) -> None:
    """The declared MIME type and the file name's extension must agree with the content."""
    label = KINDS[kind].label
    declared = (declared_type or "").split(";")[0].strip().lower()
    if declared not in GENERIC_MIMES and _kind_of_mime(declared) != kind:
        raise Unscannable(f"declared {declared} but the content is {label}")
    ext = os.path.splitext(file_name or "")[1].lower()
    if ext not in GENERIC_EXTENSIONS and ext not in KINDS[kind].extensions:
        raise Unscannable(f"named '{os.path.basename(file_name)}' but the content is {label}")
    if not KINDS[kind].accepted:
        raise Unscannable(f"the content is {label}, not an accepted image, video or PDF")


def check_hidden_payload(data: bytes, kind: str) -> None:
    """Refuse polyglots: a PNG with bytes after IEND, or any file that ends in a ZIP directory."""
    if kind == "png":
        end = _png_end(data)
        if end < len(data):
            extra = len(data) - end
            what = " (a ZIP archive)" if b"PK\x03\x04" in data[end:] else ""
            raise Unscannable(f"{extra} bytes of other data{what} follow the end of the PNG image")
    eocd = data.rfind(b"PK\x05\x06", max(0, len(data) - 65_557))
    if eocd >= 0 and len(data) - eocd >= 22:
        comment_len = struct.unpack_from("<H", data, eocd + 20)[0]
        if eocd + 22 + comment_len == len(data):
            raise Unscannable(f"a ZIP archive is hidden inside this {KINDS[kind].label[2:]}")


def _png_end(data: bytes) -> int:
    """Offset just after the IEND chunk. Walks chunk headers only (no decompression)."""
    pos = 8
    while pos + 8 <= len(data):
        length, ctype = struct.unpack_from(">I4s", data, pos)
        nxt = pos + 12 + length
        if nxt > len(data):
            raise Unscannable(f"the PNG is truncated: chunk {ctype.decode('latin-1')!r} claims "
                              f"{length} bytes but the file ends first")
        if ctype == b"IEND":
            return nxt
        pos = nxt
    raise Unscannable("the PNG is truncated: it has no end (IEND) chunk")


class CanonicalImage:
    """Decoded pixels in RGB, shared by every detector: decoded once, downscaled once."""

    def __init__(self, pil: Image.Image, source: str = "image"):
        self.pil = pil if pil.mode == "RGB" else pil.convert("RGB")
        self.source = source  # "image", "frame 1 of 40", "page 2, image 1"

    @property
    def size(self) -> tuple[int, int]:
        return self.pil.size

    @cached_property
    def array(self) -> np.ndarray:
        """H x W x 3 uint8, read-only (a detector must not change what the next one sees)."""
        arr = np.asarray(self.pil)
        arr.flags.writeable = False
        return arr

    @cached_property
    def small(self) -> Image.Image:
        """About 256-512 pixels on the long side, by integer box reduction (one pass)."""
        factor = max(1, max(self.pil.size) // 256)
        return self.pil.reduce(factor) if factor > 1 else self.pil


@dataclass
class DecodedMedia:
    kind: str
    pil_format: str
    width: int                      # of the primary image as stored (before orientation)
    height: int
    frames: int
    images: list[CanonicalImage]    # primary first; empty for a PDF without images
    metadata: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def mime(self) -> str:
        return (KINDS[self.kind].mimes or ("application/octet-stream",))[0]


def intake(data: bytes, *, file_name: str, declared_type: str | None, config: EngineConfig) -> DecodedMedia:
    """Check and decode untrusted bytes. Raises Unscannable; never anything else."""
    try:
        return _intake(data, file_name=file_name, declared_type=declared_type, config=config)
    except Unscannable:
        raise
    except Exception as exc:  # every failure becomes a reason, never an escaping exception
        raise Unscannable(explain(exc)) from exc


def _intake(data, *, file_name, declared_type, config) -> DecodedMedia:
    if not data:
        raise Unscannable("the file is empty (0 bytes)")
    if len(data) > config.max_file_bytes:
        raise Unscannable(f"the file is {len(data) / 2**20:.1f} MB; the limit is "
                          f"{config.max_file_bytes / 2**20:.0f} MB")
    kind = sniff(data)
    check_declared(kind, file_name=file_name, declared_type=declared_type)
    check_hidden_payload(data, kind)
    if kind == "pdf":
        from core.verification.pdf import intake_pdf

        return intake_pdf(data, config=config)
    if kind in ("video", "webm"):
        from core.verification.video import intake_video

        return intake_video(data, kind, config=config)
    return decode_raster(data, kind, config=config)


def decode_raster(data: bytes, kind: str, *, config: EngineConfig, where: str = "the image") -> DecodedMedia:
    from core.verification import metadata

    spec = KINDS[kind]
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        # MPO has no opener of its own: the JPEG opener returns it
        img = Image.open(io.BytesIO(data), formats=[f for f in spec.pil_formats if f in Image.OPEN])
        if img.format not in spec.pil_formats:
            raise Unscannable(f"the decoder read {where} as {img.format}, not {spec.label}")
        check_dimensions(*img.size, config=config, where=where)
        frames = int(getattr(img, "n_frames", 1))
        if frames > config.max_frames:
            raise Unscannable(f"{where} has {frames} frames; the limit is {config.max_frames}")
        img.load()
    width, height = img.size
    meta = metadata.collect(img)
    if (img.getexif().get(0x0112) or 1) in range(2, 9):
        img = ImageOps.exif_transpose(img)
    source = "first frame" if frames > 1 else "image"
    notes = [f"{frames} frames; the first was analysed"] if frames > 1 else []
    return DecodedMedia(kind=kind, pil_format=spec.pil_formats[0], width=width, height=height,
                        frames=frames, images=[CanonicalImage(img, source)], metadata=meta, notes=notes)


def check_dimensions(width: int, height: int, *, config: EngineConfig, where: str = "the image") -> None:
    if width <= 0 or height <= 0:
        raise Unscannable(f"{where} declares a width or height of zero")
    if width * height > config.max_pixels:
        raise Unscannable(
            f"{where} declares {width}×{height} pixels ({width * height / 1e6:,.0f} megapixels); the "
            f"limit is {config.max_pixels / 1e6:,.0f} megapixels: refused before decoding as a "
            f"possible decompression bomb")


def explain(exc: BaseException) -> str:
    """A plain sentence for whatever a decoder raised."""
    msg = str(exc).strip()
    low = msg.lower()
    if isinstance(exc, Image.DecompressionBombError | Image.DecompressionBombWarning):
        numbers = [int(n) for n in re.findall(r"\((\d+) pixels\)|limit of (\d+)", msg) for n in n if n]
        if numbers:
            return (f"the image declares {numbers[0] / 1e6:,.0f} megapixels, more than the scanner "
                    f"allows: refused before decoding as a possible decompression bomb")
        return f"refused before decoding as a possible decompression bomb ({msg[:160]})"
    if isinstance(exc, MemoryError):
        return "decoding needed more memory than the scanner allows; the file may be built to exhaust it"
    if "decompressed data too large" in low or "too much memory used in text chunks" in low:
        return "a metadata chunk decompresses to more than the allowed size (oversized metadata)"
    if isinstance(exc, UnidentifiedImageError):
        return "the image decoder does not recognise the content: it is damaged or disguised"
    if "truncated" in low or isinstance(exc, EOFError):
        return "the file is truncated: the image data ends early"
    if isinstance(exc, SyntaxError):
        return f"the image structure is damaged ({msg[:160]})"
    if isinstance(exc, OSError):
        return f"the image data is damaged and could not be decoded ({msg[:160]})"
    if type(exc).__module__.startswith("pypdf"):
        return f"the PDF is damaged or malformed ({msg[:160]})"
    return f"the file could not be decoded ({type(exc).__name__}: {msg[:160]})"
