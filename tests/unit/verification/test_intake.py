"""Intake rules, run in-process for speed (the sandbox is covered in tests/faults)."""
from __future__ import annotations

import io

import pytest
from PIL import Image

from core.verification import corpus, hostile
from core.verification.config import EngineConfig
from core.verification.intake import Unscannable, check_declared, intake, sniff

CONFIG = EngineConfig()


def test_sniff_reads_content_not_names():
    assert sniff(corpus.genuine_photo(1, (64, 48))) == "jpeg"
    assert sniff(hostile.zip_bytes()) == "zip"
    assert sniff(b"<svg xmlns='x'></svg>") == "svg"
    assert sniff(b"\x00\x00\x00\x18ftypheic....") == "heic"


def test_declared_type_and_extension_must_agree_with_content():
    check_declared("png", file_name="a.png", declared_type="image/png")
    check_declared("jpeg", file_name="upload", declared_type="application/octet-stream")
    with pytest.raises(Unscannable, match="declared image/png but the content is a ZIP archive"):
        check_declared("zip", file_name="a.png", declared_type="image/png")
    with pytest.raises(Unscannable, match="named 'a.docx' but the content is a PNG image"):
        check_declared("png", file_name="a.docx", declared_type=None)


def test_exif_orientation_is_applied_before_detectors_see_pixels():
    data = corpus.genuine_photo(3, (64, 48), orientation=6)
    media = intake(data, file_name="p.jpg", declared_type="image/jpeg", config=CONFIG)
    assert (media.width, media.height) == (64, 48)
    assert media.images[0].size == (48, 64)
    assert media.images[0].array.shape == (64, 48, 3) and not media.images[0].array.flags.writeable


def test_canonical_pixels_are_rgb_whatever_the_source_mode():
    img = Image.new("RGBA", (40, 30), (10, 20, 30, 128))
    media = intake(corpus.png(img), file_name="a.png", declared_type=None, config=CONFIG)
    assert media.images[0].pil.mode == "RGB"


def test_pdf_is_scanned_through_its_embedded_images():
    photo = corpus.genuine_photo(4, (120, 90))
    media = intake(hostile.pdf_with_jpeg(photo, 120, 90), file_name="scan.pdf",
                   declared_type="application/pdf", config=CONFIG)
    assert media.kind == "pdf" and len(media.images) == 1 and media.images[0].size == (120, 90)


def test_limits_come_from_the_configuration():
    small = EngineConfig(max_pixels=1000, max_file_bytes=10_000, max_frames=3)
    with pytest.raises(Unscannable, match="declares 64×48 pixels"):
        intake(corpus.genuine_photo(5, (64, 48)), file_name="a.jpg", declared_type=None, config=small)
    with pytest.raises(Unscannable, match="the limit is 0 MB|the limit is"):
        intake(b"\xff\xd8\xff" + b"\x00" * 20_000, file_name="a.jpg", declared_type=None, config=small)
    with pytest.raises(Unscannable, match="4 frames; the limit is 3"):
        intake(hostile.gif_frames(4), file_name="a.gif", declared_type=None, config=small)


def test_decoding_failures_never_escape_as_exceptions():
    for data in (b"\xff\xd8\xff\xe0garbage", b"GIF89a\x01\x00", hostile.png_bytes(8, 8, idat=b"xx")):
        with pytest.raises(Unscannable) as err:
            intake(data, file_name="f", declared_type=None, config=CONFIG)
        assert err.value.reason and "Traceback" not in err.value.reason


def test_multi_frame_images_analyse_the_first_frame_and_say_so():
    frames = [Image.new("RGB", (32, 32), (i * 40, 0, 0)) for i in range(3)]
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:])
    media = intake(buf.getvalue(), file_name="a.gif", declared_type="image/gif", config=CONFIG)
    assert media.frames == 3 and media.notes == ["3 frames; the first was analysed"]
