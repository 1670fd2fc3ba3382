"""The file of a multipart/form-data request, read as it streams straight into the media store.

Nothing is spooled: each chunk of the body is parsed (python-multipart's streaming parser) and the
bytes of the part named `file` are written, hashed and counted by the store as they arrive, so a
request holds one chunk in memory and stops at the size limit. Other parts are read and dropped."""
from __future__ import annotations

from collections.abc import Iterable
from contextlib import ExitStack
from dataclasses import dataclass

from python_multipart import MultipartParser
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import parse_options_header

from core.adapters.media import Incoming, MediaStore, StoredFile

FILE_PART = "file"


class BadUpload(ValueError):
    """The request is not a multipart form carrying one file in a part named `file`."""


@dataclass(frozen=True)
class Upload:
    stored: StoredFile
    file_name: str
    content_type: str | None


class _Form:
    """Parser callbacks: headers of each part, and the file part's bytes into the store."""

    def __init__(self, store: MediaStore, max_file_bytes: int, stack: ExitStack):
        self.store, self.max_file_bytes, self.stack = store, max_file_bytes, stack
        self.field, self.value, self.headers = bytearray(), bytearray(), {}
        self.incoming: Incoming | None = None  # the file part being read
        self.received: Incoming | None = None  # the file part, complete
        self.file_name, self.content_type, self.ended = "upload", None, False

    def callbacks(self) -> dict:
        return {"on_part_begin": self.headers.clear, "on_header_field": self._field,
                "on_header_value": self._value, "on_header_end": self._header_end,
                "on_headers_finished": self._headers_finished, "on_part_data": self._data,
                "on_part_end": self._part_end, "on_end": self._end}

    def _field(self, data: bytes, start: int, end: int) -> None:
        self.field += data[start:end]

    def _value(self, data: bytes, start: int, end: int) -> None:
        self.value += data[start:end]

    def _header_end(self) -> None:
        self.headers[bytes(self.field).lower()] = bytes(self.value)
        self.field, self.value = bytearray(), bytearray()

    def _headers_finished(self) -> None:
        _, options = parse_options_header(self.headers.get(b"content-disposition"))
        if options.get(b"name", b"").decode("latin-1") != FILE_PART:
            return
        if self.received is not None or self.incoming is not None:
            raise BadUpload("send one file per request")
        self.incoming = self.stack.enter_context(self.store.receive(self.max_file_bytes))
        self.file_name = options.get(b"filename", b"upload").decode("utf-8", "replace") or "upload"
        content_type = self.headers.get(b"content-type", b"").decode("latin-1").strip()
        self.content_type = content_type or None

    def _data(self, data: bytes, start: int, end: int) -> None:
        if self.incoming is not None:
            self.incoming.write(data[start:end])

    def _part_end(self) -> None:
        if self.incoming is not None:
            self.received, self.incoming = self.incoming, None

    def _end(self) -> None:
        self.ended = True


def read_upload(body: Iterable[bytes], content_type: str, store: MediaStore, max_file_bytes: int) -> Upload:
    """Keep the request's file in the store (TooLarge past `max_file_bytes`, BadUpload if malformed)."""
    kind, options = parse_options_header(content_type)
    if kind != b"multipart/form-data" or not options.get(b"boundary"):
        raise BadUpload("send the file as multipart/form-data with a boundary")
    with ExitStack() as stack:
        form = _Form(store, max_file_bytes, stack)
        try:
            parser = MultipartParser(options[b"boundary"], form.callbacks())
            for chunk in body:
                parser.write(chunk)
        except FormParserError as exc:
            raise BadUpload(f"the multipart body is malformed: {exc}") from None
        if not form.ended:
            raise BadUpload("the multipart body ended before its closing boundary")
        if form.received is None:
            raise BadUpload(f"multipart requests carry the file in a part named {FILE_PART!r}")
        # Kept only once the whole form is read: a refused request leaves nothing in the store.
        return Upload(store.keep(form.received), form.file_name, form.content_type)
