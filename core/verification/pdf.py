"""PDFs are scanned through the images embedded in them. Each image's declared size is checked
before pypdf decodes it; JPEG streams go through the same raster intake as uploaded JPEGs."""
from __future__ import annotations

import io

from pypdf import PdfReader

from core.verification.config import EngineConfig
from core.verification.intake import CanonicalImage, DecodedMedia, Unscannable, check_dimensions, decode_raster, sniff


def intake_pdf(data: bytes, *, config: EngineConfig) -> DecodedMedia:
    reader = PdfReader(io.BytesIO(data), strict=False)
    if reader.is_encrypted:
        raise Unscannable("the PDF is encrypted, so its images cannot be checked")
    pages = len(reader.pages)
    images: list[CanonicalImage] = []
    metadata: dict = {"pdf_info": _info(reader)}
    total = 0
    for page_no, page in enumerate(reader.pages[: config.max_pdf_pages], start=1):
        for name, xobj in _image_xobjects(page):
            total += 1
            if len(images) >= config.max_images_per_file:
                continue
            where = f"embedded image {total} (page {page_no})"
            image, meta = _decode(page, name, xobj, where, config)
            images.append(CanonicalImage(image, f"page {page_no}, image {total}"))
            for key, value in meta.items():
                metadata.setdefault(key, value)
    notes = [f"PDF with {pages} pages and {total} embedded images"]
    if pages > config.max_pdf_pages:
        notes.append(f"only the first {config.max_pdf_pages} pages were checked")
    if total > len(images):
        notes.append(f"{len(images)} of {total} embedded images were analysed")
    first = images[0].size if images else (0, 0)
    return DecodedMedia(kind="pdf", pil_format="PDF", width=first[0], height=first[1], frames=pages,
                        images=images, metadata=metadata, notes=notes)


def _image_xobjects(page):
    resources = page.get("/Resources")
    xobjects = resources.get_object().get("/XObject") if resources is not None else None
    if xobjects is None:
        return []
    found = []
    for name, ref in xobjects.get_object().items():
        xobj = ref.get_object()
        if xobj.get("/Subtype") == "/Image":
            found.append((name, xobj))
    return found


def _decode(page, name, xobj, where: str, config: EngineConfig):
    check_dimensions(int(xobj.get("/Width", 0)), int(xobj.get("/Height", 0)), config=config, where=where)
    filters = xobj.get("/Filter")
    filters = [filters] if isinstance(filters, str) else list(filters or [])
    if filters and filters[-1] == "/DCTDecode":
        raw = xobj.get_data()
        if sniff(raw) != "jpeg":
            raise Unscannable(f"{where} says it is a JPEG but its data is not")
        media = decode_raster(raw, "jpeg", config=config, where=where)
        return media.images[0].pil, media.metadata
    image = page.images[name].image
    check_dimensions(*image.size, config=config, where=where)
    return image, {}


def _info(reader: PdfReader) -> dict:
    try:
        info = reader.metadata or {}
        return {str(k).lstrip("/"): str(v)[:500] for k, v in info.items()}
    except Exception:  # damaged /Info is not a reason to stop; the images still count
        return {}
