"""Hostile files for the fault tests and the demo: every one must end `unscannable` with a reason,
and none may hurt the scanning process. Built from bytes, deterministic for a seed."""
from __future__ import annotations

import io
import struct
import zlib

import numpy as np

from core.verification.corpus import Sample, genuine_photo, natural_image, png


def png_chunk(ctype: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + ctype + data + struct.pack(">I", zlib.crc32(ctype + data))


def png_bytes(width: int, height: int, *, idat: bytes | None = None, extra: list[bytes] = (),
              bit_depth: int = 8, colour: int = 2) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, colour, 0, 0, 0)
    idat = idat if idat is not None else zlib.compress(b"\x00" * 64)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + b"".join(extra) + png_chunk(b"IDAT", idat)
            + png_chunk(b"IEND", b""))


def jpeg_with_size(data: bytes, width: int, height: int) -> bytes:
    buf = bytearray(data)
    sof = buf.find(b"\xff\xc0")
    struct.pack_into(">HH", buf, sof + 5, height, width)
    return bytes(buf)


def gif_frames(frames: int, screen: tuple[int, int] = (1, 1)) -> bytes:
    """A GIF of many 1x1 frames, written by hand (Pillow would merge identical frames)."""
    out = bytearray(b"GIF89a" + struct.pack("<HH", *screen) + b"\x80\x00\x00" + b"\x00\x00\x00\xff\xff\xff")
    out += b"\x21\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00"
    for _ in range(frames):
        out += b"\x21\xf9\x04\x04" + struct.pack("<H", 1) + b"\x00\x00"  # 10 ms, keep previous frame
        out += b"\x2c" + struct.pack("<HHHH", 0, 0, 1, 1) + b"\x00" + b"\x02\x02\x44\x01\x00"
    return bytes(out + b"\x3b")


def tiff_bytes(width: int, height: int) -> bytes:
    entries = [(256, 4, 1, width), (257, 4, 1, height), (258, 3, 1, 8), (259, 3, 1, 1), (262, 3, 1, 1),
               (273, 4, 1, 8 + 2 + 12 * 9 + 4), (277, 3, 1, 1), (278, 4, 1, height), (279, 4, 1, 16)]
    ifd = struct.pack("<H", len(entries)) + b"".join(
        struct.pack("<HHI", tag, typ, count) + (struct.pack("<HH", value, 0) if typ == 3 else struct.pack("<I", value))
        for tag, typ, count, value in entries) + b"\x00\x00\x00\x00"
    return b"II*\x00" + struct.pack("<I", 8) + ifd + b"\x00" * 16


def webp_canvas(width: int, height: int) -> bytes:
    vp8x = b"VP8X" + struct.pack("<I", 10) + b"\x00\x00\x00\x00" + (width - 1).to_bytes(3, "little") \
        + (height - 1).to_bytes(3, "little")
    body = b"WEBP" + vp8x + b"VP8L" + struct.pack("<I", 6) + b"\x2f\x00\x00\x00\x00\x00"
    return b"RIFF" + struct.pack("<I", len(body)) + body


def pdf_bytes(image_dict: str, stream: bytes) -> bytes:
    """A one-page PDF drawing one image XObject, with a correct cross-reference table."""
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Resources << /XObject << /Im0 4 0 R >> >> "
            b"/Contents 5 0 R >>",
            f"<< /Type /XObject /Subtype /Image {image_dict} /Length {len(stream)} >>\nstream\n".encode()
            + stream + b"\nendstream",
            b"<< /Length 29 >>\nstream\nq 200 0 0 200 0 0 cm /Im0 Do Q\nendstream"]
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for n, body in enumerate(objs, start=1):
        offsets.append(len(out))
        out += f"{n} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objs) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def pdf_with_jpeg(data: bytes, width: int, height: int) -> bytes:
    return pdf_bytes(f"/Width {width} /Height {height} /ColorSpace /DeviceRGB /BitsPerComponent 8 "
                     f"/Filter /DCTDecode", data)


