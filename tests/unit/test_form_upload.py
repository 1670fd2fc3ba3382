"""Reading the file of a multipart form as it streams: however the body is cut into chunks, the file
lands whole in the store with its name and type; other parts are dropped; malformed forms, a second
file and a file over the limit are refused and leave nothing behind."""
from __future__ import annotations

import pytest

from core.adapters.form_upload import BadUpload, read_upload
from core.adapters.media import MediaStore, TooLarge

BOUNDARY = "xYzBoundary"
CONTENT_TYPE = f"multipart/form-data; boundary={BOUNDARY}"


def part(name: str, data: bytes, file_name: str | None = None, mime: str | None = None) -> bytes:
    disposition = f'form-data; name="{name}"' + (f'; filename="{file_name}"' if file_name else "")
    head = f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n" + (f"Content-Type: {mime}\r\n" if mime else "")
    return head.encode() + b"\r\n" + data + b"\r\n"


def form(*parts: bytes) -> bytes:
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


def cut(body: bytes, size: int):
    return (body[i:i + size] for i in range(0, len(body), size))


def stored_files(store: MediaStore) -> list:
    return [p for p in store.root.rglob("*") if p.is_file()]


# The file holds the boundary's prefix and CRLFs, so a chunk edge falls inside near-boundaries.
PAYLOAD = b"\xff\xd8\xff" + (b"\r\n--xYz" + bytes(range(256))) * 40


@pytest.mark.parametrize("chunk", [1, 7, 4096, 1 << 20])
def test_the_file_part_lands_whole_whatever_the_chunking(tmp_path, chunk):
    store = MediaStore(tmp_path)
    body = form(part("note", b"ignored"), part("file", PAYLOAD, "sign\u00e9.jpg", "image/jpeg"))
    upload = read_upload(cut(body, chunk), CONTENT_TYPE, store, max_file_bytes=len(PAYLOAD))
    assert upload.stored.path.read_bytes() == PAYLOAD and upload.stored.size == len(PAYLOAD)
    assert (upload.file_name, upload.content_type) == ("sign\u00e9.jpg", "image/jpeg")
    assert stored_files(store) == [upload.stored.path]


@pytest.mark.parametrize("body, problem", [
    (form(part("note", b"no file here")), "part named 'file'"),
    (form(part("file", b"a", "a.jpg"), part("file", b"b", "b.jpg")), "one file per request"),
    (form(part("file", PAYLOAD, "a.jpg"))[:-30], "ended before its closing boundary"),
])
def test_malformed_forms_are_refused_and_nothing_is_kept(tmp_path, body, problem):
    store = MediaStore(tmp_path)
    with pytest.raises(BadUpload, match=problem):
        read_upload(cut(body, 100), CONTENT_TYPE, store, max_file_bytes=1 << 20)
    assert stored_files(store) == []


def test_a_file_over_the_limit_stops_the_read_and_leaves_nothing(tmp_path):
    store = MediaStore(tmp_path)
    chunks_read = []

    def body():
        for piece in cut(form(part("file", PAYLOAD, "a.jpg")), 1000):
            chunks_read.append(piece)
            yield piece

    with pytest.raises(TooLarge):
        read_upload(body(), CONTENT_TYPE, store, max_file_bytes=2000)
    assert len(chunks_read) < len(PAYLOAD) // 1000 and stored_files(store) == []


def test_a_body_that_is_not_a_multipart_form_is_refused(tmp_path):
    with pytest.raises(BadUpload, match="boundary"):
        read_upload([b"{}"], "application/json", MediaStore(tmp_path), max_file_bytes=10)
