"""Generator metadata: what image generators write into the files they make.

Positive-only evidence: finding Stable Diffusion parameters or a ComfyUI workflow says a lot;
finding nothing says nothing (metadata is stripped by most uploads and every screenshot).
"""
from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING

from PIL import Image

from core.domain.scan import SignalRecord

if TYPE_CHECKING:
    from core.verification.detectors import DetectionContext
    from core.verification.intake import CanonicalImage

VERSION = "1"
# IPTC digital source types that mean "made by an algorithm" (also read in C2PA actions).
AI_SOURCE_TYPES = ("trainedAlgorithmicMedia", "compositeWithTrainedAlgorithmicMedia", "algorithmicMedia")
_DST = re.compile(r"digitalsourcetype/([A-Za-z]+)", re.IGNORECASE)
_SOFTWARE = re.compile(
    r"stable.?diffusion|automatic1111|comfyui|invokeai|novelai|midjourney|dall[-·. ]?e|firefly|"
    r"imagen|flux\.?1|fooocus|leonardo\.ai|ideogram|nightcafe|craiyon|dreamstudio|stability ai|"
    r"bing image creator|gpt-4o|sora", re.IGNORECASE)
_EXIF_TAGS = {0x010F: "Make", 0x0110: "Model", 0x0131: "Software", 0x013B: "Artist",
              0x010E: "ImageDescription"}
_EXIF_IFD_TAGS = {0x9286: "UserComment", 0x9003: "DateTimeOriginal"}
_MAX_VALUE = 4000  # characters kept per value: evidence, not an archive


def _looks_json_with(value: str, *keys: str) -> bool:
    try:
        parsed = json.loads(value)
    except ValueError:
        return False
    text = json.dumps(parsed)[:200_000]
    return any(k in text for k in keys)


# PNG text chunk (lower-cased key) -> (what wrote it, test on the value)
GENERATOR_CHUNKS = {
    "parameters": ("Stable Diffusion web UI (AUTOMATIC1111 / Forge) parameters",
                   lambda v: any(t in v for t in ("Steps:", "Sampler:", "CFG scale", "Negative prompt"))),
    "prompt": ("ComfyUI prompt graph", lambda v: _looks_json_with(v, "class_type", "inputs")),
    "workflow": ("ComfyUI workflow", lambda v: _looks_json_with(v, "nodes", "links")),
    "invokeai_metadata": ("InvokeAI metadata", lambda v: True),
    "invokeai_graph": ("InvokeAI graph", lambda v: True),
    "sd-metadata": ("InvokeAI (legacy) metadata", lambda v: True),
    "dream": ("InvokeAI dream command", lambda v: True),
    "generation_data": ("generation data", lambda v: True),
    "fooocus_scheme": ("Fooocus", lambda v: True),
}


def collect(img: Image.Image) -> dict:
    """Raw metadata worth keeping, read from an opened (and loaded) Pillow image."""
    out: dict = {"text": {}, "exif": {}}
    for key, value in img.info.items():
        if isinstance(value, str) and key not in ("xmp",):
            out["text"][str(key)[:80]] = value[:200_000]
    exif = img.getexif()
    for tag, name in _EXIF_TAGS.items():
        if tag in exif:
            out["exif"][name] = _text(exif[tag])
    try:
        ifd = exif.get_ifd(0x8769)
    except Exception:  # a damaged EXIF block is not a reason to refuse the image
        ifd = {}
    for tag, name in _EXIF_IFD_TAGS.items():
        if tag in ifd:
            out["exif"][name] = _text(ifd[tag])
    xmp = img.info.get("xmp") or img.info.get("XML:com.adobe.xmp")
    if xmp:
        out["xmp"] = _text(xmp)[:500_000]
    photoshop = img.info.get("photoshop")
    if isinstance(photoshop, dict) and isinstance(photoshop.get(0x0404), bytes):
        out["iptc"] = photoshop[0x0404].decode("latin-1")[:200_000]
    return out


def _text(value) -> str:
    if isinstance(value, bytes):
        if value.startswith(b"UNICODE\x00"):
            body = value[8:]
            be, le = body.decode("utf-16-be", "replace"), body.decode("utf-16-le", "replace")
            return be if sum(c.isascii() for c in be) >= sum(c.isascii() for c in le) else le
        if value[:8] in (b"ASCII\x00\x00\x00", b"\x00" * 8):
            value = value[8:]
        return value.decode("utf-8", "replace").strip("\x00")
    return str(value)


def findings(meta: dict) -> tuple[str, dict]:
    """(label, evidence): generator_parameters > ai_source_declared > generator_software > none."""
    evidence: dict = {}
    text = {k.lower(): v for k, v in meta.get("text", {}).items()}
    chunks = {k: desc for k, (desc, test) in GENERATOR_CHUNKS.items() if k in text and test(text[k])}
    comment = meta.get("exif", {}).get("UserComment", "")
    if "Steps:" in comment and ("Sampler:" in comment or "CFG scale" in comment):
        chunks["exif:UserComment"] = "Stable Diffusion parameters in EXIF UserComment"
    if chunks:
        evidence["generator_fields"] = chunks
        evidence["excerpt"] = {k: (text.get(k) or comment)[:300] for k in chunks}
    sources = sorted({m for field in ("xmp", "iptc") for m in _DST.findall(meta.get(field, ""))}
                     | {m for v in text.values() for m in _DST.findall(v)})
    ai_sources = [s for s in sources if s in AI_SOURCE_TYPES]
    if sources:
        evidence["digital_source_types"] = sources
    software = [f"{where}: {v[:200]}" for where, v in _software_fields(meta) if _SOFTWARE.search(v)]
    if software:
        evidence["generator_software"] = software
    if chunks:
        return "generator_parameters", evidence
    if ai_sources:
        return "ai_source_declared", evidence
    if software:
        return "generator_software", evidence
    return "none", evidence


def _software_fields(meta: dict):
    for name in ("Software", "Make", "Model", "Artist", "ImageDescription"):
        if meta.get("exif", {}).get(name):
            yield f"EXIF {name}", meta["exif"][name]
    for key, value in meta.get("text", {}).items():
        if key.lower() in ("software", "source", "comment", "description", "author", "creator"):
            yield f"PNG text {key}", value
    for key, value in meta.get("pdf_info", {}).items():
        if key in ("Producer", "Creator"):
            yield f"PDF {key}", value
    for match in re.finditer(r"(?:xmp:CreatorTool|CreatorTool)[=>\"]+([^<\"]{1,200})", meta.get("xmp", "")):
        yield "XMP CreatorTool", match.group(1)


class GeneratorMetadataDetector:
    name = "generator_metadata"
    version = VERSION

    def __init__(self, settings=None):
        self.settings = settings

    def detect(self, image_rgb: CanonicalImage | None, context: DetectionContext) -> SignalRecord:
        label, evidence = findings(context.media.metadata)
        return SignalRecord(self.name, self.version, None, label, evidence)