def encrypted_pdf(seed: int) -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf_with_jpeg(genuine_photo(seed, (64, 48)), 64, 48))))
    writer.encrypt("secret-user-pw", algorithm="AES-128")
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def zip_bytes() -> bytes:
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("payload.txt", "not an image " * 20)
    return buf.getvalue()


def hostile_samples(seed: int = 7) -> list[Sample]:
    rng = np.random.default_rng(seed)
    rand = lambda n: rng.integers(0, 256, n, dtype=np.uint8).tobytes()
    photo = genuine_photo(seed, (320, 240))
    small = natural_image(seed + 1, (160, 120))
    a_png, a_gif = png(small), _gif(small)
    a_webp, a_tiff = _save(small, "WEBP"), _save(small, "TIFF")
    zipped = zip_bytes()
    zeros_50mb = zlib.compress(b"\x00" * (24 * 1024 * 1024), 9)
    text_900k = zlib.compress(b"A" * (900 * 1024), 9)
    h = []

    def add(name, data, note, declared=None):
        h.append(Sample(name, data, "hostile", "unscannable", declared, note))

    add("empty.jpg", b"", "zero bytes")
    add("empty.png", b"", "zero bytes", "image/png")
    add("empty_noext", b"", "zero bytes, no extension")
    for n in (1, 100, 10_000, 200_000):
        add(f"random_{n}.jpg", rand(n), f"{n} random bytes")
    add("random_noext", rand(4096), "random bytes, no extension")
    add("jpeg_magic_random.jpg", b"\xff\xd8\xff\xe0" + rand(5000), "JPEG magic then noise")
    add("png_magic_random.png", b"\x89PNG\r\n\x1a\n" + rand(5000), "PNG signature then noise")
    add("gif_magic_random.gif", b"GIF89a" + rand(5000), "GIF header then noise")
    add("tiff_magic_random.tif", b"II*\x00" + rand(5000), "TIFF header then noise")
    add("webp_magic_random.webp", b"RIFF\x00\x10\x00\x00WEBP" + rand(5000), "WebP header then noise")
    add("pdf_magic_random.pdf", b"%PDF-1.7\n" + rand(5000), "PDF header then noise")
    add("heic_magic_random.heic", b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + rand(5000),
        "HEIC brand then noise")
    for frac in (0.1, 0.5, 0.9):
        add(f"truncated_{int(frac * 100)}.jpg", photo[: int(len(photo) * frac)], f"JPEG cut at {frac:.0%}")
    add("truncated_50.png", a_png[: len(a_png) // 2], "PNG cut at 50%")
    add("png_signature_only.png", a_png[:8], "PNG signature alone")
    add("truncated.gif", a_gif[: len(a_gif) // 2], "GIF cut at 50%")
    add("truncated.webp", a_webp[: len(a_webp) // 2], "WebP cut at 50%")
    add("truncated.tif", a_tiff[: len(a_tiff) // 3], "TIFF cut at 33%")
    add("jpeg_header_only.jpg", photo[: photo.find(b"\xff\xda") + 2], "JPEG headers, no scan data")
    add("bomb_png_100k.png", png_bytes(100_000, 100_000), "PNG declaring 10 gigapixels")
    add("bomb_png_81mp.png", png_bytes(9_000, 9_000), "PNG just over the 80 MP limit")
    add("bomb_jpeg_65k.jpg", jpeg_with_size(photo, 65_000, 65_000), "JPEG SOF declaring 65000x65000")
    add("bomb_gif_screen.gif", gif_frames(1, (65_535, 65_535)), "GIF logical screen 65535x65535")
    add("bomb_tiff.tif", tiff_bytes(1_000_000, 1_000_000), "TIFF declaring a million square")
    add("bomb_webp_canvas.webp", webp_canvas(16_383, 16_383), "WebP canvas 16383x16383")
    add("zero_width.png", png_bytes(0, 100), "PNG of width zero")
    add("zero_size.jpg", jpeg_with_size(photo, 0, 0), "JPEG of size 0x0")
    add("png_bad_bitdepth.png", png_bytes(16, 16, bit_depth=3), "PNG with an impossible bit depth")
    add("png_bad_crc.png", a_png[:29] + b"\x00\x00\x00\x00" + a_png[33:], "PNG with a broken IHDR checksum")
    add("png_idat_garbage.png", png_bytes(64, 64, idat=rand(300)), "PNG whose pixel stream is noise")
    add("png_zip_appended.png", a_png + zipped, "PNG with a ZIP appended")
    add("jpeg_zip_appended.jpg", photo + zipped, "JPEG with a ZIP appended")
    add("png_trailing_junk.png", a_png + rand(2048), "PNG with data after IEND")
    add("png_as.jpg", a_png, "PNG named .jpg")
    add("jpeg_as.png", photo, "JPEG named .png")
    add("gif_as.webp", a_gif, "GIF named .webp")
    add("pdf_as.jpg", pdf_with_jpeg(photo, 320, 240), "PDF named .jpg")
    add("zip_as.png", zipped, "ZIP named .png")
    add("docx_as.jpg", zipped, "ZIP (Office) named .jpg", "image/jpeg")
    add("html_as.jpg", b"<!DOCTYPE html><html><script>alert(1)</script></html>", "HTML named .jpg")
    add("svg_script.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "SVG")
    add("exe_as.jpg", b"MZ\x90\x00" + rand(2000), "Windows executable named .jpg")
    add("elf_as.gif", b"\x7fELF\x02\x01\x01" + rand(2000), "Linux executable named .gif")
    add("text_as.jpg", b"hello, this is plain text and not an image\n" * 20, "text named .jpg")
    add("bmp.bmp", _save(small, "BMP"), "BMP: not on the allow-list")
    add("mp4_as.heic", b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + rand(1000), "MP4 named .heic")
    add("png_declared_jpeg.png", a_png, "PNG declared image/jpeg", "image/jpeg")
    add("jpeg_declared_zip.jpg", photo, "JPEG declared application/zip", "application/zip")
    add("gif_5000_frames.gif", gif_frames(5_000), "animated GIF with 5000 frames")
    add("ztxt_bomb.png", png_bytes(16, 16, extra=[png_chunk(b"zTXt", b"Comment\x00\x00" + zeros_50mb)]),
        "zTXt chunk inflating to 24 MB")
    add("itxt_bomb.png", png_bytes(16, 16, extra=[png_chunk(b"iTXt", b"parameters\x00\x01\x00\x00\x00"
                                                            + zeros_50mb)]), "compressed iTXt inflating to 24 MB")
    add("many_text_chunks.png", png_bytes(16, 16, extra=[png_chunk(b"zTXt", f"k{i}".encode() + b"\x00\x00"
                                                                   + text_900k) for i in range(12)]),
        "twelve text chunks of 900 KB each")
    add("pdf_bomb_image.pdf", pdf_bytes("/Width 100000 /Height 100000 /ColorSpace /DeviceRGB "
                                        "/BitsPerComponent 8 /Filter /FlateDecode", zlib.compress(b"\x00" * 1000)),
        "PDF embedding an image that declares 100000x100000")
    add("pdf_truncated_jpeg.pdf", pdf_with_jpeg(photo[: len(photo) // 3], 320, 240),
        "PDF embedding a truncated JPEG")
    add("pdf_fake_jpeg.pdf", pdf_with_jpeg(a_png, 160, 120), "PDF whose JPEG stream is a PNG")
    add("pdf_truncated.pdf", pdf_with_jpeg(photo, 320, 240)[:300], "PDF cut short")
    add("pdf_encrypted.pdf", encrypted_pdf(seed), "encrypted PDF")
    return h


def _save(img, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def _gif(img) -> bytes:
    return _save(img.convert("P", palette=1, colors=64), "GIF")
